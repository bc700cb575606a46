import type * as tf from '@tensorflow/tfjs';

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const PATCHED = Symbol.for('flash.frozenBatchNormInference');

/** True for a tfjs-layers BatchNormalization layer. */
export function isBatchNorm(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

/**
 * tfjs-layers' BatchNormalization ignores `trainable`: with `training: true` it normalises with the batch's
 * statistics and updates its moving mean and variance even when frozen (Keras 2 switched a frozen BN layer to
 * inference mode). This makes `layer` follow the Keras rule: while `layer.trainable` is false it runs in
 * inference mode (moving statistics, which stay untouched); while true it behaves as before. Idempotent.
 */
export function frozenBatchNormRunsInInference(layer: tf.layers.Layer): void {
  const record = layer as unknown as Record<string | symbol, unknown>;
  if (record[PATCHED]) return;
  record[PATCHED] = true;
  const proto = Object.getPrototypeOf(layer) as { call: CallFn };
  record.call = function (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> = {}) {
    const k = this.trainable || !kwargs.training ? kwargs : { ...kwargs, training: false };
    return proto.call.call(this, inputs, k);
  };
}

/** Applies `frozenBatchNormRunsInInference` to every BatchNormalization layer in `model`, nested models included. */
export function patchBatchNorms(model: tf.LayersModel | tf.layers.Layer): void {
  const layers = (model as tf.LayersModel).layers;
  if (!Array.isArray(layers)) {
    if (isBatchNorm(model as tf.layers.Layer)) frozenBatchNormRunsInInference(model as tf.layers.Layer);
    return;
  }
  for (const l of layers) patchBatchNorms(l);
}
