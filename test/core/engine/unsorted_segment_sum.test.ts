import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { engineKernelNames } from '../../../src/core/engine/index.js';
import { assertClose, on, random, setup } from './helpers.js';

before(setup);

/** `n` ids in [-1, numSegments], so there are repeats and some out-of-range ids (which must be dropped). */
function ids(n: number, numSegments: number, seed: number): Int32Array {
  return Int32Array.from(random(n, seed), (v) => Math.floor(((v + 1) / 2) * (numSegments + 2)) - 1);
}

function values(n: number, dtype: 'float32' | 'int32', seed: number): Float32Array | Int32Array {
  const f = random(n, seed);
  return dtype === 'float32' ? f : Int32Array.from(f, (v) => Math.round(v * 50));
}

describe('UnsortedSegmentSum on wasm', () => {
  it('is registered by the engine (tfjs-backend-wasm has none)', () => {
    assert.ok(engineKernelNames().includes('UnsortedSegmentSum'));
    assert.ok(tf.getKernel('UnsortedSegmentSum', 'wasm'));
  });

  it('equals the cpu backend over shapes × dtypes, with repeated and out-of-range ids', async () => {
    // [x shape, numSegments]; ids run over x's first dimension.
    const grid: [number[], number][] = [
      [[1], 1], [[7], 3], [[10, 1], 4], [[12, 5], 6], [[9, 4, 3], 2], [[6, 2, 3, 2], 5], [[40, 64], 17], [[0, 4], 3],
    ];
    let seed = 1;
    for (const [shape, numSegments] of grid)
      for (const dtype of ['float32', 'int32'] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = values(n, dtype, seed++);
        const seg = ids(shape[0], numSegments, seed++);
        const run = () => tf.unsortedSegmentSum(tf.tensor(x, shape, dtype), tf.tensor1d(seg, 'int32'), numSegments);
        const [got] = await on('wasm', run);
        const [want] = await on('cpu', run);
        const what = `x ${dtype} [${shape}] into ${numSegments} segments`;
        await tf.setBackend('wasm');
        const shapeOut = tf.tidy(() => run().shape);
        assert.deepEqual(shapeOut, [numSegments, ...shape.slice(1)], `${what}: shape`);
        assert.equal(got.constructor, dtype === 'float32' ? Float32Array : Int32Array, `${what}: dtype`);
        if (dtype === 'int32') assert.deepEqual(Array.from(got), Array.from(want), what);
        else assertClose(got, want, 1e-6, what);
        assert.ok(numSegments === 0 || n < 10 || got.some((v) => v !== 0), `${what}: not all zero`);
      }
  });

  it('gives an empty result for 0 segments (the cpu kernel cannot: it packs an empty list)', async () => {
    await tf.setBackend('wasm');
    const shape = tf.tidy(() => tf.unsortedSegmentSum(tf.ones([5, 3]), tf.tensor1d([0, 1, 2, 1, 0], 'int32'), 0).shape);
    assert.deepEqual(shape, [0, 3]);
  });

  it('sums a segment\'s repeated rows and drops ids outside [0, numSegments)', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [10, 20], [100, 200], [5, 5], [7, 7]]), tf.tensor1d([2, 0, 2, -1, 3], 'int32'), 3).arraySync());
    assert.deepEqual(out, [[10, 20], [0, 0], [101, 202]]);
  });

  it('takes ids over several leading dimensions (TensorFlow\'s semantics): the same as flattening them', async () => {
    await tf.setBackend('wasm');
    const x = random(4 * 3 * 5, 7), seg = ids(12, 4, 8);
    const [a, b] = tf.tidy(() => [
      tf.unsortedSegmentSum(tf.tensor3d(x, [4, 3, 5]), tf.tensor2d(seg, [4, 3], 'int32') as unknown as tf.Tensor1D, 4),
      tf.unsortedSegmentSum(tf.tensor2d(x, [12, 5]), tf.tensor1d(seg, 'int32'), 4),
    ]).map((t) => { const v = t.dataSync() as Float32Array; t.dispose(); return v; });
    assertClose(a, b, 0, 'rank-2 ids');
  });

  it('refuses ids that are not the leading dimensions of x, with a clear message', async () => {
    await tf.setBackend('wasm');
    assert.throws(() => tf.tidy(() => tf.unsortedSegmentSum(tf.zeros([4, 3]), tf.tensor1d([0, 1, 2], 'int32'), 3)), /UnsortedSegmentSum: segmentIds \[3\] must be the leading dimensions of x \[4, 3\]/);
  });

  it('makes gather differentiable on wasm: its gradient equals cpu\'s (axis 0 and 1, repeated indices)', async () => {
    const table = random(11 * 6, 21), idx = Int32Array.from([3, 0, 3, 10, 7, 3, 1, 0]), w = random(8 * 6, 22);
    for (const axis of [0, 1]) {
      const shape = axis === 0 ? [11, 6] : [6, 11];
      const wShape = axis === 0 ? [8, 6] : [6, 8];
      const run = () => tf.grad((e: tf.Tensor) => tf.gather(e, tf.tensor1d(idx, 'int32'), axis).mul(tf.tensor(w, wShape)).sum())(tf.tensor(table, shape));
      const [got] = await on('wasm', run);
      const [want] = await on('cpu', run);
      assertClose(got, want, 1e-6, `gather grad axis ${axis}`);
    }
    const plain = () => tf.grad((e: tf.Tensor) => tf.gather(e, tf.tensor2d([[1, 1], [2, 0]], [2, 2], 'int32')).sum())(tf.tensor2d(table.slice(0, 18), [3, 6]));
    const [got] = await on('wasm', plain);
    assert.deepEqual(Array.from(got), [...Array(6).fill(1), ...Array(6).fill(2), ...Array(6).fill(1)]);
  });

  it('trains a tf.layers.embedding model on wasm: loss falls, weights after 20 steps equal cpu\'s', async () => {
    const vocab = 30, len = 6, batch = 16;
    const tokens = Int32Array.from(random(batch * len, 31), (v) => Math.floor(((v + 1) / 2) * vocab));
    const labels = new Float32Array(batch * 2);
    for (let i = 0; i < batch; i++) labels[i * 2 + (tokens[i * len] % 2)] = 1; // learnable from the first token
    await tf.setBackend('cpu');
    const init = tf.tidy(() => {
      const m = build(vocab, len);
      return m.getWeights().map((t) => t.clone());
    });
    const table0 = init[0].dataSync() as Float32Array;
    const trainOn = async (backend: string) => {
      await tf.setBackend(backend);
      const m = build(vocab, len);
      m.setWeights(init);
      m.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
      const x = tf.tensor2d(tokens, [batch, len], 'int32'), y = tf.tensor2d(labels, [batch, 2]);
      const losses: number[] = [];
      for (let step = 0; step < 20; step++) losses.push(await m.trainOnBatch(x, y) as number);
      const weights = m.getWeights().map((t) => t.dataSync() as Float32Array);
      tf.dispose([x, y]);
      m.dispose();
      return { losses, weights };
    };
    const wasm = await trainOn('wasm');
    const cpu = await trainOn('cpu');
    tf.dispose(init);
    assert.ok(wasm.losses.at(-1)! < wasm.losses[0] * 0.7, `loss fell on wasm: ${wasm.losses[0]} → ${wasm.losses.at(-1)}`);
    assert.equal(wasm.weights.length, cpu.weights.length);
    wasm.weights.forEach((w, i) => assertClose(w, cpu.weights[i], 1e-4, `weight ${i}`));
    // The embedding table itself moved: its gradient (the UnsortedSegmentSum) reached it.
    const moved = wasm.weights[0].reduce((n, v, i) => n + (Math.abs(v - table0[i]) > 1e-3 ? 1 : 0), 0);
    assert.ok(moved > vocab, `embedding entries that moved: ${moved}`);
  });
});

function build(vocab: number, len: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.embedding({ inputDim: vocab, outputDim: 8, inputLength: len }));
  m.add(tf.layers.globalAveragePooling1d());
  m.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
  return m;
}
