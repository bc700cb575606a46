/** The tabular report: permutation importance on the val split, the regression plots, report.json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TabularClassificationData, TabularClassifier, TabularRegressionData, TabularRegressor, Trainer } from '../../../src/index.js';
import { columnSlots, writeTabularReport } from '../../../tasks/tabular/report.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { toyRows } from './fixtures.js';

test('columnSlots: each input column owns its value, its missing indicator and its one-hot block or code', () => {
  const rows = toyRows(60, 3).map(({ x1, x2, color, cls }, i) => ({ x1: i % 7 ? x1 : null, x2, color, cls }));
  const data = TabularClassificationData.fromRecords(rows, { target: 'cls', categoricalEncoding: 'onehot' });
  const slots = columnSlots(data.preprocessing);
  assert.deepEqual([...slots.keys()], ['x1', 'x2', 'color']);
  assert.deepEqual(slots.get('x1'), [0, 2], 'x1 and x1:missing');
  assert.deepEqual(slots.get('color'), [3, 4, 5, 6, 7], '<missing>, <unknown>, blue, green, red');
  assert.equal([...slots.values()].flat().length, data.preprocessing.width);
  const coded = TabularClassificationData.fromRecords(rows, { target: 'cls' });
  assert.deepEqual(columnSlots(coded.preprocessing).get('color'), [3], 'one code slot (the default, embedding)');
  assert.equal(coded.preprocessing.width, 4);
});

test('permutation importance ranks the columns the target depends on first; regression writes the two plots', async () => {
  const dir = await makeTempDir('flash-tabular-report-');
  try {
    // cls depends on x1 and colour only; x2 is noise.
    const cls = TabularClassificationData.fromRecords(toyRows(300, 41).map(({ x1, x2, color, cls: c }) => ({ x1, x2, color, cls: c })), { target: 'cls' });
    const clf = new TabularClassifier(cls);
    await new Trainer({ maxEpochs: 10, seed: 1, log: () => undefined }).fit(clf, cls);
    const before = tf.memory().numTensors;
    const { report, lines } = await writeTabularReport(dir, clf, cls.preprocessing, { val: cls.val }, 'cls', 1);
    assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
    const cols = report.importance!.columns;
    assert.equal(cols[0].column, 'x1');
    assert.ok(cols[0].importance > 0.2, `x1 ${cols[0].importance}`);
    assert.ok(cols.find((c) => c.column === 'x2')!.importance < 0.05, 'noise column near 0');
    assert.match(lines[0], /^permutation importance \(val split, accuracy lost/);
    assert.equal(report.plots, undefined, 'no regression plots for a classifier');
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')), report);
    clf.dispose();

    // value = 3·x1 − 2·x2 + 5·[blue] + 10: x1 outweighs x2, both matter.
    const reg = TabularRegressionData.fromRecords(toyRows(300, 42).map(({ x1, x2, color, value }) => ({ x1, x2, color, value })), { target: 'value' });
    const rgr = new TabularRegressor(reg);
    await new Trainer({ maxEpochs: 10, seed: 1, log: () => undefined }).fit(rgr, reg);
    const r = await writeTabularReport(dir, rgr, reg.preprocessing, { val: reg.val }, 'value', 1);
    const imp = Object.fromEntries(r.report.importance!.columns.map((c) => [c.column, c.importance]));
    assert.ok(imp.x1 > imp.x2 && imp.x2 > 0.5, JSON.stringify(imp));
    assert.deepEqual(r.report.plots, { split: 'val', files: ['pred_vs_true.png', 'residuals.png'] });
    for (const f of r.report.plots!.files) assert.deepEqual([...(await readFile(join(dir, f))).subarray(1, 4)], [0x50, 0x4e, 0x47], `${f} is a PNG`);
    assert.ok(existsSync(join(dir, 'report.json')));
    rgr.dispose();
  } finally {
    await removeDir(dir);
  }
});
