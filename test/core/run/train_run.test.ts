/**
 * The core run lifecycle (trainRun) through the CLI with the test-only toy task: run folders are never
 * overwritten by accident, a failed start leaves nothing, flash.json says how a run ended, and an interrupt
 * lands within a batch however the batches are produced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/index.js';
import { Registry } from '../../../src/core/registry.js';
import { depsFor } from '../../../src/main.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { vectorClassification } from '../../helpers/toy_task/index.js';

let dir: string;
const registry = new Registry<TaskPlugin>('task').register('vector_classification', vectorClassification);

async function cli(argv: string[], signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTTY: false, cwd: dir, env: {} };
  const code = await runCli(argv, depsFor(registry, io, signal));
  return { code, out: out.join(''), err: err.join('') };
}

const TRAIN = ['vector_classification', '--trainer.quiet', 'true', 'from_csv', '--train_file', 'train.csv', '--val_file', 'train.csv', '--feature_fields', 'a', 'b', '--target_field', 'y'];

before(async () => {
  dir = await makeTempDir('flash-train-run-');
  const rows = ['a,b,y', ...Array.from({ length: 400 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${i % 2 ? 'odd' : 'even'}`)];
  await writeFile(join(dir, 'train.csv'), rows.join('\n') + '\n');
});
after(async () => removeDir(dir));

test("a finished run is never overwritten: reusing its recipe.yaml is refused, --overwrite replaces it", async () => {
  const first = await cli([...TRAIN, '--trainer.max_epochs', '2', '--trainer.output_dir', 'done']);
  assert.equal(first.code, 0, first.err);
  const csv = await readFile(join(dir, 'done', 'metrics.csv'), 'utf8');
  const reuse = await cli(['--config', join(dir, 'done', 'recipe.yaml'), '--max_epochs', '1']);
  assert.equal(reuse.code, 2);
  assert.match(reuse.err, /^error: output folder 'done' already holds a flash run \(status: completed\); continue it with npx flash vector_classification --resume done/);
  assert.equal(await readFile(join(dir, 'done', 'metrics.csv'), 'utf8'), csv, 'the finished run is untouched');
  const replaced = await cli(['--config', join(dir, 'done', 'recipe.yaml'), '--max_epochs', '1', '--overwrite']);
  assert.equal(replaced.code, 0, replaced.err);
  assert.equal((await readFile(join(dir, 'done', 'metrics.csv'), 'utf8')).trimEnd().split('\n').length, 2);
});

test("a non-empty folder that is not a run is refused and the user's files stay", async () => {
  await mkdir(join(dir, 'mine'), { recursive: true });
  await writeFile(join(dir, 'mine', 'metrics.csv'), 'my numbers\n');
  const r = await cli([...TRAIN, '--trainer.max_epochs', '1', '--trainer.output_dir', 'mine']);
  assert.equal(r.code, 2);
  assert.match(r.err, /is not empty and is not a flash run \(metrics\.csv\)/);
  assert.equal(await readFile(join(dir, 'mine', 'metrics.csv'), 'utf8'), 'my numbers\n');
});

test('a failed start leaves no run folder behind', async () => {
  const r = await cli([...TRAIN.map((t) => (t === 'train.csv' ? 'nope.csv' : t)), '--trainer.output_dir', 'never']);
  assert.notEqual(r.code, 0);
  assert.ok(!existsSync(join(dir, 'never')), readdirSync(dir).join(', '));
  const again = await cli([...TRAIN.map((t) => (t === 'train.csv' ? 'nope.csv' : t))]);
  assert.notEqual(again.code, 0);
  assert.ok(!existsSync(join(dir, 'runs')) || readdirSync(join(dir, 'runs')).length === 0, 'no empty default run folder');
});

test('an interrupt from a timer (as Ctrl-C arrives) stops within a batch, and flash.json says interrupted', async () => {
  const stop = new AbortController();
  let batches = 0;
  let abortedAt = -1;
  const plugin: TaskPlugin = {
    ...vectorClassification,
    // The same task, with a callback that counts batches and, in epoch 2, schedules the abort as a signal handler would.
    train: (args) =>
      vectorClassification.train({
        ...args,
        callbacks: [
          {
            onBatchEnd: (ctx) => {
              batches++;
              if (ctx.epoch === 1 && abortedAt < 0) {
                abortedAt = batches;
                setTimeout(() => stop.abort(), 0);
              }
            },
          },
        ],
      }),
  };
  const reg = new Registry<TaskPlugin>('task').register('vector_classification', plugin);
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: dir, env: {} };
  const code = await runCli([...TRAIN, '--trainer.max_epochs', '3', '--data.batch_size', '2', '--trainer.output_dir', 'stopped'], depsFor(reg, io, stop.signal));
  assert.equal(code, 130, out.join(''));
  assert.ok(batches - abortedAt <= 2, `${batches - abortedAt} batches ran after the interrupt was scheduled (200 per epoch)`);
  const meta = JSON.parse(await readFile(join(dir, 'stopped', 'flash.json'), 'utf8'));
  assert.equal(meta.status, 'interrupted');
  assert.match(out.join(''), /interrupted after 1 completed epoch\(s\); resume with: npx flash vector_classification --resume stopped/);
});

test('--model.lr_scheduler: the run says its schedule, metrics.csv gets an lr column, a typo gets did-you-mean', async () => {
  const r = await cli([...TRAIN, '--trainer.max_epochs', '2', '--model.lr_scheduler', 'cosine', '--model.warmup_epochs', '1', '--model.learning_rate', '0.01', '--trainer.output_dir', 'sched']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^learning rate: cosine after 1 warmup epoch\(s\), per step$/m);
  const [header, first, second] = (await readFile(join(dir, 'sched', 'metrics.csv'), 'utf8')).trimEnd().split('\n');
  const col = header.split(',').indexOf('lr');
  assert.ok(col > 0, header);
  // End of the warmup epoch: the full rate; end of the run: cosine decayed to under 5% of it.
  assert.ok(Math.abs(Number(first.split(',')[col]) - 0.01) < 1e-9, first);
  assert.ok(Number(second.split(',')[col]) < 0.0005, second);
  const typo = await cli([...TRAIN, '--lr_scheduler', 'cosin']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown lr scheduler 'cosin' \(did you mean 'cosine'\?\)/);
});
