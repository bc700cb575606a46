import * as tf from '@tensorflow/tfjs';

/** A tensor with a name, as optimizers' getWeights/setWeights use (tfjs does not re-export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Loads a model saved by `saveLayersModel` (or any tfjs layers model folder) without a file:// handler. */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = dir.endsWith('.json') ? dir : join(dir, 'model.json');
  const base = jsonPath.slice(0, jsonPath.length - 'model.json'.length) || '.';
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`no model found: '${jsonPath}' does not exist`);
    throw new FlashUserError(`cannot read model '${jsonPath}': ${(err as Error).message}`);
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Uint8Array[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const file = join(base, p);
        try {
          buffers.push(await readFile(file));
        } catch {
          throw new FlashUserError(`model '${jsonPath}' refers to missing weights file '${file}'`);
        }
      }
    }
    const joined = joinWeightData(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
    return [specs, joined.buffer as ArrayBuffer];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** Encodes named tensors (optimizer state) as a JSON manifest + binary buffer. */
export async function encodeTensors(named: NamedTensor[]): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  return { specs, data: joinWeightData(data) };
}

/** Inverse of `encodeTensors`. The caller owns (and disposes) the returned tensors. */
export function decodeTensors(specs: tf.io.WeightsManifestEntry[], data: Uint8Array): NamedTensor[] {
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buf, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
