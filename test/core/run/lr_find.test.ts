import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../../src/cli/index.js';
import { Registry } from '../../../src/core/registry.js';
import { suggestLearningRate } from '../../../src/core/run/lr_find.js';
import { depsFor } from '../../../src/main.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { vectorClassification } from '../../helpers/toy_task/index.js';

test('suggestLearningRate: halfway in log-rate between the steepest descent and the minimum; a tenth of the minimum', () => {
  // A finder curve: flat, falling fastest around lr 1e-3, lowest near 1e-1, then blowing up.
  const lrs = Array.from({ length: 60 }, (_, i) => 1e-6 * Math.pow(1e6, i / 59));
  const points = lrs.map((lr) => {
    const x = Math.log10(lr);
    const smoothed = 2 - 1.5 / (1 + Math.exp(-3 * (x + 3))) + (x > -1 ? 5 * (x + 1) ** 2 : 0);
    return { lr, loss: smoothed, smoothed };
  });
  const s = suggestLearningRate(points);
  assert.ok(s.steepest > 3e-4 && s.steepest < 3e-3, `steepest at ${s.steepest}`);
  assert.ok(Math.abs(s.suggestion - Math.sqrt(s.steepest * s.minimum)) < 1e-12, `suggested ${s.suggestion}`);
  assert.ok(s.minimum > 3e-2 && s.minimum < 3e-1, `minimum at ${s.minimum}`);
  assert.equal(s.minimumTenth, s.minimum / 10);
});

let dir: string;
const registry = new Registry<TaskPlugin>('task').register('vector_classification', vectorClassification);
async function cli(argv: string[]) {
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: dir, env: {} };
  const code = await runCli(argv, depsFor(registry, io));
  return { code, out: out.join('') };
}
const DATA = ['from_csv', '--train_file', 'train.csv', '--val_file', 'train.csv', '--feature_fields', 'a', 'b', '--target_field', 'y'];

before(async () => {
  dir = await makeTempDir('flash-lr-find-');
  const rows = ['a,b,y', ...Array.from({ length: 200 }, (_, i) => `${(i % 7) / 7 + (i % 2)},${(i % 5) / 5},${i % 2 ? 'odd' : 'even'}`)];
  await writeFile(join(dir, 'train.csv'), rows.join('\n') + '\n');
});
after(async () => removeDir(dir));

test('flash lr_find <task>: a curve PNG and CSV in a folder of their own, a suggestion, no tensors left', async () => {
  const before = tf.memory().numTensors;
  const r = await cli(['lr_find', 'vector_classification', '--trainer.output_dir', 'lrf', ...DATA]);
  assert.equal(r.code, 0, r.out);
  assert.equal(tf.memory().numTensors, before);
  const m = /lr_find: suggested learning rate ([\d.e+-]+) \(between the steepest descent of the loss, at [\d.e+-]+, and its minimum/.exec(r.out);
  assert.ok(m, r.out);
  const lr = Number(m[1]);
  assert.ok(lr > 1e-7 && lr < 10, `suggested ${lr}`);
  assert.match(r.out, /train with it: --model\.learning_rate [\d.e+-]+, or --model\.learning_rate auto/);
  const png = await sharp(join(dir, 'lrf', 'lr_find.png')).metadata();
  assert.equal(png.format, 'png');
  assert.ok((png.width ?? 0) > 300);
  const csv = (await readFile(join(dir, 'lrf', 'lr_find.csv'), 'utf8')).trimEnd().split('\n');
  assert.equal(csv[0], 'lr,loss,smoothed_loss');
  assert.ok(csv.length > 10 && csv.length <= 101, `${csv.length - 1} steps`);
  const rates = csv.slice(1).map((l) => Number(l.split(',')[0]));
  assert.ok(rates.every((x, i) => i === 0 || x > rates[i - 1]), 'the rate grows every step');
});

test('--model.learning_rate auto: the run finds the rate first, trains with it, and its recipe says the number', async () => {
  const r = await cli(['vector_classification', '--model.learning_rate', 'auto', '--trainer.max_epochs', '2', '--trainer.output_dir', 'auto', ...DATA]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /lr_find: suggested learning rate [\d.e+-]+ .*; training with it \(curve: auto\/lr_find\.png\)/);
  const recipe = parseYaml(await readFile(join(dir, 'auto', 'recipe.yaml'), 'utf8'));
  assert.equal(typeof recipe.model.learning_rate, 'number');
  const meta = JSON.parse(await readFile(join(dir, 'auto', 'flash.json'), 'utf8'));
  assert.equal(meta.recipe.model.learning_rate, recipe.model.learning_rate);
  assert.equal(meta.status, 'completed');
});

test('the suggested rate trains to a lower loss than 10× below and 10× above it (same seed, same steps)', async () => {
  const r = await cli(['lr_find', 'vector_classification', '--trainer.seed', '7', '--trainer.output_dir', 'lrq', ...DATA]);
  assert.equal(r.code, 0, r.out);
  const lr = Number(/lr_find: suggested learning rate ([\d.e+-]+)/.exec(r.out)![1]);
  const losses: Record<string, { train: number; val: number }> = {};
  for (const [name, rate] of [['below', lr / 10], ['suggested', lr], ['above', lr * 10]] as const) {
    const t = await cli(['vector_classification', '--model.learning_rate', String(rate), '--trainer.max_epochs', '3', '--trainer.seed', '7', '--trainer.output_dir', `lrq-${name}`, ...DATA]);
    assert.equal(t.code, 0, t.out);
    const m = JSON.parse(await readFile(join(dir, `lrq-${name}`, 'flash.json'), 'utf8')).metrics;
    losses[name] = { train: m.train_loss, val: m.val_loss };
  }
  const shown = JSON.stringify({ lr, losses });
  for (const other of ['below', 'above']) {
    assert.ok(losses.suggested.train < losses[other].train, `train loss: ${shown}`);
    assert.ok(losses.suggested.val < losses[other].val, `val loss: ${shown}`);
  }
});
