import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSeed, mulberry32, Random } from '../../../../tasks/image_classification/data/random.js';

test('mulberry32 is deterministic by seed and yields floats in [0, 1)', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const c = mulberry32(43);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('Random.permutation is a permutation, reproducible by seed', () => {
  const p = new Random(7).permutation(50);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(p, new Random(7).permutation(50));
  assert.notDeepEqual(p, new Random(8).permutation(50));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
});

test('deriveSeed separates epochs and streams', () => {
  const seeds = new Set<number>();
  for (let epoch = 0; epoch < 100; epoch++) for (let stream = 0; stream < 3; stream++) seeds.add(deriveSeed(42, epoch, stream));
  assert.equal(seeds.size, 300);
  assert.equal(deriveSeed(42, 3, 1), deriveSeed(42, 3, 1));
  assert.ok(Number.isInteger(deriveSeed(1, 2)) && deriveSeed(1, 2) >= 0);
});
