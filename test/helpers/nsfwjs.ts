/**
 * A real, foreign pretrained checkpoint for tests: the Keras-applications MobileNetV2 (α 1.0, 224×224, Keras
 * 2.2.4, ImageNet-initialised, then trained by nsfwjs on its own 5 classes) that the `nsfwjs` devDependency
 * ships as two UMD JS modules: `model.min.js` exports `{ modelTopology, weightsManifest }` and
 * `group1-shard1of1.min.js` exports the weight shard as one base64 string (uint8-quantised weights).
 * `writeNsfwjsModelFolder` turns them into the ordinary tfjs layers folder (model.json + .bin) a user would give
 * to `--model.pretrained`.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface NsfwjsCheckpoint {
  modelTopology: Record<string, unknown>;
  weightsManifest: tf.io.WeightsManifestConfig;
  /** The decoded shard. */
  weights: Uint8Array;
}

const SHARD = 'group1-shard1of1.bin';

/** Why the checkpoint can't be read (the package is absent), or undefined when it can. */
export let nsfwjsMissing: string | undefined;

let cached: NsfwjsCheckpoint | undefined;

/** The checkpoint, read in place from node_modules; undefined (and `nsfwjsMissing` set) when nsfwjs is absent. */
export function nsfwjsMobileNetV2(): NsfwjsCheckpoint | undefined {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    // The package's `exports` hide dist/models, so resolve its main entry and read the files by path.
    let root = dirname(require.resolve('nsfwjs'));
    const isRoot = (d: string) => existsSync(join(d, 'package.json')) && (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string }).name === 'nsfwjs';
    while (!isRoot(root) && dirname(root) !== root) root = dirname(root);
    const dir = join(root, 'dist', 'models', 'mobilenet_v2');
    const model = require(join(dir, 'model.min.js')) as Omit<NsfwjsCheckpoint, 'weights'>;
    const shard = require(join(dir, 'group1-shard1of1.min.js')) as string;
    cached = { modelTopology: model.modelTopology, weightsManifest: model.weightsManifest, weights: new Uint8Array(Buffer.from(shard, 'base64')) };
    return cached;
  } catch (err) {
    nsfwjsMissing = `the nsfwjs devDependency is not installed (npm ci installs it): ${(err as Error).message.split('\n')[0]}`;
    return undefined;
  }
}

/** Writes the checkpoint as `dir/model.json` + `dir/group1-shard1of1.bin`; `edit` may rewrite model.json's text first. */
export async function writeNsfwjsModelFolder(ckpt: NsfwjsCheckpoint, dir: string, edit: (json: string) => string = (s) => s): Promise<{ modelJson: Buffer; weights: Buffer }> {
  await mkdir(dir, { recursive: true });
  const weightsManifest = ckpt.weightsManifest.map((g) => ({ ...g, paths: [SHARD] }));
  const modelJson = Buffer.from(edit(JSON.stringify({ format: 'layers-model', modelTopology: ckpt.modelTopology, weightsManifest })));
  const weights = Buffer.from(ckpt.weights);
  await writeFile(join(dir, 'model.json'), modelJson);
  await writeFile(join(dir, SHARD), weights);
  return { modelJson, weights };
}

/** The original model as nsfwjs runs it, loaded straight from memory by tfjs (no flash code involved). */
export async function loadNsfwjsOriginal(ckpt: NsfwjsCheckpoint): Promise<tf.LayersModel> {
  const weightSpecs = ckpt.weightsManifest.flatMap((g) => g.weights);
  const data = ckpt.weights.buffer.slice(ckpt.weights.byteOffset, ckpt.weights.byteOffset + ckpt.weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: ckpt.modelTopology, weightSpecs, weightData: data }));
}

/**
 * nsfwjs's `mobilenet_v2_mid`: a tfjs **graph** model (a frozen TensorFlow graph converted by tfjs-converter:
 * a TF Hub MobileNetV2 feature-vector layer under a dense head; 224×224×3 inputs), the format of TF Hub / Kaggle
 * image feature-vector models. Written as `dir/model.json` + its two shards; false when nsfwjs is absent.
 */
export async function writeNsfwjsGraphModelFolder(dir: string): Promise<boolean> {
  const require = createRequire(import.meta.url);
  let modelDir: string;
  try {
    let root = dirname(require.resolve('nsfwjs'));
    while (!existsSync(join(root, 'dist', 'models', 'mobilenet_v2_mid')) && dirname(root) !== root) root = dirname(root);
    modelDir = join(root, 'dist', 'models', 'mobilenet_v2_mid');
    if (!existsSync(modelDir)) return false;
  } catch {
    return false;
  }
  const model = require(join(modelDir, 'model.min.js')) as tf.io.ModelJSON;
  await mkdir(dir, { recursive: true });
  for (const group of model.weightsManifest) {
    for (const p of group.paths) await writeFile(join(dir, p), Buffer.from(require(join(modelDir, `${p}.min.js`)) as string, 'base64'));
  }
  await writeFile(join(dir, 'model.json'), JSON.stringify(model));
  return true;
}
