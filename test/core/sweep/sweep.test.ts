import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { runCli } from '../../../src/cli/index.js';
import { Registry } from '../../../src/core/registry.js';
import { parseSweep, trialValues } from '../../../src/core/sweep/plan.js';
import type { TrialRunner } from '../../../src/core/sweep/run.js';
import { depsFor } from '../../../src/main.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import { IMAGE_SCHEMA } from '../../../tasks/image_classification/schema.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { vectorClassification } from '../../helpers/toy_task/index.js';

const problems = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected an error');
};

test('parseSweep: every problem at once, each naming its key, with did-you-mean', () => {
  const msg = problems(() =>
    parseSweep({ metrc: 'val_accuracy', method: 'gird', parameters: { 'model.learning_rat': { values: [1] }, 'model.dropout': { min: 0.5, max: 0.1 } } }, IMAGE_SCHEMA, 's.yaml'),
  );
  assert.match(msg, /^4 problems/);
  assert.match(msg, /unknown key 'sweep\.metrc' \(did you mean 'sweep\.metric'\?\)/);
  assert.match(msg, /sweep\.method: expected grid or random, got 'gird' \(did you mean 'grid'\?\)/);
  assert.match(msg, /sweep\.parameters\.model\.learning_rat: not a recipe key \(did you mean 'model\.learning_rate'\?\)/);
  assert.match(msg, /sweep\.parameters\.model\.dropout: max 0\.1 is below min 0\.5/);
  assert.match(problems(() => parseSweep({ parameters: {} }, IMAGE_SCHEMA, 's.yaml')), /give at least one recipe key to vary/);
  assert.match(problems(() => parseSweep({ method: 'grid', parameters: { 'model.dropout': { min: 0, max: 0.5 } } }, IMAGE_SCHEMA, 's.yaml')), /a grid needs values/);
  assert.match(problems(() => parseSweep(undefined, IMAGE_SCHEMA, 's.yaml')), /no 'sweep:' section/);
});

test('trialValues: the grid in order (last key fastest); seeded random draws, log-uniform within range', () => {
  const grid = parseSweep({ method: 'grid', metric: 'val_accuracy', parameters: { 'model.backbone': { values: ['a', 'b'] }, 'model.dropout': { values: [0, 0.5] } } }, IMAGE_SCHEMA, 's.yaml');
  assert.equal(grid.mode, 'max');
  assert.deepEqual(trialValues(grid), [
    { 'model.backbone': 'a', 'model.dropout': 0 },
    { 'model.backbone': 'a', 'model.dropout': 0.5 },
    { 'model.backbone': 'b', 'model.dropout': 0 },
    { 'model.backbone': 'b', 'model.dropout': 0.5 },
  ]);
  const random = parseSweep({ trials: 50, seed: 3, parameters: { 'model.learning_rate': { min: 1e-4, max: 1e-1, log: true }, 'data.batch_size': { min: 8, max: 64 } } }, IMAGE_SCHEMA, 's.yaml');
  const draws = trialValues(random);
  assert.deepEqual(draws, trialValues(random), 'seeded');
  const lrs = draws.map((d) => d['model.learning_rate'] as number);
  assert.ok(lrs.every((x) => x >= 1e-4 && x <= 1e-1));
  assert.ok(lrs.filter((x) => x < 1e-3).length >= 8, 'log-uniform: about a third below 1e-3');
  assert.ok(draws.every((d) => Number.isInteger(d['data.batch_size'])), 'integer keys drawn as integers');
});

let dir: string;
const registry = new Registry<TaskPlugin>('task').register('vector_classification', vectorClassification);
const quiet = () => ({ out: () => undefined, err: () => undefined, isTTY: false, cwd: dir, env: {} });
/** Trials in this process (the test-only toy task is not known to the binary); `failing` trials fail as a crash would. */
function inProcess(calls: string[], failing: Set<string> = new Set()): TrialRunner {
  return async ({ recipePath, signal }) => {
    calls.push(recipePath);
    if ([...failing].some((f) => recipePath.endsWith(f))) return { code: 1, error: 'simulated crash' };
    return { code: await runCli(['--config', recipePath, '--overwrite'], depsFor(registry, quiet(), signal)) };
  };
}

before(async () => {
  dir = await makeTempDir('flash-sweep-');
  const rows = ['a,b,y', ...Array.from({ length: 120 }, (_, i) => `${(i % 7) / 7 + (i % 2)},${(i % 5) / 5},${i % 2 ? 'odd' : 'even'}`)];
  await writeFile(join(dir, 'train.csv'), rows.join('\n') + '\n');
  const recipe = {
    task: 'vector_classification',
    trainer: { max_epochs: 2 },
    data: { builder: 'from_csv', train_file: 'train.csv', val_file: 'train.csv', feature_fields: ['a', 'b'], target_field: 'y' },
    sweep: { metric: 'val_accuracy', method: 'random', trials: 4, seed: 1, parameters: { 'model.learning_rate': { min: 1e-3, max: 1e-1, log: true }, 'model.hidden_units': { values: [4, 16] } } },
  };
  await writeFile(join(dir, 'sweep.yaml'), toYaml(recipe));
});
after(async () => removeDir(dir));

test('flash sweep: 4 trials over 2 workers, a failing trial recorded not fatal, the best kept; re-running resumes', async () => {
  const calls: string[] = [];
  const out: string[] = [];
  const io = { ...quiet(), out: (t: string) => void out.push(t) };
  const code = await runCli(['sweep', '--config', 'sweep.yaml', '--workers', '2', '--output_dir', 'sw'], depsFor(registry, io, undefined, { trialRunner: inProcess(calls, new Set(['trial-003.yaml'])) }));
  assert.equal(code, 0, out.join(''));
  assert.equal(calls.length, 4);
  const lines = (await readFile(join(dir, 'sw', 'results.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.trial).sort(), [1, 2, 3, 4]);
  const failed = lines.find((l) => l.trial === 3);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'simulated crash');
  const ok = lines.filter((l) => l.trial !== 3);
  assert.ok(ok.every((l) => l.status === 'completed' && typeof l.value === 'number' && typeof l.params['model.learning_rate'] === 'number'));
  assert.deepEqual([...new Set(lines.map((l) => l.worker))].sort(), ['local-1', 'local-2']);
  const best = ok.sort((a, b) => b.value - a.value)[0];
  assert.match(out.join(''), new RegExp(`best: trial ${best.trial} \\(val_accuracy ${best.value.toFixed(4)}\\)`));
  assert.ok(existsSync(join(dir, 'sw', 'best_recipe.yaml')));
  assert.ok(existsSync(join(dir, 'sw', 'sweep.png')));
  // report.md: ranked best first (its value, then the others not better), the failed trial last with its error.
  const report = (await readFile(join(dir, 'sw', 'report.md'), 'utf8')).split('\n');
  assert.ok(report.includes(`**Best: trial ${best.trial}**, val_accuracy ${Number(best.value.toPrecision(4))} — \`model.learning_rate\` = ${Number(best.params['model.learning_rate'].toPrecision(4))}, \`model.hidden_units\` = ${best.params['model.hidden_units']}.`), report.join('\n'));
  const rows = report.filter((l) => /^\| \d* \| \d+ \|/.test(l));
  assert.equal(rows.length, 4);
  assert.match(rows[0], new RegExp(`^\\| 1 \\| ${best.trial} \\| completed \\|`));
  assert.match(rows[3], /^\|  \| 3 \| failed: simulated crash \|/);
  const ranked = rows.slice(0, 3).map((r) => Number(r.split('|')[6]));
  assert.deepEqual(ranked, [...ranked].sort((a, b) => b - a));
  assert.ok(report.includes('![val_accuracy against each parameter](sweep.png)'));
  const csv = (await readFile(join(dir, 'sw', 'results.csv'), 'utf8')).trimEnd().split('\n');
  assert.equal(csv.length, 5);
  assert.match(csv[0], /^trial,status,model\.learning_rate,model\.hidden_units,val_accuracy,/);

  const again: string[] = [];
  const out2: string[] = [];
  const code2 = await runCli(['sweep', '--config', 'sweep.yaml', '--output_dir', 'sw'], depsFor(registry, { ...quiet(), out: (t: string) => void out2.push(t) }, undefined, { trialRunner: inProcess(again) }));
  assert.equal(code2, 0);
  assert.equal(again.length, 0, 'finished trials (failed ones included) are kept, not rerun');
  assert.match(out2.join(''), /4 of 4 trials already in/);
});

test('flash sweep: a bad sweep key or trial value stops before anything trains', async () => {
  await writeFile(join(dir, 'bad.yaml'), toYaml({ task: 'vector_classification', data: { train_file: 'train.csv', feature_fields: ['a'], target_field: 'y' }, sweep: { parameters: { 'model.hidden_units': { values: [0, 8] } } } }));
  const calls: string[] = [];
  const err: string[] = [];
  const code = await runCli(['sweep', '--config', 'bad.yaml'], depsFor(registry, { ...quiet(), err: (t: string) => void err.push(t) }, undefined, { trialRunner: inProcess(calls) }));
  assert.equal(code, 2);
  assert.equal(calls.length, 0);
  assert.match(err.join(''), /recipe bad\.yaml: sweep\.parameters\.model\.hidden_units: must be at least 1, got 0/);
});
