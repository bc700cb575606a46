import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FeatureCacheSplit } from '../../../src/core/finetuning/feature_cache.js';
import type { Batch, BatchOptions, DataSplit } from '../../../src/core/trainer/types.js';

/** Four samples whose multi-label targets are [b, 3] float rows (what a multi-label ImageSplit yields). */
const rows = [
  [1, 0, 1],
  [0, 0, 0],
  [0, 1, 0],
  [1, 1, 1],
];
const source: DataSplit = {
  size: 4,
  async *batches(o: BatchOptions): AsyncIterable<Batch> {
    for (let s = 0; s < 4; s += o.batchSize) {
      const idx = [0, 1, 2, 3].slice(s, s + o.batchSize);
      yield { x: tf.tensor2d(idx.map((i) => [i, i]), [idx.length, 2]), y: tf.tensor2d(idx.map((i) => rows[i]), [idx.length, 3]), ids: idx.map(String) };
    }
  },
};

test('the feature cache keeps multi-label target rows with their samples through shuffling', async () => {
  await tf.setBackend('cpu');
  const cache = new FeatureCacheSplit(source, { features: (x) => tf.mul(x, 10), active: () => true });
  for (const epoch of [0, 1]) {
    const seen: string[] = [];
    for await (const b of cache.batches({ batchSize: 3, shuffle: true, seed: 5, epoch })) {
      assert.deepEqual(b.y.shape, [b.ids.length, 3]);
      assert.equal(b.y.dtype, 'float32');
      const ys = (await b.y.array()) as number[][];
      const xs = (await b.x.array()) as number[][];
      b.ids.forEach((id, j) => {
        assert.deepEqual(ys[j], rows[Number(id)]);
        assert.deepEqual(xs[j], [Number(id) * 10, Number(id) * 10]);
      });
      seen.push(...b.ids);
      tf.dispose([b.x, b.y]);
    }
    assert.deepEqual(seen.sort(), ['0', '1', '2', '3']);
  }
});
