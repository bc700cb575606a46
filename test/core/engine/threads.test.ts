import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { simpleCnn } from '../../../backbones/simple_cnn.js';
import { buildResNet } from '../../../backbones/resnet.js';
import { PARALLEL_MIN_FLOPS, setEngineThreads, splitOpCount } from '../../../src/core/engine/index.js';
import { EnginePool } from '../../../src/core/engine/threads/pool.js';
import { assertClose, on, random, setup } from './helpers.js';

const TOL = 1e-4;

before(setup);

let wasm: object;
before(async () => {
  await tf.setBackend('wasm');
  wasm = tf.backend();
});
after(() => setEngineThreads(wasm, 1)); // stops the pool

type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Runs a kernel on wasm with 1 and 2 engine threads and on cpu; checks all agree and whether it split. */
async function compareThreads(kernel: string, inputs: Inputs, attrs: object, flops: number, what: string): Promise<void> {
  const run = () => {
    const ts: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
    return tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
  };
  setEngineThreads(wasm, 1);
  const [one] = await on('wasm', run);
  setEngineThreads(wasm, 2);
  const before = splitOpCount(wasm);
  const tensors = tf.memory().numTensors;
  const [two] = await on('wasm', run);
  assert.equal(tf.memory().numTensors, tensors, `${what}: tensors leaked`);
  const split = splitOpCount(wasm) > before;
  assert.equal(split, flops >= PARALLEL_MIN_FLOPS, `${what}: ${flops} FLOPs, split: ${split}`);
  const [want] = await on('cpu', run);
  assertClose(two, one, TOL, `${what}: 2 threads vs 1`);
  assertClose(two, want, TOL, `${what}: 2 threads vs cpu`);
}

describe('engine ops split across 2 threads equal 1 thread and cpu', () => {
  it('Conv2D, FusedConv2D, Conv2DBackpropFilter, Conv2DBackpropInput (odd batches, below and above the threshold)', async () => {
    let seed = 1;
    // [batch, size, inChannels, outChannels, kernel, stride]
    const shapes: [number, number, number, number, number, number][] = [
      [3, 12, 16, 32, 3, 1], // above
      [5, 9, 8, 24, 3, 2], // stride 2
      [1, 10, 16, 32, 3, 1], // one image: forward/filter grad split by rows, input grad cannot split
      [7, 8, 24, 40, 1, 1], // pointwise
      [3, 11, 3, 16, 7, 2], // stem-like: 3 input channels (engine conv when threaded)
      [2, 4, 4, 8, 3, 1], // below
    ];
    for (const [B, S, Ci, Co, K, s] of shapes)
      for (const pad of ['same', 'valid']) {
        const O = pad === 'same' ? Math.ceil(S / s) : Math.ceil((S - K + 1) / s);
        if (O <= 0) continue;
        const x = { shape: [B, S, S, Ci], values: random(B * S * S * Ci, seed++) };
        const dy = { shape: [B, O, O, Co], values: random(B * O * O * Co, seed++) };
        const filter = { shape: [K, K, Ci, Co], values: random(K * K * Ci * Co, seed++) };
        const bias = { shape: [Co], values: random(Co, seed++) };
        const flops = 2 * B * O * O * K * K * Ci * Co;
        const what = `x=${x.shape} k=${K} s=${s} co=${Co} ${pad}`;
        const conv = { strides: [s, s], pad, dataFormat: 'NHWC', dilations: [1, 1] };
        await compareThreads('Conv2D', { x, filter }, conv, flops, `forward ${what}`);
        await compareThreads('FusedConv2D', { x, filter, bias }, { ...conv, activation: 'relu' }, flops, `fused forward ${what}`);
        await compareThreads('Conv2DBackpropFilter', { x, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: filter.shape }, flops, `filter grad ${what}`);
        await compareThreads('Conv2DBackpropInput', { dy, filter }, { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: x.shape }, B > 1 ? flops : 0, `input grad ${what}`);
      }
  });

  it('BatchMatMul split by rows and by columns, with transposes', async () => {
    let seed = 200;
    // [M, K, N]: M ≥ N splits rows, M < N columns; the last is below the threshold.
    for (const [M, K, N] of [[301, 97, 70], [37, 300, 413], [64, 200, 10], [10, 30, 20]])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = { shape: ta ? [K, M] : [M, K], values: random(M * K, seed++) };
          const b = { shape: tb ? [N, K] : [K, N], values: random(K * N, seed++) };
          await compareThreads('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb }, 2 * M * N * K, `matmul ${M}x${K}x${N} ta=${ta} tb=${tb}`);
        }
  });
});

describe('whole-model gradients with 2 engine threads equal 1 thread', () => {
  async function grads(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, threads: number): Promise<Record<string, Float32Array>> {
    setEngineThreads(wasm, threads);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const out: Record<string, Float32Array> = { loss: value.dataSync() as Float32Array };
    for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  }

  for (const [name, build, size, channels] of [
    ['simple_cnn', () => simpleCnn.build({ inputShape: [28, 28, 1] }), 28, 1],
    ['resnet (basic blocks, BatchNorm in training mode)', () => buildResNet([1, 1, 1, 1], 'basic', { inputShape: [32, 32, 3] }, 16), 32, 3],
  ] as const) {
    it(name, async () => {
      await tf.setBackend('wasm');
      const input = tf.input({ shape: [size, size, channels] });
      const features = build().apply(input) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(features) as tf.SymbolicTensor });
      const batch = 5;
      const x = tf.tensor4d(random(batch * size * size * channels, 11), [batch, size, size, channels]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), 3).toFloat();
      const one = await grads(model, x, y, 1);
      const splitBefore = splitOpCount(wasm);
      const tensors = tf.memory().numTensors;
      const two = await grads(model, x, y, 2);
      assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
      assert.ok(splitOpCount(wasm) > splitBefore, 'some ops were split');
      for (const k of Object.keys(one)) assertClose(two[k], one[k], TOL, `${name}: ${k}`);
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});

describe('the thread pool', () => {
  it('reports a failing worker as an error and shuts down', () => {
    const pool = new EnginePool(2);
    const job = pool.job();
    job.heap(0).e.fill_zero(2 ** 32 - 64, 1 << 20); // out of bounds: the worker traps
    assert.throws(() => job.run(() => undefined, 0), /flash engine: worker 1 failed: .*out of bounds/i);
    assert.ok(pool.isDisposed);
    assert.throws(() => pool.job(), /shut down/);
  });

  it('never keeps the process alive, and stops with its backend', async () => {
    // A child process: split one conv, then either just end or remove the backend first.
    const js = fileURLToPath(new URL('./threads_child.js', import.meta.url));
    const script = existsSync(js) ? js : js.replace(/\.js$/, '.ts'); // (from dist/, or from sources under tsx)
    const exec = promisify(execFile);
    for (const mode of ['exit', 'remove']) {
      const t0 = Date.now();
      const { stdout } = await exec(process.execPath, [...process.execArgv, script, mode], { timeout: 60_000 });
      const out = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.ok(out.split >= 1, `${mode}: the conv was split (${stdout})`);
      if (mode === 'remove') assert.equal(out.afterRemove, 0, 'pool stopped with the backend');
      assert.ok(Date.now() - t0 < 60_000);
    }
  });
});
