import * as tf from '@tensorflow/tfjs';
import type { BackboneBuildOptions, BackboneSpec } from './types.js';

type Sym = tf.SymbolicTensor;
// Moving-statistics momentum 0.9 (PyTorch's default, 0.1 in its convention) rather than Keras' 0.99/0.999: flash
// trains for few steps on small sets, and with 0.99 the inference-mode statistics after ~50 steps are still ~60%
// those of the weights' previous state (a resnet18 finetuned for one epoch evaluated at chance, val_loss 30).
const BN = { epsilon: 1.001e-5, momentum: 0.9 };

function convBn(x: Sym, filters: number, kernelSize: number, strides: number, name: string, relu: boolean): Sym {
  let y = tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, name: `${name}_conv` }).apply(x) as Sym;
  y = tf.layers.batchNormalization({ ...BN, name: `${name}_bn` }).apply(y) as Sym;
  if (relu) y = tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as Sym;
  return y;
}

function basicBlock(x: Sym, filters: number, stride: number, name: string): Sym {
  const inChannels = x.shape[3] as number;
  const shortcut = stride !== 1 || inChannels !== filters ? convBn(x, filters, 1, stride, `${name}_0`, false) : x;
  let y = convBn(x, filters, 3, stride, `${name}_1`, true);
  y = convBn(y, filters, 3, 1, `${name}_2`, false);
  y = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as Sym;
  return tf.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(y) as Sym;
}

/** torchvision's v1.5 bottleneck: the stride sits on the 3×3 conv. */
function bottleneck(x: Sym, filters: number, stride: number, name: string): Sym {
  const inChannels = x.shape[3] as number;
  const shortcut = stride !== 1 || inChannels !== 4 * filters ? convBn(x, 4 * filters, 1, stride, `${name}_0`, false) : x;
  let y = convBn(x, filters, 1, 1, `${name}_1`, true);
  y = convBn(y, filters, 3, stride, `${name}_2`, true);
  y = convBn(y, 4 * filters, 1, 1, `${name}_3`, false);
  y = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as Sym;
  return tf.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(y) as Sym;
}

/**
 * ResNet feature extractor: ImageNet stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool with 1 pixel of padding),
 * four stages of basic or bottleneck blocks with BatchNorm, global average pooling. Trainable weights match
 * torchvision's (resnet18 without its fc: 11,176,512). `width` (64 in the standard nets) scales every stage.
 */
export function buildResNet(depths: number[], kind: 'basic' | 'bottleneck', { inputShape, name = 'backbone' }: BackboneBuildOptions, width = 64): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  let x = tf.layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }).apply(input) as Sym;
  x = tf.layers.conv2d({ filters: width, kernelSize: 7, strides: 2, useBias: false, name: 'conv1_conv' }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ ...BN, name: 'conv1_bn' }).apply(x) as Sym;
  x = tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }).apply(x) as Sym;
  x = tf.layers.zeroPadding2d({ padding: 1, name: 'pool1_pad' }).apply(x) as Sym;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as Sym;
  const block = kind === 'basic' ? basicBlock : bottleneck;
  depths.forEach((n, stage) => {
    for (let i = 0; i < n; i++) {
      x = block(x, width * 2 ** stage, i === 0 && stage > 0 ? 2 : 1, `conv${stage + 2}_block${i + 1}`);
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: x, name });
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function spec(label: string, depths: number[], kind: 'basic' | 'bottleneck'): BackboneSpec {
  return {
    description: `${label} (ImageNet stem, ${kind} blocks with BatchNorm, global average pooled)`,
    defaultImageSize: 224,
    normalization: IMAGENET,
    build: (options) => buildResNet(depths, kind, options),
  };
}

export const resnet18 = spec('ResNet-18', [2, 2, 2, 2], 'basic');
export const resnet34 = spec('ResNet-34', [3, 4, 6, 3], 'basic');
export const resnet50 = spec('ResNet-50', [3, 4, 6, 3], 'bottleneck');
