/** The tabular TypeScript API: data from records or CSV, the core Trainer's fit, predict(rows). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TabularClassificationData, TabularClassifier, TabularRegressionData, TabularRegressor, Trainer } from '../../../src/index.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { toyRows, writeToyCsv } from './fixtures.js';

test('fromRecords → TabularClassifier → Trainer.fit → predict(rows): learns the toy rule, unseen values handled', async () => {
  const rows = toyRows(200, 31).map(({ x1, x2, color, cls }) => ({ x1, x2, color, cls }));
  const data = TabularClassificationData.fromRecords(rows, { target: 'cls' });
  assert.deepEqual(data.preprocessing.categorical.map((c) => c.name), ['color']);
  const model = new TabularClassifier(data);
  const fit = await new Trainer({ maxEpochs: 8, seed: 1, log: () => undefined }).fit(model, data);
  assert.ok(fit.history.at(-1)!.val_accuracy >= 0.85, `val_accuracy ${fit.history.at(-1)!.val_accuracy}`);
  const before = tf.memory().numTensors;
  const p = model.predict([{ x1: 1.8, x2: 0, color: 'purple' }, { x1: -1.8, x2: null, color: 'red' }]);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(p.map((r) => r.label), ['a', 'b']);
  assert.ok(Math.abs((p[0].a as number) + (p[0].b as number) - 1) < 1e-5);
  model.dispose();
});

test('fromCsv → TabularRegressor: predictions in the target units', async () => {
  const dir = await makeTempDir('flash-tabular-api-');
  try {
    await writeToyCsv(join(dir, 'train.csv'), toyRows(200, 32), ['x1', 'x2', 'color', 'value']);
    const data = TabularRegressionData.fromCsv({ trainFile: 'train.csv', target: 'value', cwd: dir });
    const model = new TabularRegressor(data);
    await new Trainer({ maxEpochs: 15, seed: 1, log: () => undefined }).fit(model, data);
    const [y] = model.predict([{ x1: 0.3, x2: -1, color: 'blue' }]);
    assert.ok(Math.abs(y - 17.9) < 2.5, `prediction ${y}`);
    model.dispose();
  } finally {
    await removeDir(dir);
  }
});
