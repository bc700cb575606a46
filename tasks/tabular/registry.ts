/** The task's model registry (`--model.backbone`): each entry builds layers over the preprocessed feature vector. */
import * as tf from '@tensorflow/tfjs';
import { Registry } from '../../src/core/registry.js';

export interface BackboneOptions {
  hidden: number[];
  dropout: number;
  batchNorm: boolean;
}

/** A backbone: the feature vector → a representation (the head adds the output layer). */
export type TabularBackbone = (input: tf.SymbolicTensor, o: BackboneOptions) => tf.SymbolicTensor;

/** The task's model registry (`--model.backbone`). */
export const tabularBackbones = new Registry<TabularBackbone>('tabular backbone');
tabularBackbones.register(
  'mlp',
  (input, o) => {
    let h = input;
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
  'dense layers (model.hidden_units) with batch norm, ReLU and dropout over the numeric features and the one-hot blocks of the categories',
);
tabularBackbones.register('linear', (input) => input, 'no hidden layer: logistic / linear regression on the preprocessed features (a baseline)');

tabularBackbones.register(
  'resmlp',
  (input, o) => {
    // A residual MLP (Gorishniy et al. 2021, "Revisiting deep learning models for tabular data"): a projection to
    // the first width, then per hidden_units entry a block x + Dropout(Dense(ReLU(Dense(BN(x))))).
    const width = o.hidden[0] ?? 128;
    let h = tf.layers.dense({ units: width, name: 'res_in' }).apply(input) as tf.SymbolicTensor;
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
