import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { engineKernelNames } from '../../../src/core/engine/index.js';
import { assertClose, on, random, setup } from './helpers.js';

before(setup);

describe('GatherV2 on wasm', () => {
  it('is the engine\'s and equals the cpu backend over shapes, axes, index ranks and dtypes', async () => {
    assert.ok(engineKernelNames().includes('GatherV2'));
    // [x shape, axis, indices shape]
    const grid: [number[], number, number[]][] = [
      [[10], 0, [7]], [[10, 64], 0, [3, 5]], [[9, 3], 1, [4]], [[4, 6, 5], 1, [2, 2]], [[4, 6, 5], 2, [8]], [[5, 7], 0, []], [[300, 1], 0, [50]], [[6, 4], -1, [6]],
    ];
    let seed = 1;
    for (const [shape, axis, ishape] of grid)
      for (const dtype of ['float32', 'int32'] as const) {
        const n = shape.reduce((a, b) => a * b, 1), m = ishape.reduce((a, b) => a * b, 1);
        const dim = shape.at(axis)!;
        const xs = dtype === 'float32' ? random(n, seed++) : Int32Array.from(random(n, seed++), (v) => Math.round(v * 1000));
        const idx = Int32Array.from(random(m, seed++), (v) => Math.floor(((v + 1) / 2) * dim) % dim);
        const run = () => tf.gather(tf.tensor(xs, shape, dtype), tf.tensor(idx, ishape, 'int32'), axis);
        const [got] = await on('wasm', run);
        const [want] = await on('cpu', run);
        const what = `x ${dtype} [${shape}] axis ${axis} indices [${ishape}]`;
        if (dtype === 'int32') assert.deepEqual(Array.from(got), Array.from(want), what);
        else assertClose(got, want, 0, what);
        await tf.setBackend('wasm');
        const [s1, s2] = tf.tidy(() => [run().shape, tf.gather(tf.zeros(shape), tf.tensor(idx, ishape, 'int32'), axis).shape]);
        assert.deepEqual(s1, s2, `${what}: shape`);
      }
  });

  it('refuses an index out of range, naming it', async () => {
    await tf.setBackend('wasm');
    assert.throws(() => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], 'int32'))), /index value 4 is not in \[0, 3\]/);
    assert.throws(() => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([-1], 'int32'))), /index value -1/);
  });

  it('leaves batchDims to the stock kernel (same result as cpu)', async () => {
    const xs = random(2 * 5 * 3, 9);
    const run = () => tf.gather(tf.tensor3d(xs, [2, 5, 3]), tf.tensor2d([[0, 4], [3, 3]], [2, 2], 'int32'), 1, 1);
    const [got] = await on('wasm', run);
    const [want] = await on('cpu', run);
    assertClose(got, want, 0, 'batchDims 1');
  });
});

describe('Transpose on wasm', () => {
  it('equals cpu for identity, size-1-axis and real permutations (the first two share the buffer)', async () => {
    let seed = 50;
    const cases: [number[], number[]][] = [[[7, 5], [0, 1]], [[4, 1, 6], [1, 0, 2]], [[4, 1, 6], [0, 2, 1]], [[3, 4], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 1, 3, 1], [3, 0, 1, 2]]];
    for (const [shape, perm] of cases)
      for (const dtype of ['float32', 'int32'] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const xs = dtype === 'float32' ? random(n, seed++) : Int32Array.from(random(n, seed++), (v) => Math.round(v * 100));
        const run = () => tf.transpose(tf.tensor(xs, shape, dtype), perm);
        const [got] = await on('wasm', run);
        const [want] = await on('cpu', run);
        assert.deepEqual(Array.from(got), Array.from(want), `[${shape}] perm [${perm}] ${dtype}`);
        await tf.setBackend('wasm');
        assert.deepEqual(tf.tidy(() => run().shape), shape.map((_, i) => shape[perm[i]]));
      }
    // A shared buffer outlives its source.
    await tf.setBackend('wasm');
    const src = tf.tensor2d([[1, 2, 3]]);
    const t = tf.transpose(src, [0, 1]);
    src.dispose();
    assert.deepEqual(t.arraySync(), [[1, 2, 3]]);
    t.dispose();
  });
});
