import * as tf from '@tensorflow/tfjs';
import { Registry } from '../../src/core/registry.js';

/** What a head builder is given: the backbone's feature vector and the problem size. */
export interface HeadOptions {
  numClasses: number;
  /** Dropout before the final layer (model.dropout); 0 = none (the mlp head then uses 0.2). */
  dropout: number;
  /** Units of the mlp head's hidden layer; default 256. */
  hiddenUnits?: number;
  /** Dropout after the mlp head's hidden layer, overriding the rule below (a backbone's default head sets it). */
  hiddenDropout?: number;
}

/** Builds the classification head on the backbone features; returns logits (the layer must be named 'logits'). */
export type HeadBuilder = (features: tf.SymbolicTensor, options: HeadOptions) => tf.SymbolicTensor;

const linear: HeadBuilder = (features, { numClasses, dropout }) => {
  let x = features;
  if (dropout > 0) x = tf.layers.dropout({ rate: dropout, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: numClasses, name: 'logits' }).apply(x) as tf.SymbolicTensor;
};

/** Default dropout of the mlp head when model.dropout is 0. */
export const MLP_DEFAULT_DROPOUT = 0.2;

const mlp: HeadBuilder = (features, { numClasses, dropout, hiddenUnits = 256, hiddenDropout }) => {
  let x = tf.layers.dense({ units: hiddenUnits, activation: 'relu', name: 'head_hidden' }).apply(features) as tf.SymbolicTensor;
  const rate = hiddenDropout ?? (dropout > 0 ? dropout : MLP_DEFAULT_DROPOUT);
  if (rate > 0) x = tf.layers.dropout({ rate, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: numClasses, name: 'logits' }).apply(x) as tf.SymbolicTensor;
};

/** Classification heads selectable with `--model.head`. */
export const heads = new Registry<HeadBuilder>('head');
heads.register('linear', linear, "one dense layer from the features to the classes (the default, except simple_cnn's dense 128 → classes)");
heads.register('mlp', mlp, `dense 256 + ReLU, dropout (model.dropout, ${MLP_DEFAULT_DROPOUT} when 0), dense to the classes`);
