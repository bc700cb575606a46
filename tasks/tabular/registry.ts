/** The task's model registry (`--model.backbone`): each entry builds layers over the preprocessed feature vector. */
import * as tf from '@tensorflow/tfjs';
import { Registry } from '../../src/core/registry.js';
import type { InputLayout } from './encode.js';

export interface BackboneOptions {
  hidden: number[];
  dropout: number;
  batchNorm: boolean;
  /** Where the vector's parts are (absent: all of it is numeric / one-hot, as in runs before embeddings). */
  layout?: InputLayout;
}

/** A backbone: the feature vector → a representation (the head adds the output layer). */
export type TabularBackbone = (input: tf.SymbolicTensor, o: BackboneOptions) => tf.SymbolicTensor;

/**
 * The width of a categorical column's embedding for `n` codes: fastai's rule 1.6·n^0.56, capped at 100 as
 * AutoGluon caps it (penguins' island, 3 categories + 2 codes → 4).
 */
export function embeddingWidth(n: number): number {
  return Math.max(1, Math.min(100, Math.round(1.6 * n ** 0.56)));
}

/** Entries [start, end) of a [batch, width] vector as [batch, end − start], with stock layers only (reshape, crop, flatten). */
function slice(x3: tf.SymbolicTensor, width: number, start: number, end: number, name: string): tf.SymbolicTensor {
  const c = tf.layers.cropping2D({ cropping: [[0, 0], [start, width - end]], name: `${name}_crop` }).apply(x3) as tf.SymbolicTensor;
  return tf.layers.flatten({ name: `${name}_flat` }).apply(c) as tf.SymbolicTensor;
}

/**
 * The network's features from the saved vector: with codes, the numeric block concatenated with one Embedding per
 * categorical column (its code slot cropped out; Embedding casts the float code to an index); else the vector
 * itself. Stock Keras layers only, so plain tf.loadLayersModel runs the saved model.
 */
export function featureInputs(input: tf.SymbolicTensor, layout: InputLayout | undefined): tf.SymbolicTensor {
  if (!layout || layout.codes.length === 0) return input;
  const width = layout.numeric + layout.codes.length;
  const x3 = tf.layers.reshape({ targetShape: [1, width, 1], name: 'features_grid' }).apply(input) as tf.SymbolicTensor;
  const parts: tf.SymbolicTensor[] = [];
  if (layout.numeric > 0) parts.push(slice(x3, width, 0, layout.numeric, 'numeric'));
  layout.codes.forEach((c, j) => {
    const code = slice(x3, width, c.slot, c.slot + 1, `cat_${j + 1}`);
    const e = tf.layers.embedding({ inputDim: c.size, outputDim: embeddingWidth(c.size), name: `embed_${j + 1}` }).apply(code) as tf.SymbolicTensor;
    parts.push(tf.layers.flatten({ name: `embed_${j + 1}_flat` }).apply(e) as tf.SymbolicTensor);
  });
  return parts.length === 1 ? parts[0] : (tf.layers.concatenate({ name: 'features_concat' }).apply(parts) as tf.SymbolicTensor);
}

/** The task's model registry (`--model.backbone`). */
export const tabularBackbones = new Registry<TabularBackbone>('tabular backbone');
tabularBackbones.register(
  'mlp',
  (input, o) => {
    let h = featureInputs(input, o.layout);
    o.hidden.forEach((units, i) => {
      h = tf.layers.dense({ units, useBias: !o.batchNorm, name: `dense_${i + 1}` }).apply(h) as tf.SymbolicTensor;
      // Momentum 0.9, not Keras' 0.99: a small table trains a few hundred steps, too few for 0.99's moving statistics
      // to forget their init, and inference (which uses them) would lag training badly.
      if (o.batchNorm) h = tf.layers.batchNormalization({ momentum: 0.9, name: `bn_${i + 1}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: 'relu', name: `relu_${i + 1}` }).apply(h) as tf.SymbolicTensor;
      if (o.dropout > 0) h = tf.layers.dropout({ rate: o.dropout, name: `dropout_${i + 1}` }).apply(h) as tf.SymbolicTensor;
    });
    return h;
  },
  'dense layers (model.hidden_units) with batch norm, ReLU and dropout over the numeric features and one embedding per categorical column',
);
// An embedding followed by the output layer is still linear in the category's one-hot (a low-rank one).
tabularBackbones.register('linear', (input, o) => featureInputs(input, o.layout), 'no hidden layer: logistic / linear regression on the preprocessed features (a baseline)');

tabularBackbones.register(
  'resmlp',
  (input, o) => {
    // A residual MLP (Gorishniy et al. 2021, "Revisiting deep learning models for tabular data"): a projection to
    // the first width, then per hidden_units entry a block x + Dropout(Dense(ReLU(Dense(BN(x))))).
    const width = o.hidden[0] ?? 128;
    let h = tf.layers.dense({ units: width, name: 'res_in' }).apply(featureInputs(input, o.layout)) as tf.SymbolicTensor;
    o.hidden.forEach((units, i) => {
      let b = o.batchNorm ? (tf.layers.batchNormalization({ momentum: 0.9, name: `res_bn_${i + 1}` }).apply(h) as tf.SymbolicTensor) : h;
      b = tf.layers.dense({ units, activation: 'relu', name: `res_dense_${i + 1}a` }).apply(b) as tf.SymbolicTensor;
      if (o.dropout > 0) b = tf.layers.dropout({ rate: o.dropout, name: `res_dropout_${i + 1}` }).apply(b) as tf.SymbolicTensor;
      b = tf.layers.dense({ units: width, name: `res_dense_${i + 1}b` }).apply(b) as tf.SymbolicTensor;
      h = tf.layers.add({ name: `res_add_${i + 1}` }).apply([h, b]) as tf.SymbolicTensor;
    });
    if (o.batchNorm) h = tf.layers.batchNormalization({ momentum: 0.9, name: 'res_bn_out' }).apply(h) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: 'relu', name: 'res_relu_out' }).apply(h) as tf.SymbolicTensor;
  },
  'residual MLP: blocks of BN → dense → ReLU → dropout → dense with a skip connection (one block per model.hidden_units entry)',
);
