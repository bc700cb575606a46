/** `flash serve` on a tabular run: JSON rows and CSV bodies give the same predictions as `flash predict`. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runCli } from '../../../src/cli/index.js';
import { Registry } from '../../../src/core/registry.js';
import { depsFor } from '../../../src/main.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import { tabularClassification } from '../../../tasks/tabular_classification/index.js';
import { serveCommand } from '../../../tasks/tabular/serve.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { toyRows, writeToyCsv } from './fixtures.js';

let dir: string;
const io = () => ({ out: () => undefined, err: () => undefined, isTTY: false, cwd: dir, env: {} });

before(async () => {
  dir = await makeTempDir('flash-tabular-serve-');
  await writeToyCsv(join(dir, 'train.csv'), toyRows(120, 21), ['x1', 'x2', 'color', 'cls']);
  await writeToyCsv(join(dir, 'rows.csv'), toyRows(5, 22), ['x1', 'x2', 'color']);
  const registry = new Registry<TaskPlugin>('task').register(tabularClassification.name, tabularClassification);
  const cli = (argv: string[]) => runCli(argv, depsFor(registry, io()));
  assert.equal(await cli(['tabular_classification', 'from_csv', '--train_file', 'train.csv', '--target_fields', 'cls', '--trainer.max_epochs', '3', '--trainer.output_dir', 'run']), 0);
  assert.equal(await cli(['predict', '--model', 'run', '--csv', 'rows.csv', '--output', 'preds.json']), 0);
});
after(async () => removeDir(dir));

test('POST /predict: JSON rows and a CSV body answer as flash predict does; a missing column is a 400 naming it', async () => {
  const expected = JSON.parse(await readFile(join(dir, 'preds.json'), 'utf8'));
  const csv = await readFile(join(dir, 'rows.csv'), 'utf8');
  const [header, ...lines] = csv.trimEnd().split('\n');
  const records = lines.map((l) => Object.fromEntries(header.split(',').map((h, i) => [h, l.split(',')[i]])));
  const stop = new AbortController();
  const before = tf.memory().numTensors;
  let url = '';
  const served = serveCommand({ model: 'run', host: '127.0.0.1', port: 0, quiet: true, io: io(), signal: stop.signal, onListening: (u) => (url = u) });
  while (!url) await new Promise((r) => setTimeout(r, 20));
  try {
    const json = await (await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: records }) })).json();
    assert.deepEqual(json.predictions, expected);
    const fromCsv = await (await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv })).json();
    assert.deepEqual(fromCsv.predictions, expected);
    const bad = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ x1: 1 }]) });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /no column 'x2' \(a numerical feature of the model\)/);
    const page = await (await fetch(`${url}/`)).text();
    assert.match(page, /<input name="x1"/);
    assert.match(page, /<input name="color"/);
  } finally {
    stop.abort();
    await served;
  }
  assert.equal(tf.memory().numTensors, before, 'serving leaves no tensors behind');
});
