/**
 * Inference-time BatchNorm folding. (Placeholder until implemented: returns the model unchanged.)
 */
import type * as tf from '@tensorflow/tfjs';

export function foldBatchNorm(model: tf.LayersModel): tf.LayersModel {
  return model;
}
