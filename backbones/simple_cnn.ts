import * as tf from '@tensorflow/tfjs';
import type { BackboneBuildOptions, BackboneSpec } from './types.js';

/**
 * A small CNN that trains from scratch in seconds on small images: conv3×3 32 → maxpool 2 → conv3×3 64 →
 * maxpool 2 → flatten → dense 128. With a 10-way linear head at 28×28×1 it is the engine benchmark's
 * `small_cnn` (421,642 parameters).
 */
export const simpleCnn: BackboneSpec = {
  description: 'small CNN trained from scratch (2 conv + 2 maxpool + dense 128); good for small images',
  defaultImageSize: 28,
  normalization: { mean: [0], std: [1] },
  build({ inputShape, name = 'backbone' }: BackboneBuildOptions): tf.LayersModel {
    const input = tf.input({ shape: inputShape, name: `${name}_input` });
    let x = tf.layers
      .conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers
      .conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2' })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 128, activation: 'relu', name: 'fc1' }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: x, name });
  },
};
