import * as tf from '@tensorflow/tfjs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FlashUserError } from '../src/core/errors.js';
import { loadLayersModel } from '../src/core/io/layers_model.js';
import { defaultLayerGroups } from './groups.js';
import { backbones } from './index.js';
import type { BackboneSpec, Normalization } from './types.js';

/** True when a `--model.backbone` value names a path (a run folder or a model.json) rather than a registered name. */
export function looksLikePath(value: string): boolean {
  return /[\\/]/.test(value) || value.endsWith('.json') || value === '.' || value === '..';
}

/** The 'normalize' layer's mean/std (weight 1/std, bias −mean/std), or unit normalisation when there is none. */
function normalizationOf(net: tf.LayersModel, channels: number): Normalization {
  const layer = net.layers.find((l) => l.name === 'normalize');
  if (!layer) return { mean: [0], std: [1] };
  const [w, b] = layer.getWeights().map((t) => Array.from(t.dataSync()));
  const std = w.map((v) => 1 / v);
  const mean = b.map((v, c) => -v * std[c]);
  return { mean: mean.slice(0, channels), std: std.slice(0, channels) };
}

/** A `{ model, numFeatures }` pair: any LayersModel mapping an image batch to [batch, numFeatures] features. */
export interface UserBackbone {
  model: tf.LayersModel;
  numFeatures: number;
  /** Normalisation applied (after scaling pixels to 0–1) before the model; default none. */
  normalization?: Normalization;
}

function checkFeatures(model: tf.LayersModel, numFeatures: number | undefined, what: string): number {
  const shape = model.outputs[0].shape;
  if (shape.length !== 2) {
    throw new FlashUserError(`${what} outputs shape [${shape.join(', ')}]; a backbone must output [batch, features] (add global pooling or flatten)`);
  }
  const n = shape[1] as number;
  if (numFeatures !== undefined && numFeatures !== n) throw new FlashUserError(`${what} outputs ${n} features, not the ${numFeatures} given`);
  return n;
}

function inputOf(model: tf.LayersModel, what: string): [number, number, number] {
  const s = model.inputs[0].shape;
  if (s.length !== 4 || s.slice(1).some((v) => v == null) || ![1, 3].includes(s[3] as number)) {
    throw new FlashUserError(`${what} takes input [${s.join(', ')}]; a backbone needs a fixed [batch, height, width, 1 or 3] image input`);
  }
  return [s[1] as number, s[2] as number, s[3] as number];
}

/**
 * A spec around an existing feature extractor (Flash's `backbone=(module, num_features)`): `build` returns that
 * very model, so the classifier shares its weights. Its input size and channels are fixed, and the default
 * finetuning strategy is `freeze`.
 */
export function backboneFromModel(pair: UserBackbone, description = 'user-built backbone'): BackboneSpec & { numFeatures: number } {
  const { model } = pair;
  const numFeatures = checkFeatures(model, pair.numFeatures, description);
  const fixedInput = inputOf(model, description);
  // The classifier nests the backbone as the layer named 'backbone' (feature caching, reuse and freezing find it so).
  (model as unknown as { name: string }).name = 'backbone';
  for (const layer of model.layers) if (layer.weights.length > 0) layer.trainable = true;
  return {
    description,
    defaultImageSize: fixedInput[0],
    normalization: pair.normalization ?? { mean: [0], std: [1] },
    build: () => model,
    trained: true,
    fixedInput,
    numFeatures,
  };
}

/** A saved flash model's backbone, ready to be put under a new head. */
export type LoadedBackbone = BackboneSpec & { numFeatures: number; source: string };

/**
 * Loads the feature extractor of a model flash saved (`runs/A`, or a path to its model.json): the nested
 * 'backbone' sub-model, with the input size, channels and normalisation the model was trained with; the head is
 * dropped. `new ImageClassifier({ backbone: await loadBackbone('runs/A'), numClasses })` puts a new head on it.
 */
export async function loadBackbone(path: string): Promise<LoadedBackbone> {
  const isJson = path.endsWith('.json');
  const dir = isJson ? dirname(path) : path;
  const jsonPath = isJson ? path : join(path, 'model.json');
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new FlashUserError(`backbone '${path}': no such run folder or model.json (give a registered backbone name or a flash run folder)`);
  const net = await loadLayersModel(jsonPath);
  let backbone: tf.LayersModel;
  try {
    backbone = net.getLayer('backbone') as unknown as tf.LayersModel;
  } catch {
    net.dispose();
    throw new FlashUserError(`'${jsonPath}' has no 'backbone' layer: only an image classifier saved by flash can be used as a backbone`);
  }
  if (!Array.isArray((backbone as tf.LayersModel).layers)) {
    net.dispose();
    throw new FlashUserError(`'${jsonPath}': its 'backbone' layer is not a sub-model`);
  }
  const [, h, w, c] = net.inputs[0].shape as number[];
  const normalization = normalizationOf(net, c);
  // The family's layer groups when flash.json names a registered backbone.
  let family: string | undefined;
  try {
    const meta = JSON.parse(await readFile(join(dir, 'flash.json'), 'utf8')) as { backbone?: string };
    family = meta.backbone;
  } catch {
    family = undefined;
  }
  const familySpec = family && backbones.has(family) ? backbones.get(family) : undefined;
  // Free the old head's weights; only the backbone is kept.
  for (const layer of net.layers) {
    if (layer === (backbone as unknown as tf.layers.Layer) || layer.weights.length === 0) continue;
    tf.dispose(layer.weights.map((v) => v.read()));
  }
  const spec = backboneFromModel({ model: backbone, numFeatures: checkFeatures(backbone, undefined, `backbone of '${jsonPath}'`), normalization }, '');
  const source = path;
  return {
    ...spec,
    fixedInput: [h, w, c],
    defaultImageSize: h,
    description: `saved flash backbone from ${source}${family ? ` (${family})` : ''}, ${h}×${w}×${c}, ${spec.numFeatures} features`,
    layerGroups: familySpec?.layerGroups ?? defaultLayerGroups,
    source,
  };
}
