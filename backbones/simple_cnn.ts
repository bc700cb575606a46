import * as tf from '@tensorflow/tfjs';
import type { BackboneBuildOptions, BackboneSpec } from './types.js';

/**
 * A small CNN that trains from scratch in seconds on small images: conv3×3 32 → maxpool 2 → conv3×3 64 →
 * maxpool 2 → flatten. Its default head is dense 128 + ReLU → dense to the classes, so at 28×28×1 with 10 classes
 * the default classifier is the engine benchmark's `small_cnn` (421,642 parameters).
 *
 * The hidden dense layer belongs to the head, not the backbone (fastai's cut: the body is the convolutions): a
 * saved simple_cnn reused as a backbone then gives the new head the convolutional features rather than a
 * 128-unit layer trained to separate the old classes, which transfers far worse (bench/README-transfer.md).
 */
export const simpleCnn: BackboneSpec = {
  description: 'small CNN trained from scratch (2 conv + 2 maxpool; default head dense 128 → classes); good for small images',
  defaultImageSize: 28,
  normalization: { mean: [0], std: [1] },
  defaultHead: { name: 'mlp', hiddenUnits: 128, hiddenDropout: 0 },
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
    return tf.model({ inputs: input, outputs: x, name });
  },
};
