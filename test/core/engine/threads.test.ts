import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { simpleCnn } from '../../../backbones/simple_cnn.js';
import { buildResNet } from '../../../backbones/resnet.js';
import { setEngineThreads, engineThreadStats, type EngineThreadStats } from '../../../src/core/engine/index.js';

/** Split threshold for these tests (below the default, so small shapes exercise the split paths). */
const MIN_FLOPS = 4_000_000;
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
interface Case { kernel: string; inputs: Inputs; attrs: object; flops: number; what: string }

function runCase(c: Case): Promise<Float32Array[]> {
  return on('wasm', () => {
    const ts: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(c.inputs)) ts[k] = tf.tensor(v.values, v.shape);
    return tf.engine().runKernel(c.kernel, ts, c.attrs as tf.NamedAttrMap) as tf.Tensor;
  });
}

/**
 * Starts a fresh 2-thread pool on the wasm backend. With `ready`, waits until its worker is up, and the main
 * thread never takes over the worker's tasks (so the worker runs them even on a busy machine).
 */
async function twoThreads(ready: boolean): Promise<void> {
  setEngineThreads(wasm, 1);
  setEngineThreads(wasm, 2, { takeOver: !ready, minFlops: MIN_FLOPS });
  if (!ready) return;
  // (A split op starts the pool.)
  await runCase({ kernel: 'BatchMatMul', inputs: { a: { shape: [128, 256], values: random(128 * 256, 1) }, b: { shape: [256, 128], values: random(256 * 128, 2) } }, attrs: {}, flops: 0, what: '' });
  for (let i = 0; i < 600 && !engineThreadStats(wasm).workersReady; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(engineThreadStats(wasm).workersReady, 'the worker started');
}

/**
 * Runs each case on wasm with 1 engine thread, with 2 threads (worker up), with 2 threads on a just-started
 * pool (the main thread takes over the tasks of a worker not up yet), and on cpu: all agree (the two 2-thread
 * runs bit for bit), ops above MIN_FLOPS are split and others not, no tensor leaks.
 */
async function compareThreads(cases: Case[]): Promise<void> {
  setEngineThreads(wasm, 1);
  const one: Float32Array[] = [];
  for (const c of cases) one.push((await runCase(c))[0]);
  await twoThreads(true);
  const stats0 = engineThreadStats(wasm);
  const two: Float32Array[] = [];
  for (const [i, c] of cases.entries()) {
    const before = engineThreadStats(wasm).splitOps;
    const tensors = tf.memory().numTensors;
    const [out] = await runCase(c);
    two.push(out);
    assert.equal(tf.memory().numTensors, tensors, `${c.what}: tensors leaked`);
    const split = engineThreadStats(wasm).splitOps > before;
    assert.equal(split, c.flops >= MIN_FLOPS, `${c.what}: ${c.flops} FLOPs, split: ${split}`);
    assertClose(out, one[i], TOL, `${c.what}: 2 threads vs 1`);
    const [want] = await on('cpu', () => {
      const ts: tf.NamedTensorMap = {};
      for (const [k, v] of Object.entries(c.inputs)) ts[k] = tf.tensor(v.values, v.shape);
      return tf.engine().runKernel(c.kernel, ts, c.attrs as tf.NamedAttrMap) as tf.Tensor;
    });
    assertClose(out, want, TOL, `${c.what}: 2 threads vs cpu`);
  }
  assert.ok(engineThreadStats(wasm).workerTasks > stats0.workerTasks, 'the worker ran tasks');
  for (const [i, c] of cases.entries()) {
    if (c.flops < MIN_FLOPS) continue;
    await twoThreads(false);
    const [late] = await runCase(c);
    assertClose(late, one[i], TOL, `${c.what}: 2 threads, worker starting, vs 1`);
    // Bit for bit the worker's result, although the main thread ran some or all of its tasks: a seeded run
    // does not depend on how busy the machine is (the filter gradients add their partial sums in task order).
    assert.ok(Buffer.from(late.buffer, late.byteOffset, late.byteLength).equals(Buffer.from(two[i].buffer, two[i].byteOffset, two[i].byteLength)), `${c.what}: 2 threads with the main thread taking over tasks, bit-identical to the worker running them`);
  }
  setEngineThreads(wasm, 2, { minFlops: MIN_FLOPS });
}

describe('engine ops split across 2 threads equal 1 thread and cpu', () => {
  it('Conv2D, FusedConv2D, Conv2DBackpropFilter, Conv2DBackpropInput (odd batches, below and above the threshold)', async () => {
    let seed = 1;
    const cases: Case[] = [];
    // [batch, size, inChannels, outChannels, kernel, stride]
    const shapes: [number, number, number, number, number, number][] = [
      [3, 12, 16, 32, 3, 1],
      [5, 9, 8, 24, 3, 2],
      [1, 10, 16, 32, 3, 1], // one image: forward and filter grad split by rows; the input grad cannot split
      [7, 8, 24, 40, 1, 1], // pointwise
      [3, 11, 3, 16, 7, 2], // stem-like: 3 input channels (engine conv when threaded)
      [9, 20, 16, 16, 3, 1], // several tasks per worker (> 2 × 1024 rows)
      [2, 4, 4, 8, 3, 1], // below the threshold
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
        cases.push(
          { kernel: 'Conv2D', inputs: { x, filter }, attrs: conv, flops, what: `forward ${what}` },
          { kernel: 'FusedConv2D', inputs: { x, filter, bias }, attrs: { ...conv, activation: 'relu' }, flops, what: `fused forward ${what}` },
          { kernel: 'Conv2DBackpropFilter', inputs: { x, dy }, attrs: { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: filter.shape }, flops, what: `filter grad ${what}` },
          { kernel: 'Conv2DBackpropInput', inputs: { dy, filter }, attrs: { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: x.shape }, flops: B > 1 ? flops : 0, what: `input grad ${what}` },
        );
      }
    await compareThreads(cases);
  });

  it('depthwise gradients (filter and input), with multipliers and strides', async () => {
    let seed = 300;
    const cases: Case[] = [];
    // [batch, size, channels, multiplier, stride]
    for (const [B, S, C, mult, s] of [[5, 32, 64, 1, 1], [7, 40, 32, 2, 2], [9, 24, 48, 1, 1], [2, 6, 8, 1, 1]])
      for (const pad of ['same', 'valid']) {
        const O = pad === 'same' ? Math.ceil(S / s) : Math.ceil((S - 2) / s);
        const x = { shape: [B, S, S, C], values: random(B * S * S * C, seed++) };
        const dy = { shape: [B, O, O, C * mult], values: random(B * O * O * C * mult, seed++) };
        const filter = { shape: [3, 3, C, mult], values: random(9 * C * mult, seed++) };
        const attrs = { strides: [s, s], dilations: [1, 1], pad };
        const flops = 2 * B * O * O * 9 * C * mult;
        const what = `x=${x.shape} m=${mult} s=${s} ${pad}`;
        cases.push(
          { kernel: 'DepthwiseConv2dNativeBackpropFilter', inputs: { x, dy }, attrs: { ...attrs, filterShape: filter.shape }, flops, what: `dw filter grad ${what}` },
          { kernel: 'DepthwiseConv2dNativeBackpropInput', inputs: { dy, filter }, attrs: { ...attrs, inputShape: x.shape }, flops, what: `dw input grad ${what}` },
        );
      }
    await compareThreads(cases);
  });

  it('BatchMatMul split by rows and by columns, with transposes', async () => {
    let seed = 200;
    const cases: Case[] = [];
    // [M, K, N]: M ≥ N splits rows, M < N columns; the last is below the threshold.
    for (const [M, K, N] of [[301, 97, 70], [37, 300, 413], [64, 200, 10], [10, 30, 20]])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = { shape: ta ? [K, M] : [M, K], values: random(M * K, seed++) };
          const b = { shape: tb ? [N, K] : [K, N], values: random(K * N, seed++) };
          cases.push({ kernel: 'BatchMatMul', inputs: { a, b }, attrs: { transposeA: ta, transposeB: tb }, flops: 2 * M * N * K, what: `matmul ${M}x${K}x${N} ta=${ta} tb=${tb}` });
        }
    await compareThreads(cases);
  });
});

describe('whole-model gradients with 2 engine threads equal 1 thread', () => {
  async function grads(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, threads: number): Promise<Record<string, Float32Array>> {
    setEngineThreads(wasm, threads, { minFlops: MIN_FLOPS });
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
      const splitBefore = engineThreadStats(wasm).splitOps;
      const tensors = tf.memory().numTensors;
      const two = await grads(model, x, y, 2);
      assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
      assert.ok(engineThreadStats(wasm).splitOps > splitBefore, 'some ops were split');
      for (const k of Object.keys(one)) assertClose(two[k], one[k], TOL, `${name}: ${k}`);
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});

describe('the weight cache', () => {
  it('reuses a variable\'s copy across ops and sees a new value after assign', async () => {
    await twoThreads(true);
    await tf.setBackend('wasm');
    const x = tf.tensor4d(random(3 * 12 * 12 * 16, 31), [3, 12, 12, 16]);
    const w = tf.variable(tf.tensor4d(random(3 * 3 * 16 * 32, 32), [3, 3, 16, 32]));
    const expected = async () => (await on('cpu', () => tf.conv2d(tf.tensor4d(x.dataSync(), x.shape), tf.tensor4d(w.dataSync(), w.shape as [number, number, number, number]), 1, 'same')))[0];
    for (let step = 0; step < 3; step++) {
      const want = await expected();
      for (let i = 0; i < 2; i++) {
        const [got] = await on('wasm', () => tf.conv2d(x, w, 1, 'same'));
        assertClose(got, want, TOL, `step ${step}, call ${i}`);
      }
      tf.tidy(() => w.assign(w.mul(-0.5).add(0.1)));
    }
    tf.dispose([x, w]);
  });

  it('starts over when full, never while a job uses it', () => {
    const pool = new EnginePool(2, { cacheBytes: 1 << 20 });
    const mem = new WebAssembly.Memory({ initial: 32 });
    const k1 = {}, k2 = {}, k3 = {}, k4 = {};
    const n = 400_000; // bytes: two fit in the 1 MiB cache, three do not
    const job1 = pool.job();
    const p1 = job1.cachedInput(k1, mem, 0, n);
    job1.run(() => undefined, 0);
    const job2 = pool.job();
    assert.equal(job2.cachedInput(k1, mem, 0, n), p1, 'hit');
    assert.equal(job2.cachedInput(k2, mem, 0, n), p1 + n, 'added');
    assert.ok(job2.cachedInput(k4, mem, 0, n) >= p1 + (1 << 20), 'full while job2 uses it: a plain copy');
    job2.run(() => undefined, 0);
    const job3 = pool.job();
    assert.equal(job3.cachedInput(k3, mem, 0, n), p1, 'full: the cache started over');
    job3.run(() => undefined, 0);
    const job4 = pool.job();
    assert.equal(job4.cachedInput(k3, mem, 0, n), p1, 'k3 hit');
    assert.equal(job4.cachedInput(k1, mem, 0, n), p1 + n, 'k1 was dropped: copied again');
    pool.dispose();
  });
});

describe('the thread pool', () => {
  it('runs every task exactly once, on the worker or (when the worker is late) on the main thread', () => {
    const pool = new EnginePool(2); // just started: the worker may not be up yet, so the main thread may take over
    const job = pool.job();
    const out = job.alloc(4 * 4);
    const ranOn: string[] = [];
    for (let t = 0; t < 4; t++) {
      job.task(0, {
        worker: (h) => h.e.bias_act(out + t * 4, 1, 1, 0, 0), // a no-op call: something to run
        main: () => ranOn.push(`main ${t}`),
        collect: () => ranOn.push(`worker ${t}`),
      });
    }
    job.run(() => undefined, 0);
    assert.deepEqual(ranOn.map((r) => Number(r.split(' ')[1])).sort(), [0, 1, 2, 3], ranOn.join(', '));
    assert.equal(pool.tasks.worker + pool.tasks.stolen, 4);
    pool.dispose();
  });

  it('reports a failing worker as an error and shuts down', async () => {
    const pool = new EnginePool(2, { takeOver: false }); // (the worker runs its task however busy the machine)
    for (let i = 0; i < 600 && !pool.booted; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pool.booted, 'worker started');
    const job = pool.job();
    job.task(0, {
      worker: (h) => h.e.fill_zero(2 ** 32 - 64, 1 << 20), // out of bounds: the worker traps
      main: () => { throw new Error('the main thread took the task'); },
      collect: () => undefined,
    });
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
