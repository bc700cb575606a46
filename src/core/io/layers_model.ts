import * as tf from '@tensorflow/tfjs';

/** A tensor with a name, as optimizers' getWeights/setWeights use (tfjs does not re-export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FlashUserError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';

/** Joins tfjs weight data (one buffer, or several shards) into one buffer. */
function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Saves a LayersModel as `model.json` + one weights file in `dir`, the layout `tf.loadLayersModel` reads from a
 * URL. The weights file is named by its content hash and written before model.json, so model.json (renamed into
 * place last) always points at a complete weights file; stale weight files are removed afterwards.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeightData(artifacts.weightData);
      const hash = createHash('sha256').update(weights).digest('hex').slice(0, 12);
      const weightsName = `weights.${hash}.bin`;
      await writeFileAtomic(join(dir, weightsName), weights);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeJsonAtomic(join(dir, 'model.json'), modelJson);
      for (const f of await readdir(dir)) {
        if (/^weights\.[0-9a-f]+\.bin$/.test(f) && f !== weightsName) await rm(join(dir, f), { force: true });
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function readModelJson(dir: string): Promise<{ jsonPath: string; base: string; modelJson: tf.io.ModelJSON }> {
  const jsonPath = dir.endsWith('.json') ? dir : join(dir, 'model.json');
  const base = jsonPath.slice(0, jsonPath.length - 'model.json'.length) || '.';
  try {
    const modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
    return { jsonPath, base, modelJson };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`no model found: '${jsonPath}' does not exist`);
    throw new FlashUserError(`cannot read model '${jsonPath}': ${(err as Error).message}`);
  }
}

/**
 * Reads every weights file a manifest names and checks them before anything decodes them: their total size
 * against the manifest, and each `weights.<sha256 prefix>.bin` against its name.
 */
async function readVerifiedWeights(
  jsonPath: string,
  base: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; buffers: Uint8Array[] }> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  const files: string[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(base, p);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch {
        throw new FlashUserError(`model '${jsonPath}' refers to missing weights file '${file}'`);
      }
      buffers.push(bytes);
      files.push(file);
    }
  }
  // Size first: "truncated" says more than "checksum mismatch" about a half-copied file.
  verifySize(files, buffers.reduce((n, b) => n + b.byteLength, 0), specs, `model '${jsonPath}'`);
  files.forEach((file, i) => verifyHashedName(file, buffers[i]));
  return { specs, buffers };
}

/**
 * Checks a saved model's files (model.json readable, weights complete and matching their hash) without building
 * the model: for commands that copy a model (export) rather than load it.
 */
export async function verifyLayersModelFiles(dir: string): Promise<void> {
  const { jsonPath, base, modelJson } = await readModelJson(dir);
  if (!Array.isArray(modelJson.weightsManifest)) throw new FlashUserError(`cannot read model '${jsonPath}': it has no weightsManifest`);
  await readVerifiedWeights(jsonPath, base, modelJson.weightsManifest);
}

/**
 * Loads a model saved by `saveLayersModel` (or any tfjs layers model folder) without a file:// handler. Damaged
 * weights (wrong size, or not matching the hash in their name) are a user error naming the file.
 */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const { jsonPath, base, modelJson } = await readModelJson(dir);
  if (isGraphModelJson(modelJson)) {
    // tfjs would fail deep inside its Keras deserialiser; say what the file is and what flash needs instead.
    throw new FlashUserError(
      `'${jsonPath}' is a tfjs graph model (a frozen TensorFlow graph, the format of TF Hub and Kaggle models), not a layers model: flash loads, trains and copies weights by layer name only from tfjs layers models (format layers-model, e.g. a Keras model converted with tensorflowjs_converter --output_format tfjs_layers_model)`,
    );
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const { specs, buffers } = await readVerifiedWeights(jsonPath, base, manifest);
    const joined = joinWeightData(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
    return [specs, joined.buffer as ArrayBuffer];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** A graph model's model.json: `format: graph-model`, or a GraphDef topology (a `node` list, no Keras class). */
export function isGraphModelJson(modelJson: tf.io.ModelJSON): boolean {
  const topology = modelJson.modelTopology as { node?: unknown; class_name?: unknown; model_config?: unknown } | undefined;
  return modelJson.format === 'graph-model' || (Array.isArray(topology?.node) && topology?.class_name === undefined && topology?.model_config === undefined);
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weights manifest says its data holds, or undefined when it can't be known (string tensors). */
export function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    const bytes = DTYPE_BYTES[dtype];
    if (bytes === undefined) return undefined;
    total += s.shape.reduce((n, d) => n * d, 1) * bytes;
  }
  return total;
}

const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * A weights file named `weights.<sha256 prefix>.bin` (as saveLayersModel names them) must hash to its name:
 * a flipped byte would otherwise load silently and predict NaN or nonsense.
 */
function verifyHashedName(file: string, bytes: Uint8Array): void {
  const m = /^weights\.([0-9a-f]{8,64})\.bin$/.exec(basename(file));
  if (m && !sha256Hex(bytes).startsWith(m[1])) {
    throw new FlashUserError(`weights file '${file}' is corrupt: its sha256 does not match the one it was saved with (restore it from a backup or retrain)`);
  }
}

/** The data must be exactly as long as the manifest says, or decoding reads past it (or misreads it). */
function verifySize(files: string[], actual: number, specs: tf.io.WeightsManifestEntry[], owner: string): void {
  const expected = manifestBytes(specs);
  if (expected === undefined || expected === actual) return;
  const named = files.length === 1 ? `weights file '${files[0]}'` : `weights files ${files.map((f) => `'${f}'`).join(', ')}`;
  throw new FlashUserError(
    `${named} ${actual < expected ? 'is truncated' : 'is damaged'}: ${actual} bytes, but ${owner} needs ${expected} (restore it from a backup or retrain)`,
  );
}

/**
 * Checks tensor data read back from `file` against its manifest (and its sha256, when one was recorded), with
 * one user error naming the file; `decodeTensors` alone would throw a RangeError or decode garbage.
 */
export function verifyTensorData(file: string, specs: tf.io.WeightsManifestEntry[], data: Uint8Array, sha256?: string): void {
  verifySize([file], data.byteLength, specs, 'its manifest');
  if (sha256 !== undefined && sha256Hex(data) !== sha256) {
    throw new FlashUserError(`'${file}' is corrupt: its sha256 does not match the one it was saved with (restore it from a backup or retrain)`);
  }
}

/** Encodes named tensors (optimizer state) as a JSON manifest + binary buffer. */
export async function encodeTensors(named: NamedTensor[]): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array; sha256: string }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  const joined = joinWeightData(data);
  return { specs, data: joined, sha256: sha256Hex(joined) };
}

/** Inverse of `encodeTensors`. The caller owns (and disposes) the returned tensors. */
export function decodeTensors(specs: tf.io.WeightsManifestEntry[], data: Uint8Array): NamedTensor[] {
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buf, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
