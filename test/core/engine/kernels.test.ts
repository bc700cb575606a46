import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { engineKernelNames, registerWasmTrainingKernels } from '../../../src/core/engine/index.js';
import { assertClose, on, random, setup } from './helpers.js';

const TOL = 1e-4;
type S4 = [number, number, number, number];

before(setup);

function assertAdjoint(grad: Float32Array, probe: Float32Array, dy: Float32Array, y: Float32Array, what: string): void {
  let lhs = 0, rhs = 0, mag = 0;
  for (let i = 0; i < grad.length; i++) lhs += grad[i] * probe[i];
  for (let i = 0; i < dy.length; i++) { rhs += dy[i] * y[i]; mag += Math.abs(dy[i] * y[i]); }
  assert.ok(Math.abs(lhs - rhs) <= 1e-4 * mag, `${what}: <grad, probe> = ${lhs} but <dy, y> = ${rhs}`);
}

/** Runs a kernel on wasm and cpu with the same inputs and compares every output. */
async function compare(kernel: string, inputs: Record<string, { shape: number[]; values: Float32Array }>, attrs: object, what: string) {
  const run = () => {
    const ts: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
    return tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  };
  const got = await on('wasm', run);
  const want = await on('cpu', run);
  got.forEach((g, i) => assertClose(g, want[i], TOL, `${what} output ${i}`));
}

function convOut(size: number, k: number, s: number, d: number, pad: string): number {
  const ek = (k - 1) * d + 1;
  return pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - ek + 1) / s);
}

// [batch, height, width, inChannels, outChannels, kernel]
const CONV_SHAPES: [number, number, number, number, number, number][] = [
  [2, 7, 7, 3, 5, 3],
  [1, 8, 6, 4, 9, 1],
  [2, 9, 10, 2, 3, 5],
  [1, 5, 5, 64, 12, 3], // K = 576 > one GEMM depth block
  [2, 3, 3, 3, 600, 1], // N > one GEMM column block
];

describe('engine kernels on wasm match cpu', () => {
  it('registers idempotently and names its kernels', () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'MaxPoolGrad']) {
      assert.ok(engineKernelNames().includes(name), name);
      assert.ok(tf.getKernel(name, 'wasm'), `${name} registered`);
    }
  });

  it('Conv2D, FusedConv2D (bias, relu, relu6), Conv2DBackpropFilter, Conv2DBackpropInput', async () => {
    let seed = 1;
    for (const [B, H, W, Ci, Co, K] of CONV_SHAPES)
      for (const s of [1, 2])
        for (const pad of ['same', 'valid']) {
          const OH = convOut(H, K, s, 1, pad), OW = convOut(W, K, s, 1, pad);
          if (OH <= 0 || OW <= 0) continue;
          const x = { shape: [B, H, W, Ci], values: random(B * H * W * Ci, seed++) };
          const dy = { shape: [B, OH, OW, Co], values: random(B * OH * OW * Co, seed++) };
          const filter = { shape: [K, K, Ci, Co], values: random(K * K * Ci * Co, seed++) };
          const what = `x=${x.shape} k=${K} co=${Co} s=${s} ${pad}`;
          await compare('Conv2DBackpropFilter', { x, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: filter.shape }, `filter grad ${what}`);
          await compare('Conv2DBackpropInput', { dy, filter }, { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: x.shape }, `input grad ${what}`);
          await compare('Conv2D', { x, filter }, { strides: [s, s], pad, dataFormat: 'NHWC', dilations: [1, 1] }, `forward ${what}`);
          const bias = { shape: [Co], values: random(Co, seed++) };
          for (const activation of ['linear', 'relu', 'relu6'])
            await compare('FusedConv2D', { x, filter, bias }, { strides: [s, s], pad, dataFormat: 'NHWC', dilations: [1, 1], activation }, `fused forward ${activation} ${what}`);
          if (s === 1) await compare('Conv2D', { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [2, 2] }, `forward dilated ${what}`);
        }
  });

  it('DepthwiseConv2dNative gradients (filter and input), with dilations and multipliers', async () => {
    let seed = 100;
    // [batch, height, width, channels, multiplier, kernel]
    const shapes: [number, number, number, number, number, number][] = [[2, 7, 7, 5, 1, 3], [1, 9, 8, 16, 1, 3], [2, 6, 7, 3, 2, 3], [1, 8, 8, 4, 1, 5], [1, 6, 5, 37, 1, 3]];
    for (const [B, H, W, C, mult, K] of shapes)
      for (const s of [1, 2])
        for (const d of [1, 2])
          for (const pad of ['same', 'valid']) {
            if (s > 1 && d > 1) continue; // tfjs requires stride 1 when dilated
            const OH = convOut(H, K, s, d, pad), OW = convOut(W, K, s, d, pad);
            if (OH <= 0 || OW <= 0) continue;
            const x = { shape: [B, H, W, C], values: random(B * H * W * C, seed++) };
            const dy = { shape: [B, OH, OW, C * mult], values: random(B * OH * OW * C * mult, seed++) };
            const filter = { shape: [K, K, C, mult], values: random(K * K * C * mult, seed++) };
            const attrs = { strides: [s, s], dilations: [d, d], pad };
            const what = `x=${x.shape} k=${K} m=${mult} s=${s} d=${d} ${pad}`;
            if (d === 1) {
              await compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }, `dw filter grad ${what}`);
              await compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }, `dw input grad ${what}`);
            } else {
              // The cpu gradient kernels ignore dilations (tfjs's own gradient refuses them), so check the
              // adjoint identity against cpu's forward op instead: <dW, W'> = <dy, conv(x, W')> and
              // <dx, x'> = <dy, conv(x', W)>.
              const x2 = random(x.values.length, seed++), w2 = random(filter.values.length, seed++);
              const [dW, dx] = await on('wasm', () => [
                tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(x.values, x.shape), dy: tf.tensor(dy.values, dy.shape) }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
                tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor(dy.values, dy.shape), filter: tf.tensor(filter.values, filter.shape) }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
              ]);
              const [yW, yX] = await on('cpu', () => [
                tf.depthwiseConv2d(tf.tensor4d(x.values, x.shape as S4), tf.tensor4d(w2, filter.shape as S4), s, pad as 'same', 'NHWC', d),
                tf.depthwiseConv2d(tf.tensor4d(x2, x.shape as S4), tf.tensor4d(filter.values, filter.shape as S4), s, pad as 'same', 'NHWC', d),
              ]);
              assertAdjoint(dW, w2, dy.values, yW, `dw filter grad ${what}`);
              assertAdjoint(dx, x2, dy.values, yX, `dw input grad ${what}`);
            }
          }
  });

  it('BatchMatMul with transposes and batch broadcasting', async () => {
    let seed = 400;
    // [batchA, batchB, M, K, N]
    for (const [ba, bb, M, K, N] of [[1, 1, 5, 7, 3], [3, 3, 9, 300, 20], [2, 1, 4, 6, 530], [1, 4, 13, 8, 9]])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = { shape: ba === 1 && bb === 1 ? (ta ? [K, M] : [M, K]) : [ba, ...(ta ? [K, M] : [M, K])], values: random(ba * M * K, seed++) };
          const b = { shape: ba === 1 && bb === 1 ? (tb ? [N, K] : [K, N]) : [bb, ...(tb ? [N, K] : [K, N])], values: random(bb * K * N, seed++) };
          await compare('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb }, `matmul a=${a.shape} b=${b.shape} ta=${ta} tb=${tb}`);
        }
  });

  it('Sum and Mean over leading axes (and the stock fallback for others)', async () => {
    let seed = 500;
    for (const [shape, axis, keepDims] of [[[4, 3, 5, 7], [0, 1, 2], false], [[600, 3], 0, true], [[2, 3, 4], [1, 0], false], [[5, 6], null, false], [[3, 4, 5], [1, 2], false], [[3, 4, 5], -1, true]] as [number[], number | number[] | null, boolean][])
      for (const kernel of ['Sum', 'Mean']) {
        const x = { shape, values: random(shape.reduce((a, b) => a * b, 1), seed++) };
        await compare(kernel, { x }, { axis, keepDims }, `${kernel} ${shape} axis=${axis}`);
      }
  });

  it('one-pass activation and moment gradients (Relu, Relu6, ReLU6-as-minimum, ClipByValue, Maximum, Square, Mean)', async () => {
    const shape = [2, 5, 4, 6];
    const xv = random(120 * 2, 600).map((v) => v * 8); // spans both ReLU6 clip points
    const wv = random(240, 601);
    const fns: Record<string, (x: tf.Tensor) => tf.Tensor> = {
      relu: (x) => tf.relu(x),
      relu6: (x) => tf.relu6(x),
      keras_relu6: (x) => tf.minimum(6, tf.relu(x)),
      min_right: (x) => tf.minimum(x, 2.5),
      max_left: (x) => tf.maximum(-1.5, x),
      max_right: (x) => tf.maximum(x, 0.5),
      clip: (x) => tf.clipByValue(x, -2, 3),
      square: (x) => tf.square(x),
      mean_moments: (x) => tf.moments(x, [0, 1, 2]).variance.mul(tf.moments(x, [0, 1, 2]).mean),
    };
    for (const [name, f] of Object.entries(fns)) {
      const run = () => tf.grad((x: tf.Tensor) => f(x).mul(tf.tensor(wv.slice(0, f(tf.zeros(shape)).size), f(tf.zeros(shape)).shape)).sum())(tf.tensor(xv.slice(0, 240), shape));
      const [got] = await on('wasm', run);
      const [want] = await on('cpu', run);
      assertClose(got, want, TOL, `gradient of ${name}`);
    }
  });

  it('Slice, Minimum/Maximum with a scalar, Add/Sub/Multiply with a row, zero-copy Identity', async () => {
    let seed = 700;
    for (const [shape, begin, size] of [[[4, 5, 6, 7], [1, 0, 2, 3], [2, 5, 3, 4]], [[3, 8], [1, 2], [2, -1]], [[10], [3], [5]], [[2, 3, 4], [0, 1, 0], [2, 2, 4]]] as [number[], number[], number[]][]) {
      const x = { shape, values: random(shape.reduce((a, b) => a * b, 1), seed++) };
      await compare('Slice', { x }, { begin, size }, `slice ${shape} ${begin} ${size}`);
    }
    for (const kernel of ['Minimum', 'Maximum']) {
      const a = { shape: [2, 3, 4], values: random(24, seed++) };
      const s = { shape: [], values: new Float32Array([0.25]) };
      await compare(kernel, { a, b: s }, {}, `${kernel} tensor-scalar`);
      await compare(kernel, { a: s, b: a }, {}, `${kernel} scalar-tensor`);
      await compare(kernel, { a, b: { shape: [4], values: random(4, seed++) } }, {}, `${kernel} broadcast (stock)`);
    }
    for (const kernel of ['Add', 'Sub', 'Multiply'])
      for (const [sa, sb] of [[[2, 3, 4, 5], [5]], [[2, 3, 4, 5], [1, 1, 1, 5]], [[5], [2, 3, 4, 5]], [[2, 3, 4, 5], [4, 5]], [[2, 3, 4, 5], [1, 4, 5]], [[2, 3, 4, 5], [4, 1]], [[3, 4], [3, 4]], [[2, 3], []]] as number[][][]) {
        const a = { shape: sa, values: random(sa.reduce((p, q) => p * q, 1), seed++) };
        const b = { shape: sb, values: random(sb.reduce((p, q) => p * q, 1), seed++) };
        await compare(kernel, { a, b }, {}, `${kernel} ${sa} vs ${sb}`);
      }
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const t = tf.tensor([1, 2, 3]);
    const c = t.clone();
    t.dispose();
    assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
    c.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('MaxPoolGrad over pool sizes, strides and paddings', async () => {
    let seed = 200;
    for (const [B, H, W, C] of [[2, 6, 6, 3], [1, 7, 9, 5], [2, 5, 6, 8]] as S4[])
      for (const k of [2, 3])
        for (const s of [1, 2])
          for (const pad of ['same', 'valid']) {
            const OH = convOut(H, k, s, 1, pad), OW = convOut(W, k, s, 1, pad);
            const input = { shape: [B, H, W, C], values: random(B * H * W * C, seed++) };
            const dy = { shape: [B, OH, OW, C], values: random(B * OH * OW * C, seed++) };
            const output = { shape: dy.shape, values: new Float32Array(dy.values.length) };
            await compare('MaxPoolGrad', { dy, input, output }, { filterSize: [k, k], strides: [s, s], pad }, `maxpool x=${input.shape} k=${k} s=${s} ${pad}`);
          }
  });

  it('MaxPoolGrad routes the gradient of an all-negative window to its maximum', async () => {
    const x = [-5, -1, -3, -2, -0.5, -7, -6, -9, -4, -8, -0.25, -3, -1.5, -2.5, -3.5, -4.5];
    for (const channels of [1, 4]) {
    const [dx] = await on('wasm', () => {
      const input = tf.tensor4d(x.flatMap((v) => Array(channels).fill(v)), [1, 4, 4, channels]);
      return tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid').sum())(input);
    });
    const want = new Float32Array(16);
    // Windows (2×2, stride 2): {-5,-1,-0.5,-7} → -0.5 @4; {-3,-2,-6,-9} → -2 @3; {-4,-8,-1.5,-2.5} → -1.5 @12; {-0.25,-3,-3.5,-4.5} → -0.25 @10
    for (const i of [4, 3, 12, 10]) want[i] = 1;
    assert.deepEqual(Array.from(dx), Array.from(want).flatMap((v) => Array(channels).fill(v)), `channels=${channels}`);
    }
  });

  it('FusedBatchNorm forward (rank-1, broadcast-4D and scalar parameters, with and without scale/offset)', async () => {
    let seed = 800;
    const C = 6, xs = { shape: [2, 3, 4, C], values: random(144, seed++) };
    const p = (shape: number[], shift = 0) => ({ shape, values: random(shape.reduce((a, b) => a * b, 1), seed++).map((v) => v + shift) });
    for (const shape of [[C], [1, 1, 1, C], []]) {
      await compare('FusedBatchNorm', { x: xs, mean: p(shape), variance: p(shape, 1.5), scale: p(shape), offset: p(shape) }, { varianceEpsilon: 1e-3 }, `batchnorm params ${shape}`);
      await compare('FusedBatchNorm', { x: xs, mean: p(shape), variance: p(shape, 1.5) }, { varianceEpsilon: 1e-3 }, `batchnorm params ${shape} no scale/offset`);
    }
  });

  it('FusedBatchNorm gradient (all five partials) on wasm matches cpu', async () => {
    let seed = 300;
    for (const [B, H, W, C] of [[2, 3, 4, 5], [3, 2, 2, 16]] as S4[])
      for (const withScale of [true]) { // (tfjs itself cannot save a missing scale for the gradient)
        const xv = random(B * H * W * C, seed++), mv = random(C, seed++), vv = random(C, seed++).map((v) => v + 1.5);
        const sv = random(C, seed++), ov = random(C, seed++), wv = random(B * H * W * C, seed++);
        const run = () => {
          const f = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
            tf.batchNorm(x as tf.Tensor4D, m, v, o, withScale ? s : undefined, 1e-3).mul(tf.tensor(wv, [B, H, W, C])).sum();
          return tf.grads(f)([tf.tensor(xv, [B, H, W, C]), tf.tensor(mv, [C]), tf.tensor(vv, [C]), tf.tensor(ov, [C]), tf.tensor(sv, [C])]);
        };
        const got = await on('wasm', run);
        const want = await on('cpu', run);
        got.forEach((g, i) => assertClose(g, want[i], TOL, `batchnorm ${[B, H, W, C]} scale=${withScale} grad ${i}`));
      }
  });
});
