import * as tf from '@tensorflow/tfjs';
import { before, describe, it } from 'node:test';
import { simpleCnn } from '../../../backbones/simple_cnn.js';
import { mobilenetV2 } from '../../../backbones/mobilenet_v2.js';
import { buildResNet } from '../../../backbones/resnet.js';
import type { BackboneSpec } from '../../../backbones/types.js';
import { assertClose, random, setup } from './helpers.js';

before(setup);

/**
 * Builds `spec` + a 3-way dense head at a tiny size, then takes tf.variableGrads of a cross-entropy loss
 * on wasm and on cpu with the same weights, and compares every gradient.
 *
 * BatchNorm runs in training mode (batch statistics, gradients through the moments) except for MobileNetV2:
 * at test sizes its training-mode gradient is chaotic (the cpu backend against itself, with the input
 * perturbed by 1e-6, moves gradients by 1e-2 relative), so there it uses the moving statistics.
 */
async function checkModel(spec: BackboneSpec, size: number, channels: number, batch: number, tol: number, training = true) {
  await tf.setBackend('cpu');
  const backbone = spec.build({ inputShape: [size, size, channels], name: 'backbone' });
  const head = tf.layers.dense({ units: 3, name: 'head' });
  head.build([null, backbone.outputs[0].shape[1] as number]);
  // Deterministic weights (the layers' own initialisers are unseeded): kernels uniform with variance 1/fan-in.
  let seed = 1000;
  for (const w of [...backbone.weights, ...head.weights]) {
    if (!/kernel/.test(w.originalName)) continue;
    const shape = w.shape as number[];
    const fanIn = /depthwise/.test(w.originalName) ? shape[0] * shape[1] : shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(3 / fanIn);
    w.write(tf.tensor(random(shape.reduce((a, b) => a * b, 1), seed++).map((v) => v * bound), shape));
  }
  const xs = random(batch * size * size * channels, 7);
  const labels = Array.from({ length: batch }, (_, i) => i % 3);
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor4d(xs, [batch, size, size, channels]);
    const y = tf.oneHot(labels, 3).toFloat();
    const { value, grads } = tf.variableGrads(() => {
      const features = backbone.apply(x, { training }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, head.apply(features) as tf.Tensor) as tf.Scalar;
    });
    const out: Record<string, Float32Array> = { loss: value.dataSync() as Float32Array };
    for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
    tf.dispose([x, y, value, ...Object.values(grads)]);
    return out;
  };
  const want = await run('cpu');
  const got = await run('wasm');
  for (const name of Object.keys(want)) assertClose(got[name], want[name], tol, `${spec.description}: ${name}`);
  backbone.dispose();
  head.weights.forEach((w) => w.dispose());
  await tf.setBackend('cpu');
}

describe('whole-model gradients on wasm match cpu', () => {
  it('simple_cnn (conv, max-pool, dense)', () => checkModel(simpleCnn, 12, 1, 3, 1e-4));
  it('mobilenet_v2 α=0.35 (depthwise, BatchNorm, ReLU6, zero padding)', () => checkModel(mobilenetV2(0.35), 32, 3, 3, 1e-3, false));
  // The cpu backend's conv gradients are far too slow for full-width ResNets in a unit test: same code
  // paths (stem, padded max-pool, stride-2 shortcuts, BatchNorm), one block per stage, narrow.
  const narrow = (depths: number[], kind: 'basic' | 'bottleneck', width: number): BackboneSpec => ({
    description: `resnet ${kind} [${depths}] width ${width}`, defaultImageSize: 64, normalization: { mean: [0], std: [1] },
    build: (o) => buildResNet(depths, kind, o, width),
  });
  it('resnet, basic blocks (resnet18/34 family)', () => checkModel(narrow([1, 1, 1, 1], 'basic', 8), 64, 3, 4, 1e-3));
  it('resnet, bottleneck blocks (resnet50 family)', () => checkModel(narrow([1, 1, 1, 1], 'bottleneck', 4), 64, 3, 4, 1e-3));
});
