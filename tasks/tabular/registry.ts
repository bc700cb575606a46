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

