import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashUserError } from '../../../../src/core/errors.js';
import { stratifiedSplit } from '../../../../tasks/image_classification/data/split.js';

/** 3 classes of 50, 30 and 7 samples, interleaved. */
function makeLabels(): number[] {
  const labels: number[] = [];
  const counts = [50, 30, 7];
  for (let i = 0; labels.length < 87; i++) for (let c = 0; c < 3; c++) if (i < counts[c]) labels.push(c);
  return labels;
}

test('stratifiedSplit is deterministic by seed and partitions the indices', () => {
  const labels = makeLabels();
  const a = stratifiedSplit(labels, 0.2, 42);
  const b = stratifiedSplit(labels, 0.2, 42);
  const c = stratifiedSplit(labels, 0.2, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.val, c.val);
  const all = [...a.train, ...a.val].sort((x, y) => x - y);
  assert.deepEqual(all, labels.map((_, i) => i));
  assert.deepEqual(a.train, [...a.train].sort((x, y) => x - y));
  assert.deepEqual(a.val, [...a.val].sort((x, y) => x - y));
});

test('stratifiedSplit keeps class proportions (rounded per class) and every class in both splits', () => {
  const labels = makeLabels();
  const { train, val } = stratifiedSplit(labels, 0.2, 1);
  const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
  assert.deepEqual([0, 1, 2].map((c) => count(val, c)), [10, 6, 1]);
  assert.deepEqual([0, 1, 2].map((c) => count(train, c)), [40, 24, 6]);
});

test('stratifiedSplit: small classes still get 1 in val and 1 in train; singletons stay in train', () => {
  const labels = [0, 0, 1, 1, 1, 2];
  const { train, val } = stratifiedSplit(labels, 0.1, 5);
  const inVal = val.map((i) => labels[i]).sort();
  assert.deepEqual(inVal, [0, 1]);
  assert.ok(train.some((i) => labels[i] === 0) && train.some((i) => labels[i] === 1));
  assert.ok(train.includes(5));
  // A large fraction never empties train for a class.
  const big = stratifiedSplit([0, 0, 1, 1], 0.9, 5);
  assert.equal(big.val.length, 2);
  assert.equal(big.train.length, 2);
});

test('stratifiedSplit: 0 puts everything in train; out-of-range fractions are user errors', () => {
  assert.deepEqual(stratifiedSplit([0, 1, 0, 1], 0, 42), { train: [0, 1, 2, 3], val: [] });
  assert.throws(() => stratifiedSplit([0, 1], 1, 42), (e) => e instanceof FlashUserError && /val_split/.test(e.message));
  assert.throws(() => stratifiedSplit([0, 1], -0.1, 42), FlashUserError);
  assert.throws(() => stratifiedSplit([0, 1], NaN, 42), FlashUserError);
});

test('stratifiedSplit works on typed arrays', () => {
  const labels = Int32Array.from(makeLabels());
  assert.deepEqual(stratifiedSplit(labels, 0.25, 9), stratifiedSplit(makeLabels(), 0.25, 9));
});
