/**
 * End-to-end: the real `flash` binary on tables the test writes — a BOM, CRLF, quoted fields, empty and NA cells,
 * an ID column, a constant column, free text; categories unseen at predict; and every bad input as one line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';
import { toyRows, writeToyCsv, type ToyRow } from '../tasks/tabular/fixtures.js';

let dir: string;
const flash = (args: string[]) => runFlash(args, { cwd: dir });
const noStack = (r: FlashRun) => assert.doesNotMatch(r.stderr + r.stdout, /^\s+at /m, `unexpected stack trace:\n${r.stderr}`);

/** A messy CSV of the toy rows: BOM, CRLF, quoted text, an ID, a constant, free text, holes. */
function messyCsv(rows: ToyRow[], start: number): string {
  const lines = rows.map((r, i) => {
    const x2 = i % 9 === 4 ? '' : i % 9 === 7 ? 'NA' : r.x2.toFixed(3);
    const color = i % 11 === 5 ? '' : `"${r.color}"`;
    const note = `"row ${start + i}: a longer remark, with a comma and ""quotes"", about nothing much at all"`;
    return [start + i, 'v1', r.x1.toFixed(3), x2, color, note, r.cls].join(',');
  });
  return '\uFEFF' + ['id,const,x1,x2,color,note,cls', ...lines].join('\r\n') + '\r\n';
}

before(async () => {
  dir = await makeTempDir('flash-e2e-tabular-');
  await writeFile(join(dir, 'train.csv'), messyCsv(toyRows(200, 11), 1));
  await writeFile(join(dir, 'test.csv'), messyCsv(toyRows(60, 12), 1000));
  // Predict rows: columns reordered, an extra column, an unseen colour, NaN and empty cells, no target.
  await writeFile(join(dir, 'rows.csv'), 'extra,color,x1,id,x2\r\nq,purple,1.5,7,0.1\r\nq,red,NaN,8,0.2\r\nq,,-1.5,9,\r\nq,"blue",0.3,10,-1\r\n');
  await writeToyCsv(join(dir, 'reg.csv'), toyRows(200, 13), ['x1', 'x2', 'color', 'value']);
});
after(async () => removeDir(dir));

describe('flash tabular_classification end to end', () => {
  test('trains on a messy CSV: says what it inferred and left out, and learns the toy rule', async () => {
    const r = await flash(['tabular_classification', 'from_csv', '--train_file', 'train.csv', '--test_file', 'test.csv', '--target_fields', 'cls', '--trainer.max_epochs', '15', '--trainer.output_dir', 'run']);
    noStack(r);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /numerical \(numbers\): x1, x2/);
    assert.match(r.stdout, /categorical \(text or booleans\): color/);
    assert.match(r.stdout, /left out: id \(ID-like: all 200 values distinct integers\), const \(constant, every value 'v1'\), note \(free text: \d+ characters on average\)\n/);
    const meta = JSON.parse(await readFile(join(dir, 'run', 'flash.json'), 'utf8'));
    assert.ok(meta.metrics.val_accuracy >= 0.85, `val_accuracy ${meta.metrics.val_accuracy}`);
    assert.ok(meta.metrics.test_accuracy >= 0.85, `test_accuracy ${meta.metrics.test_accuracy}`);
    assert.deepEqual(meta.labels, ['a', 'b']);
    assert.equal(meta.preprocessing.numerical[1].indicator, true, 'x2 had holes in train: it gets a missing indicator');
  });

  test('predict: one row per input row in input order, unseen and missing values counted in one line, extra columns said', async () => {
    const r = await flash(['predict', '--model', 'run', '--csv', 'rows.csv', '--output', 'preds.csv', '--keep_columns', 'id']);
    noStack(r);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ignored: columns the model does not read: extra\n/);
    assert.match(r.stderr, /rows\.csv: filled in: 2 missing numbers \(train median\); 1 missing categories \(<missing>\); 1 unseen categories \(<unknown>: color 1\)\n/);
    const rows = parse(await readFile(join(dir, 'preds.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((x) => x.id), ['7', '8', '9', '10']);
    assert.deepEqual(Object.keys(rows[0]), ['id', 'label', 'score', 'a', 'b']);
    for (const x of rows) {
      assert.ok(Math.abs(Number(x.a) + Number(x.b) - 1) < 1e-5);
      assert.equal(Number(x.score), Math.max(Number(x.a), Number(x.b)));
    }
    // x1 = 1.5 with an unseen colour is clearly 'a'; x1 = -1.5 with no colour is clearly 'b'.
    assert.equal(rows[0].label, 'a');
    assert.equal(rows[2].label, 'b');
    const again = await flash(['predict', '--model', 'run', '--csv', 'rows.csv', '--output', 'preds.jsonl']);
    assert.equal(again.code, 0, again.stderr);
    const jsonl = (await readFile(join(dir, 'preds.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jsonl.map((j) => j.a.toString()), rows.map((x) => x.a), 'the same predictions after a fresh load');
  });

  test('evaluate: metrics and a per-class table on a labelled CSV', async () => {
    const r = await flash(['evaluate', '--model', 'run', '--csv', 'test.csv']);
    noStack(r);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^test\.csv: 60 rows\naccuracy 0\.\d{4} · f1_macro/m);
    assert.match(r.stdout, /^class\s+precision\s+recall\s+f1\s+support\s+auroc$/m);
  });
});

describe('flash tabular_regression end to end', () => {
  test('learns a linear target, predicts in its units, evaluates with a residual summary', async () => {
    const r = await flash(['tabular_regression', 'from_csv', '--train_file', 'reg.csv', '--target_field', 'value', '--trainer.max_epochs', '15', '--trainer.output_dir', 'reg']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /best model \(epoch \d+, val_rmse /);
    const meta = JSON.parse(await readFile(join(dir, 'reg', 'flash.json'), 'utf8'));
    assert.ok(meta.metrics.val_r2 >= 0.9, `val_r2 ${meta.metrics.val_r2}`);
    const p = await flash(['predict', '--model', 'reg', '--csv', 'rows.csv', '--output', 'reg.json']);
    assert.equal(p.code, 0, p.stderr);
    const preds = JSON.parse(await readFile(join(dir, 'reg.json'), 'utf8')) as { prediction: number }[];
    // Row 4: x1 0.3, x2 -1, blue → 3·0.3 + 2 + 5 + 10 = 17.9, in the target's units.
    assert.ok(Math.abs(preds[3].prediction - 17.9) < 2.5, `prediction ${preds[3].prediction}`);
    const e = await flash(['evaluate', '--model', 'reg', '--csv', 'reg.csv']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /^rmse \d+\.\d+ · mae .* · r2 0\.9\d+/m);
    assert.match(e.stdout, /residuals \(prediction − truth, in 'value' units\): mean /);
  });
});

describe('bad input: one line naming the file, row or column; non-zero exit; no stack trace; no run folder left', () => {
  const cases: { name: string; csv: string; args?: string[]; message: RegExp }[] = [
    { name: 'missing target column', csv: 'a,b\n1,x\n2,y\n', args: ['--target_fields', 'cls'], message: /^error: bad\.csv: no column 'cls' \(the target\); the columns are a, b$/ },
    { name: 'target with one value', csv: 'a,cls\n1,x\n2,x\n', message: /^error: bad\.csv: the target 'cls' has one value \('x'\); a classifier needs at least two classes$/ },
    { name: 'empty CSV', csv: '', message: /^error: bad\.csv: empty CSV \(no header row\)$/ },
    { name: 'header only', csv: 'a,cls\n', message: /^error: bad\.csv: header only, no data rows$/ },
    { name: 'ragged row', csv: 'a,cls\n1,x\n2\n3,y\n', message: /^error: bad\.csv: line 3 has 1 fields, the header has 2$/ },
    { name: 'non-numeric in a numerical field (--trainer.strict)', csv: 'a,cls\n1,x\n2,y\nabc,x\n4,y\n', args: ['--target_fields', 'cls', '--numerical_fields', 'a', '--trainer.strict', 'true'], message: /^error: bad\.csv: line 4, column 'a': 'abc' is not a number \(a numerical field\)$/ },
    { name: 'target also a feature', csv: 'a,cls\n1,x\n2,y\n', args: ['--target_fields', 'cls', '--categorical_fields', 'cls'], message: /^error: 'cls' is the target and also listed in --categorical_fields; a target cannot be a feature$/ },
    { name: 'duplicate column names', csv: 'a,cls,a\n1,x,2\n2,y,3\n', message: /^error: bad\.csv: duplicate column name 'a' \(columns 1 and 3\)$/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const out = `bad_${c.name.replace(/\W+/g, '_')}`;
      await writeFile(join(dir, 'bad.csv'), c.csv);
      const r = await flash(['tabular_classification', 'from_csv', '--train_file', 'bad.csv', ...(c.args ?? ['--target_fields', 'cls']), '--trainer.output_dir', out]);
      noStack(r);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr.trimEnd(), c.message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.equal(existsSync(join(dir, out)), false, 'a failed start leaves no run folder');
    });
  }
  test('a non-number without --trainer.strict: the row is skipped with a warning naming it, and training goes on', async () => {
    await writeFile(join(dir, 'bad.csv'), 'a,cls\n1,x\n2,y\nabc,x\n4,y\n5,x\n6,y\n');
    const r = await flash(['tabular_classification', 'from_csv', '--train_file', 'bad.csv', '--target_fields', 'cls', '--numerical_fields', 'a', '--trainer.max_epochs', '1', '--trainer.output_dir', 'skipped']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: bad\.csv: 1 rows skipped for a non-number in a numerical field \(first: line 4, column 'a': 'abc' is not a number/);
  });
  test('predict on a CSV that lacks a feature column names it', async () => {
    await writeFile(join(dir, 'short.csv'), 'x1,color\n1,red\n');
    const r = await flash(['predict', '--model', 'run', '--csv', 'short.csv']);
    noStack(r);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: short\.csv: no column 'x2' \(a numerical feature of the model\); the columns are x1, color$/m);
  });
});
