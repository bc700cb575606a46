import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../src/core/errors.js';

/**
 * What every `*_classification` task shares on the model side (Lightning Flash's `ClassificationTask`): the
 * loss from logits, the output activation, the running train statistic and the default metrics, for one label
 * per sample (softmax, cross-entropy, optional class weights) or several (sigmoid, binary cross-entropy).
 */

/** Metrics the Lightning tutorials log for classification. */
export const DEFAULT_METRICS = ['accuracy', 'f1_macro', 'auroc_macro'];
/** Multi-label metrics (arg-max accuracy means nothing when a sample has several labels). */
export const DEFAULT_MULTI_LABEL_METRICS = ['f1_micro', 'f1_macro', 'hamming_accuracy', 'subset_accuracy', 'auroc_macro'];

/** How a classifier's targets look. */
export interface ClassificationTarget {
  numClasses: number;
  multiLabel: boolean;
  /** Multi-label decision threshold (the train statistic counts at it). */
  threshold: number;
  /** Per-class loss weights (single-label), or null for the plain mean. */
  classWeights: number[] | null;
}

/**
 * Mean loss of a batch from logits. Single-label: cross-entropy, each sample weighted by its true class's weight
 * when class weights are set (Keras' class_weight convention; weights normalised to mean 1 keep the loss scale).
 * Multi-label: binary cross-entropy over every (sample, label) cell.
 */
export function classificationLoss(target: ClassificationTarget, yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  if (target.multiLabel) {
    if (target.classWeights) throw new FlashUserError('class weights are for single-label data; multi-label trains with plain binary cross-entropy');
    return binaryCrossEntropyWithLogits(yTrue, logits);
  }
  const weights = target.classWeights;
  if (!weights) {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(yTrue, 'int32') as tf.Tensor1D, target.numClasses), logits) as tf.Scalar;
  }
  if (weights.length !== target.numClasses) {
    throw new FlashUserError(`class weights: ${weights.length} weights for ${target.numClasses} classes`);
  }
  const y = tf.cast(yTrue, 'int32') as tf.Tensor1D;
  const perSample = tf.losses.softmaxCrossEntropy(tf.oneHot(y, target.numClasses), logits, undefined, undefined, tf.Reduction.NONE);
  return tf.mean(tf.mul(perSample, tf.gather(tf.tensor1d(weights, 'float32'), y))) as tf.Scalar;
}

/** Logits → probabilities: independent sigmoids for multi-label, else softmax. */
export function classificationActivation(multiLabel: boolean, logits: tf.Tensor): tf.Tensor {
  return multiLabel ? tf.sigmoid(logits) : tf.softmax(logits);
}

/** Running train statistic: arg-max accuracy, or for multi-label the Hamming accuracy at the threshold. */
export function classificationTrainStat(multiLabel: boolean, threshold: number): { name: string; sum(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar } {
  if (multiLabel) {
    // sigmoid(z) >= t  <=>  z >= logit(t); per sample: the fraction of labels decided right, summed over the batch.
    const cut = Math.log(threshold / (1 - threshold));
    return {
      name: 'hamming_accuracy',
      sum: (yTrue, logits) => tf.sum(tf.mean(tf.cast(tf.equal(tf.cast(tf.greaterEqual(logits, cut), 'float32'), yTrue), 'float32'), 1)) as tf.Scalar,
    };
  }
  return {
    name: 'accuracy',
    sum: (yTrue, logits) => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(yTrue, 'int32')), 'float32')) as tf.Scalar,
  };
}

/**
 * Mean binary cross-entropy over every (sample, label) cell, from logits z and 0/1 targets y, in the numerically
 * stable form max(z, 0) − z·y + log(1 + e^−|z|) (no exp of a large positive number, no log of 0) — Keras'
 * `binary_crossentropy(from_logits=True)` averaged over labels and batch, PyTorch's BCEWithLogitsLoss.
 */
export function binaryCrossEntropyWithLogits(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y = tf.cast(yTrue, 'float32');
    const perCell = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(perCell) as tf.Scalar;
  });
}
