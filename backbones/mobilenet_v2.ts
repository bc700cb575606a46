import * as tf from '@tensorflow/tfjs';
import type { BackboneBuildOptions, BackboneSpec } from './types.js';

/** Keras's `_make_divisible`: round channels to a multiple of 8, never dropping more than 10%. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** [filters, stride, expansion] per inverted-residual block (Keras applications.MobileNetV2 order). */
const BLOCKS: [number, number, number][] = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

type Sym = tf.SymbolicTensor;
// BatchNorm momentum 0.9: see resnet.ts.
const BN = { epsilon: 1e-3, momentum: 0.9 };

function bnRelu6(x: Sym, name: string, relu = true): Sym {
  let y = tf.layers.batchNormalization({ ...BN, name: `${name}_BN` }).apply(x) as Sym;
  if (relu) y = tf.layers.activation({ activation: 'relu6', name: `${name}_relu` }).apply(y) as Sym;
  return y;
}

/**
 * MobileNetV2 feature extractor in Keras's layout (layer names, `correct_pad` before stride-2 depthwise
 * convs, BatchNormalization ε=1e-3 + ReLU6, 1280-channel head conv scaled only when α > 1), ending in global
 * average pooling. With α=1.0 at 224×224×3 it has Keras's 2,257,984 weights (include_top=False).
 */
export function buildMobileNetV2(alpha: number, { inputShape, name = 'backbone' }: BackboneBuildOptions): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  let x = tf.layers.conv2d({ filters: makeDivisible(32 * alpha), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }).apply(input) as Sym;
  x = tf.layers.batchNormalization({ ...BN, name: 'bn_Conv1' }).apply(x) as Sym;
  x = tf.layers.activation({ activation: 'relu6', name: 'Conv1_relu' }).apply(x) as Sym;
  BLOCKS.forEach(([filters, stride, expansion], id) => {
    const inChannels = x.shape[x.shape.length - 1] as number;
    const out = makeDivisible(Math.floor(filters * alpha));
    const prefix = id ? `block_${id}_` : 'expanded_conv_';
    const blockIn = x;
    if (id) {
      x = tf.layers.conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` }).apply(x) as Sym;
      x = bnRelu6(x, `${prefix}expand`);
    }
    if (stride === 2) {
      const h = x.shape[1] as number, w = x.shape[2] as number;
      const pad: [[number, number], [number, number]] = [[h % 2 === 0 ? 0 : 1, 1], [w % 2 === 0 ? 0 : 1, 1]];
      x = tf.layers.zeroPadding2d({ padding: pad, name: `${prefix}pad` }).apply(x) as Sym;
    }
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` }).apply(x) as Sym;
    x = bnRelu6(x, `${prefix}depthwise`);
    x = tf.layers.conv2d({ filters: out, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }).apply(x) as Sym;
    x = bnRelu6(x, `${prefix}project`, false);
    if (inChannels === out && stride === 1) x = tf.layers.add({ name: `${prefix}add` }).apply([blockIn, x]) as Sym;
  });
  const last = alpha > 1.0 ? makeDivisible(1280 * alpha) : 1280;
  x = tf.layers.conv2d({ filters: last, kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ ...BN, name: 'Conv_1_bn' }).apply(x) as Sym;
  x = tf.layers.activation({ activation: 'relu6', name: 'out_relu' }).apply(x) as Sym;
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: x, name });
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** BackboneSpec for MobileNetV2 with width multiplier `alpha`. */
export function mobilenetV2(alpha: number): BackboneSpec {
  return {
    description: `MobileNetV2 α=${alpha} (Keras layout, BatchNorm + ReLU6, ${alpha === 1 ? '' : 'width-scaled, '}global average pooled)`,
    defaultImageSize: 224,
    normalization: IMAGENET,
    build: (options) => buildMobileNetV2(alpha, options),
  };
}

export const mobilenetV2_035 = mobilenetV2(0.35);
export const mobilenetV2_050 = mobilenetV2(0.5);
export const mobilenetV2_075 = mobilenetV2(0.75);
export const mobilenetV2_100 = mobilenetV2(1.0);
