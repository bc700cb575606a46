/**
 * The engine's kernels on odd shapes — 1×1 maps, batch 1, strides larger than the input, 1 and 1000 channels —
 * against tfjs's cpu backend; and shapes that don't fit are thrown Errors naming the kernel, never an
 * out-of-bounds read ("RuntimeError: memory access out of bounds") or silent garbage.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assertClose, on, random, setup } from './helpers.js';

const TOL = 1e-4;

before(setup);

type Input = { shape: number[]; values: Float32Array };
const input = (shape: number[], seed: number): Input => ({ shape, values: random(shape.reduce((a, b) => a * b, 1), seed) });

async function compare(kernel: string, inputs: Record<string, Input>, attrs: object, what: string): Promise<void> {
  const run = () => {
    const ts: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
    return tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  };
  const got = await on('wasm', run);
  const want = await on('cpu', run);
  got.forEach((g, i) => assertClose(g, want[i], TOL, `${what} output ${i}`));
}

/** Runs a kernel on wasm, which must throw a plain Error from the engine's checks (not a wasm RuntimeError). */
async function refuses(kernel: string, inputs: Record<string, Input>, attrs: object, what: string): Promise<void> {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const ts: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
  assert.throws(
    () => tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap),
    (err: unknown) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError) && err.message.startsWith(`flash engine: ${kernel}: `),
    what,
  );
  tf.dispose(Object.values(ts));
  assert.equal(tf.memory().numTensors, before, `${what}: no tensor left behind`);
}

const out = (size: number, k: number, s: number, pad: string) => (pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s));

describe('engine kernels on odd shapes match cpu', () => {
  it('convolutions: 1×1 to 3×3 maps, batch 1, stride up to 4, 1 to 1000 channels', async () => {
    let seed = 1;
    // [batch, height, width, inChannels, outChannels, kernel]
    const shapes = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 3, 4, 3], [1, 2, 3, 1, 1, 3], [2, 3, 3, 5, 2, 3], [1, 1, 1, 1000, 2, 1], [1, 2, 2, 2, 1000, 1], [1, 3, 2, 7, 3, 2]];
    for (const [B, H, W, Ci, Co, K] of shapes)
      for (const s of [1, 2, 4])
        for (const pad of ['same', 'valid']) {
          const OH = out(H, K, s, pad), OW = out(W, K, s, pad);
          if (OH < 1 || OW < 1) continue;
          const x = input([B, H, W, Ci], seed++), dy = input([B, OH, OW, Co], seed++), filter = input([K, K, Ci, Co], seed++);
          const what = `x=${x.shape} k=${K} co=${Co} s=${s} ${pad}`;
          const attrs = { strides: [s, s], pad, dataFormat: 'NHWC', dilations: [1, 1] };
          await compare('Conv2D', { x, filter }, attrs, `forward ${what}`);
          await compare('FusedConv2D', { x, filter, bias: input([Co], seed++) }, { ...attrs, activation: 'relu' }, `fused ${what}`);
          await compare('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }, `filter grad ${what}`);
          await compare('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }, `input grad ${what}`);
        }
  });

  it('depthwise gradients and MaxPoolGrad on tiny maps with strides past the input', async () => {
    let seed = 300;
    for (const [B, H, W, C, K] of [[1, 1, 1, 1, 1], [1, 1, 2, 3, 3], [2, 3, 3, 1, 3], [1, 2, 2, 1000, 1]])
      for (const s of [1, 3])
        for (const pad of ['same', 'valid']) {
          const OH = out(H, K, s, pad), OW = out(W, K, s, pad);
          if (OH < 1 || OW < 1) continue;
          const x = input([B, H, W, C], seed++), dy = input([B, OH, OW, C], seed++), filter = input([K, K, C, 1], seed++);
          const what = `x=${x.shape} k=${K} s=${s} ${pad}`;
          const attrs = { strides: [s, s], dilations: [1, 1], pad };
          await compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }, `dw filter grad ${what}`);
          await compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }, `dw input grad ${what}`);
          if (K > H || K > W) continue;
          const pool = { filterSize: [K, K], strides: [s, s], pad };
          await compare('MaxPool', { x }, pool, `maxpool ${what}`);
          await compare('MaxPoolGrad', { dy, input: x }, pool, `maxpool grad ${what}`);
        }
  });

  it('BatchMatMul with 1-sized and 1000-long dimensions; Sum and Mean of single elements', async () => {
    let seed = 600;
    for (const [M, K, N] of [[1, 1, 1], [1, 1000, 1], [1, 1, 1000], [3, 1, 2]])
      for (const ta of [false, true])
        await compare('BatchMatMul', { a: input(ta ? [K, M] : [M, K], seed++), b: input([K, N], seed++) }, { transposeA: ta, transposeB: false }, `matmul ${M}×${K}×${N} ta=${ta}`);
    for (const shape of [[1], [1, 1, 1, 1], [1, 1000]])
      for (const kernel of ['Sum', 'Mean']) await compare(kernel, { x: input(shape, seed++) }, { axis: 0, keepDims: false }, `${kernel} ${shape}`);
  });
});

describe('shapes that do not fit are thrown Errors, not out-of-bounds reads', () => {
  it('pools and convs whose window does not fit, mismatched channels and gradients, bad matmuls', async () => {
    const x11 = input([1, 1, 1, 3], 1);
    // The crash: a 2×2 pool over a 1×1 map (simple_cnn at --image_size 1) read out of bounds.
    await refuses('MaxPool', { x: x11 }, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, 'maxpool 2 over 1×1');
    await refuses('AvgPool', { x: x11 }, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, 'avgpool 2 over 1×1');
    await refuses('MaxPoolGrad', { dy: input([1, 1, 1, 3], 2), input: x11 }, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, 'maxpool grad 2 over 1×1');
    await refuses('MaxPoolGrad', { dy: input([1, 2, 2, 3], 2), input: input([1, 2, 2, 3], 3) }, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, 'maxpool grad with a dy too big');
    const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
    await refuses('Conv2D', { x: x11, filter: input([3, 3, 3, 2], 4) }, conv, '3×3 valid conv over 1×1');
    await refuses('Conv2D', { x: input([1, 4, 4, 3], 5), filter: input([3, 3, 2, 2], 6) }, conv, 'channels differ');
    await refuses('FusedConv2D', { x: input([1, 4, 4, 3], 5), filter: input([3, 3, 2, 2], 6), bias: input([2], 1) }, { ...conv, activation: 'relu' }, 'fused channels differ');
    await refuses('Conv2DBackpropFilter', { x: input([1, 4, 4, 3], 7), dy: input([1, 4, 4, 2], 8) }, { ...conv, filterShape: [3, 3, 3, 2] }, 'filter grad dy of the wrong size');
    await refuses('Conv2DBackpropInput', { dy: input([1, 3, 3, 2], 9), filter: input([3, 3, 3, 2], 10) }, { ...conv, inputShape: [1, 4, 4, 3] }, 'input grad dy of the wrong size');
    await refuses('DepthwiseConv2dNativeBackpropFilter', { x: input([1, 2, 2, 3], 11), dy: input([1, 2, 2, 3], 12) }, { strides: [1, 1], dilations: [1, 1], pad: 'valid', filterShape: [3, 3, 3, 1] }, 'dw window larger than the map');
    await refuses('DepthwiseConv2dNativeBackpropInput', { dy: input([1, 2, 2, 4], 13), filter: input([1, 1, 3, 1], 14) }, { strides: [1, 1], dilations: [1, 1], pad: 'valid', inputShape: [1, 2, 2, 3] }, 'dw input grad dy channels');
    await refuses('BatchMatMul', { a: input([2, 3], 15), b: input([4, 5], 16) }, { transposeA: false, transposeB: false }, 'inner dims differ');
    await refuses('BatchMatMul', { a: input([2, 2, 3], 17), b: input([3, 3, 5], 18) }, { transposeA: false, transposeB: false }, 'batches do not broadcast');
  });
});
