import * as tf from '@tensorflow/tfjs';
import { groupLayersBy } from './groups.js';
import type { BackboneBuildOptions, BackboneSpec, LayerGroup } from './types.js';

type Sym = tf.SymbolicTensor;

/** [expansion, kernel, stride, output filters, repeats] per stage of EfficientNet-B0 / Lite0. */
const STAGES: [number, number, number, number, number][] = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];
// BatchNorm momentum 0.9: see resnet.ts.
const BN = { epsilon: 1e-3, momentum: 0.9 };

function bn(x: Sym, name: string, relu6 = true): Sym {
  let y = tf.layers.batchNormalization({ ...BN, name: `${name}_bn` }).apply(x) as Sym;
  if (relu6) y = tf.layers.activation({ activation: 'relu6', name: `${name}_relu` }).apply(y) as Sym;
  return y;
}

/**
 * EfficientNet-Lite0 feature extractor (TensorFlow's efficientnet-lite: EfficientNet-B0's MBConv stages with
 * the edge-friendly changes — no squeeze-and-excitation, ReLU6 instead of swish, stem (32) and head (1280)
 * kept unscaled), ending in global average pooling. Built from conv, depthwise conv, BatchNorm and ReLU6 only,
 * the ops flash's wasm training kernels cover.
 */
export function buildEfficientNetLite0({ inputShape, name = 'backbone' }: BackboneBuildOptions): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  let x = tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem_conv' }).apply(input) as Sym;
  x = bn(x, 'stem');
  STAGES.forEach(([expansion, kernel, stride, filters, repeats], s) => {
    for (let i = 0; i < repeats; i++) {
      const prefix = `block${s + 1}${String.fromCharCode(97 + i)}`;
      const strides = i === 0 ? stride : 1;
      const inChannels = x.shape[3] as number;
      const blockIn = x;
      if (expansion !== 1) {
        x = tf.layers.conv2d({ filters: inChannels * expansion, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}_expand_conv` }).apply(x) as Sym;
        x = bn(x, `${prefix}_expand`);
      }
      x = tf.layers.depthwiseConv2d({ kernelSize: kernel, strides, padding: 'same', useBias: false, name: `${prefix}_dwconv` }).apply(x) as Sym;
      x = bn(x, `${prefix}_dw`);
      x = tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}_project_conv` }).apply(x) as Sym;
      x = bn(x, `${prefix}_project`, false);
      if (strides === 1 && inChannels === filters) x = tf.layers.add({ name: `${prefix}_add` }).apply([blockIn, x]) as Sym;
    }
  });
  x = tf.layers.conv2d({ filters: 1280, kernelSize: 1, padding: 'same', useBias: false, name: 'top_conv' }).apply(x) as Sym;
  x = bn(x, 'top');
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: x, name });
}

/** Layer groups: stem, one per MBConv block (block1a … block7a), top. */
export function efficientNetGroups(model: tf.LayersModel): LayerGroup[] {
  return groupLayersBy(model, (n) => /^(block\d+[a-z])_/.exec(n)?.[1] ?? (n.startsWith('top') ? 'top' : 'stem'));
}

export const efficientNetLite0: BackboneSpec = {
  description: 'EfficientNet-Lite0 (MBConv without squeeze-excitation, BatchNorm + ReLU6, global average pooled)',
  defaultImageSize: 224,
  // efficientnet-lite's preprocessing: (x − 127) / 128.
  normalization: { mean: [127 / 255], std: [128 / 255] },
  build: buildEfficientNetLite0,
  layerGroups: efficientNetGroups,
};
