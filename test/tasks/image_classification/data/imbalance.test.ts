import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIO } from '../../../../src/cli/types.js';
import { defaultRecipe } from '../../../../src/core/config/index.js';
import { trainImageClassifier } from '../../../../tasks/image_classification/train.js';
import { drawShape, makeTempDir, removeDir } from '../../../helpers/images.js';
import * as tf from '@tensorflow/tfjs';
import {
  balancedOrder,
  chooseClassWeights,
  imbalanceRatio,
  inverseFrequencyWeights,
} from '../../../../tasks/image_classification/data/imbalance.js';
import { splitFromPixels } from '../../../../tasks/image_classification/data/data_split.js';
import { ImageClassifier } from '../../../../tasks/image_classification/model.js';
import { defaultImageRecipe } from '../../../../tasks/image_classification/schema.js';

let tmp: string | undefined;
before(async () => {
  await tf.setBackend('cpu');
});
after(async () => {
  if (tmp) await removeDir(tmp);
});

const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

test('inverse-frequency weights, normalised to mean 1', () => {
  const w = inverseFrequencyWeights([40, 8]);
  // 1/40 and 1/8, mean 0.075 → 1/3 and 5/3.
  close(w[0], 1 / 3);
  close(w[1], 5 / 3);
  close((w[0] + w[1]) / 2, 1);
  const w3 = inverseFrequencyWeights([10, 20, 40]);
  close(w3.reduce((a, b) => a + b, 0) / 3, 1);
  close(w3[0] / w3[2], 4);
  // A class with no samples gets 1 and does not count in the mean.
  const w0 = inverseFrequencyWeights([10, 0, 30]);
  close(w0[1], 1);
  close((w0[0] + w0[2]) / 2, 1);
  assert.equal(imbalanceRatio([40, 8]), 5);
  assert.equal(imbalanceRatio([5, 0, 10]), 2);
  assert.equal(imbalanceRatio([7]), 1);
});

test('auto class weights: on above 3x (and said so, with the weights), off at or below; none = off', () => {
  const on = chooseClassWeights('auto', [40, 8], ['cat', 'dog']);
  assert.ok(on.weights);
  close(on.weights[1], 5 / 3);
  assert.match(on.message, /class weights: auto, on/);
  assert.match(on.message, /5\.0x/);
  assert.match(on.message, /cat=0\.333, dog=1\.667/);
  const off = chooseClassWeights('auto', [30, 10]);
  assert.equal(off.weights, null);
  assert.match(off.message, /off/);
  assert.equal(chooseClassWeights('none', [40, 8]).weights, null);
});

test('weighted loss equals the hand-computed mean of w[y]·CE', () => {
  const model = new ImageClassifier({ labels: ['a', 'b', 'c'], classWeights: [0.5, 1, 1.5] });
  const logits = [
    [2, 1, 0],
    [0, 0, 0],
    [1, -1, 3],
  ];
  const y = [0, 1, 2];
  const w = [0.5, 1, 1.5];
  let want = 0;
  logits.forEach((row, i) => {
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    want += w[y[i]] * (lse - row[y[i]]);
  });
  want /= 3;
  const got = tf.tidy(() => model.loss(tf.tensor1d(y, 'int32'), tf.tensor2d(logits)).dataSync()[0]);
  close(got, want);
  // Off = the plain mean cross-entropy, unchanged.
  const plain = new ImageClassifier({ labels: ['a', 'b', 'c'] });
  assert.equal(plain.classWeights, null);
  const ones = new ImageClassifier({ labels: ['a', 'b', 'c'], classWeights: [1, 1, 1] });
  const p = tf.tidy(() => plain.loss(tf.tensor1d(y, 'int32'), tf.tensor2d(logits)).dataSync()[0]);
  const o = tf.tidy(() => ones.loss(tf.tensor1d(y, 'int32'), tf.tensor2d(logits)).dataSync()[0]);
  close(p, o);
  // Gradients flow through the weighted loss.
  const g = tf.tidy(() => tf.grad((l: tf.Tensor) => model.loss(tf.tensor1d(y, 'int32'), l))(tf.tensor2d(logits)).abs().sum().dataSync()[0]);
  assert.ok(g > 0);
});

function counts(order: number[], labels: number[]): number[] {
  const c = [0, 0, 0];
  for (const i of order) c[labels[i]]++;
  return c;
}

test('balanced sampler: near-equal class counts per epoch, epoch length = train size, reproducible by seed', () => {
  const labels = [...Array(40).fill(0), ...Array(8).fill(1), ...Array(3).fill(2)];
  for (let epoch = 0; epoch < 3; epoch++) {
    const order = balancedOrder(labels, 7, epoch);
    assert.equal(order.length, labels.length);
    const c = counts(order, labels);
    assert.equal(Math.max(...c) - Math.min(...c) <= 1, true, `counts ${c}`);
    assert.deepEqual(balancedOrder(labels, 7, epoch), order, 'same (seed, epoch), same order');
    // The small classes cycle through all their samples before repeating one.
    const ones = new Set(order.filter((i) => labels[i] === 1));
    assert.equal(ones.size, 8);
  }
  assert.notDeepEqual(balancedOrder(labels, 7, 0), balancedOrder(labels, 7, 1));
  assert.notDeepEqual(balancedOrder(labels, 7, 0), balancedOrder(labels, 8, 0));
});

test('a split with sampler balanced uses it for shuffled epochs only', async () => {
  const spec = { height: 2, width: 2, channels: 1 as const };
  const items = Array.from({ length: 48 }, (_, i) => ({ id: `s${i}`, pixels: new Uint8Array(4).fill(i), label: i < 40 ? 0 : 1 }));
  const split = splitFromPixels(spec, items, { sampler: 'balanced', batchSize: 16, augment: false });
  const seen = [0, 0];
  for await (const b of split.batches({ shuffle: true, epoch: 2 })) {
    for (const l of b.y.dataSync()) seen[l]++;
    b.x.dispose();
    b.y.dispose();
  }
  assert.deepEqual(seen, [24, 24]);
  assert.deepEqual(split.order({ shuffle: false }), Array.from({ length: 48 }, (_, i) => i));
  const plain = splitFromPixels(spec, items, { batchSize: 16 });
  assert.deepEqual(counts(plain.order({ shuffle: true }), items.map((it) => it.label)).slice(0, 2), [40, 8]);
});

test('a run on an imbalanced toy set (40 vs 8) picks auto class weights, says so, and ends with a per-class table', async () => {
  tmp = await makeTempDir('flash-imbalance-');
  const classes: [string, 'circle' | 'square', number][] = [
    ['circle', 'circle', 40],
    ['square', 'square', 8],
  ];
  for (const [name, shape, n] of classes) {
    await mkdir(join(tmp, 'data', name), { recursive: true });
    for (let i = 0; i < n; i++) {
      await writeFile(join(tmp, 'data', name, `${i}.png`), await drawShape({ shape, size: 0.3 + (i % 5) * 0.1, width: 16, height: 16 }));
    }
  }
  const recipe = defaultImageRecipe();
  recipe.data.folder = 'data';
  recipe.data.val_split = 0.25;
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.data.augmentations = ['hflip', 'rotate', 'color_jitter', 'random_resized_crop'];
  recipe.trainer.max_epochs = 1;
  recipe.trainer.output_dir = join(tmp, 'run');
  recipe.trainer.quiet = true;
  const out: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: () => {}, isTTY: false, cwd: tmp, env: {} };
  await trainImageClassifier({ recipe, io });
  const text = out.join('');
  // Stratified 25% val: 30 vs 6 train images → 5x → weights 1/3 and 5/3.
  assert.match(text, /class weights: auto, on — the largest train class has 5\.0x the images of the smallest/);
  assert.match(text, /circle=0\.333, square=1\.667/);
  assert.match(text, /per-class metrics \(best model, val\)/);
  assert.match(text, /class\s+precision\s+recall\s+f1\s+support/);
  assert.match(text, /square\s+\S+\s+\S+\s+\S+\s+2\b/);
});
