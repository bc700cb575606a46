/**
 * `flash export` of tabular runs, end to end: train with the real binary (a date column and a skewed column in
 * the table, so the page runs every part of the encoder), export, open the page in headless Chromium, and check
 * that the browser encodes plain objects to exactly Node's vectors and predicts what `flash predict` predicts —
 * for a classifier and a regressor, with an unseen category, missing cells and numbers given as strings.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transform, type Preprocessing } from '../../tasks/tabular/preprocess.js';
import { readTable } from '../../tasks/tabular/table.js';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';
import { toyRows } from '../tasks/tabular/fixtures.js';
import { skipWithoutChromium, withServedFolder } from '../helpers/browser.js';

/** Predict rows as objects: an unseen colour, a missing number, an unreadable date, a number as a string. */
const PROBES: Record<string, string | number | null>[] = [
  { x1: 1.5, x2: 0.1, color: 'purple', day: '2024-05-04', amount: 12 },
  { x1: null, x2: '0.2', color: 'red', day: 'someday', amount: 4000 },
  { x1: -1.5, x2: -1, color: null, day: '2023-01-31', amount: 0 },
  { x1: 0.3, x2: 1.2, color: 'blue', day: '2024-12-31', amount: null },
];
const COLUMNS = ['x1', 'x2', 'color', 'day', 'amount'];
const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));

let dir: string;
before(async () => {
  dir = await makeTempDir('flash-tabular-export-');
  const rows = toyRows(240, 21).map((r, i) => ({ ...r, day: `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`, amount: Math.round(Math.exp((i % 40) / 4)) }));
  const features = (r: (typeof rows)[number]) => [r.x1.toFixed(3), r.x2.toFixed(3), r.color, r.day, r.amount];
  await writeFile(join(dir, 'cls.csv'), [[...COLUMNS, 'cls'].join(','), ...rows.map((r) => [...features(r), r.cls].join(','))].join('\n') + '\n');
  await writeFile(join(dir, 'reg.csv'), [[...COLUMNS, 'value'].join(','), ...rows.map((r) => [...features(r), r.value.toFixed(3)].join(','))].join('\n') + '\n');
  await writeFile(join(dir, 'probes.csv'), [COLUMNS.join(','), ...PROBES.map((p) => COLUMNS.map((c) => cell(p[c])).join(','))].join('\n') + '\n');
});
after(() => removeDir(dir));

test('the exported pages encode as Node and predict as flash predict (classification and regression)', { timeout: 300_000 }, async (t) => {
  const expected: Record<string, { preds: Record<string, number | string>[]; x: number[] }> = {};
  for (const [task, target, run] of [['tabular_classification', ['--target_fields', 'cls'], 'cls'], ['tabular_regression', ['--target_field', 'value'], 'reg']] as const) {
    const train = await runFlash([task, 'from_csv', '--train_file', `${run}.csv`, ...target, '--trainer.max_epochs', '4', '--trainer.output_dir', run], { cwd: dir });
    assert.equal(train.code, 0, train.stderr);
    assert.match(train.stdout, /dates \(each expanded into year, month, weekday, yearday.*\): day/);
    assert.match(train.stdout, /amount: skewed \(skewness [\d.]+\), taken through signed log1p/);
    const exp = await runFlash(['export', '--model', run, '--out', `web-${run}`], { cwd: dir });
    assert.equal(exp.code, 0, exp.stderr);
    const files = await readdir(join(dir, `web-${run}`));
    for (const f of ['model.json', 'preprocessing.json', 'encode.js', 'predictor.js', 'metadata.json', 'index.html', 'tf.min.js']) assert.ok(files.includes(f), f);
    assert.doesNotMatch(await readFile(join(dir, `web-${run}`, 'encode.js'), 'utf8'), /^import /m, 'encode.js imports nothing');
    const pred = await runFlash(['predict', '--model', run, '--csv', 'probes.csv', '--output', `${run}-preds.json`], { cwd: dir });
    assert.equal(pred.code, 0, pred.stderr);
    const meta = JSON.parse(await readFile(join(dir, run, 'flash.json'), 'utf8')) as { preprocessing: Preprocessing };
    expected[run] = { preds: JSON.parse(await readFile(join(dir, `${run}-preds.json`), 'utf8')), x: Array.from(transform(meta.preprocessing, readTable(join(dir, 'probes.csv'))).x) };
  }

  if (skipWithoutChromium(t, 'the pages were not opened')) return;
  await withServedFolder(dir, async (browser, base) => {
    for (const run of ['cls', 'reg']) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${base}web-${run}/index.html`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      const got = await page.evaluate(async (probes) => {
        const { loadPredictor } = await import('./predictor.js' as string);
        const p = await loadPredictor();
        return { x: Array.from(p.encode(probes).x as Float32Array), preds: await p.predict(probes) };
      }, PROBES);
      assert.deepEqual(got.x, expected[run].x, `${run}: browser and Node feature vectors are identical`);
      got.preds.forEach((row: Record<string, number | string>, i: number) => {
        for (const [k, v] of Object.entries(expected[run].preds[i])) {
          if (typeof v === 'number') assert.ok(Math.abs((row[k] as number) - v) < 1e-4 * Math.max(1, Math.abs(v)), `${run} row ${i} ${k}: ${row[k]} vs ${v}`);
          else assert.equal(row[k], v, `${run} row ${i} ${k}`);
        }
      });
      // The form: one field per input column (the date once), and an answer for the empty form.
      const names = await page.$$eval('#form [name]', (els) => els.map((e) => (e as HTMLInputElement).name));
      assert.deepEqual(names.sort(), ['amount', 'color', 'day', 'x1', 'x2']);
      assert.ok(await page.evaluate(() => document.body.dataset.answer));
      assert.deepEqual(errors, []);
      await page.close();
    }
  });
});
