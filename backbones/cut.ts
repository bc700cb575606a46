import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../src/core/errors.js';
import { closest } from '../src/core/suggest.js';

/** How a spatial feature map at the cut becomes a feature vector. */
export const CUT_POOLINGS = ['avg', 'max', 'avgmax', 'flatten'] as const;
export type CutPooling = (typeof CUT_POOLINGS)[number];

/** A backbone truncated at an earlier layer, and what its features are. */
export interface CutBackbone {
  model: tf.LayersModel;
  /** Shape of the cut layer's output (without the batch dimension). */
  cutShape: number[];
  numFeatures: number;
  /** Layers of the full backbone that the cut one no longer uses. */
  dropped: tf.layers.Layer[];
}

/**
 * Truncates a feature extractor after the layer named `layer` (fastai's `cut`, Keras'
 * `Model(base.input, base.get_layer(name).output)`): the usual advice when the new classes differ from those the
 * weights were trained on, because earlier layers hold more general features than the last, which fit the old
 * classes. A spatial output [h, w, c] becomes a vector by `pooling`: global average (c features), global max (c),
 * both concatenated (fastai's concat pooling, 2c) or flatten (h·w·c, keeps where things are — small maps only).
 * The returned model shares its layers (and weights) with `backbone` and is named like it.
 */
export function cutBackbone(backbone: tf.LayersModel, layer: string, pooling: CutPooling = 'avg'): CutBackbone {
  const names = backbone.layers.map((l) => l.name);
  if (!names.includes(layer)) {
    const hint = closest(layer, names);
    const sample = names.filter((n) => /_out$|_add$|_relu$|pool|flatten/.test(n));
    throw new FlashUserError(
      `model.cut: the backbone has no layer '${layer}'${hint ? ` (did you mean '${hint}'?)` : ''}; ` +
        `it has ${names.length} layers${sample.length > 0 ? `, e.g. ${pickSpread(sample, 6).join(', ')}` : ''}`,
    );
  }
  const out = backbone.getLayer(layer).output;
  if (Array.isArray(out)) throw new FlashUserError(`model.cut: layer '${layer}' has several outputs; cut at a layer with one`);
  const cutShape = out.shape.slice(1) as number[];
  let features: tf.SymbolicTensor = out;
  if (cutShape.length === 3) {
    const prefix = `cut_${pooling}`;
    const avg = (): tf.SymbolicTensor => tf.layers.globalAveragePooling2d({ name: `${prefix}_avg` }).apply(out) as tf.SymbolicTensor;
    const max = (): tf.SymbolicTensor => tf.layers.globalMaxPooling2d({ name: `${prefix}_max` }).apply(out) as tf.SymbolicTensor;
    if (pooling === 'avg') features = avg();
    else if (pooling === 'max') features = max();
    else if (pooling === 'avgmax') features = tf.layers.concatenate({ name: `${prefix}_concat` }).apply([avg(), max()]) as tf.SymbolicTensor;
    else features = tf.layers.flatten({ name: `${prefix}_flatten` }).apply(out) as tf.SymbolicTensor;
  } else if (cutShape.length !== 1) {
    throw new FlashUserError(`model.cut: layer '${layer}' outputs shape [${cutShape.join(', ')}]; cut at a layer with an [h, w, c] feature map or a feature vector`);
  }
  const model = tf.model({ inputs: backbone.inputs, outputs: features, name: backbone.name });
  const kept = new Set(model.layers);
  return { model, cutShape, numFeatures: features.shape[1] as number, dropped: backbone.layers.filter((l) => !kept.has(l)) };
}

/** Up to `n` items spread evenly over `items` (first and last included). */
function pickSpread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]);
}
