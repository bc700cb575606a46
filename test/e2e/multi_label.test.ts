/**
 * End-to-end multi-label with the real binary: `flash image_classification from_csv … --target_fields a b c`
 * trains on synthetic shape images (0–2 shapes each), then `flash predict --threshold` lists every label over
 * the threshold; --check reports per-label counts; bad inputs are one-line errors with a non-zero exit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';
import { writeMultiLabelSet, type MultiLabelSet } from '../helpers/multi_label.js';

let dir: string;
let held: MultiLabelSet;
before(async () => {
  dir = await makeTempDir('flash-e2e-ml-');
  await writeMultiLabelSet(dir, 'train', 84, 3);
  held = await writeMultiLabelSet(dir, 'held', 14, 9);
});
after(() => removeDir(dir));

/** A user error: the exit code, one `error:` line on stderr, no stack trace. */
function oneLineError(run: FlashRun, pattern: RegExp, code = 2): void {
  assert.equal(run.code, code, run.stdout + run.stderr);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, run.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

const common = ['--input_field', 'image', '--image_size', '16', '--batch_size', '16', '--backend', 'wasm'];

test('train from_csv with several target columns, then predict --threshold prints every label over it', async () => {
  const train = await runFlash(
    ['image_classification', 'from_csv', '--train_file', 'train_columns.csv', '--val_file', 'held_columns.csv', '--target_fields', 'circle', 'square', 'triangle', ...common,
      '--max_epochs', '15', '--learning_rate', '0.01', '--augment', 'false', '--output_dir', 'run'],
    { cwd: dir },
  );
  assert.equal(train.code, 0, train.stdout + train.stderr);
  assert.match(train.stdout, /multi-label: monitoring val_f1_macro/);
  assert.match(train.stdout, /per-label metrics \(best model, val split, threshold 0\.5\):/);
  assert.match(train.stdout, /^circle +\d\.\d{3} +\d\.\d{3} +\d\.\d{3} +6 /m);
  const meta = JSON.parse(await readFile(join(dir, 'run', 'flash.json'), 'utf8'));
  assert.equal(meta.multi_label, true);
  assert.ok(meta.metrics.val_f1_micro > 0.8, JSON.stringify(meta.metrics));

  const table = await runFlash(['predict', '--model', 'run', '--folder', 'held', '--threshold', '0.5', '--backend', 'wasm'], { cwd: dir });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /^file +labels \(probability >= 0\.5\)$/);
  assert.equal(lines.length, held.rows.length + 2);
  // Each row lists the labels at or above 0.5 with their probabilities, or (none); read back, they match the
  // true label sets about as well as training measured (micro F1 over the printed decisions).
  let tp = 0;
  let wrong = 0;
  for (const r of held.rows) {
    const line = lines.find((l) => l.startsWith(r.file));
    assert.ok(line, `${r.file} in\n${table.stdout}`);
    const rest = line.slice(r.file.length).trim();
    const listed = rest === '(none)' ? [] : rest.split(', ').map((cell) => {
      const m = /^(\w+) (\d\.\d{3})$/.exec(cell);
      assert.ok(m && Number(m[2]) >= 0.5, `'${cell}' in '${line}'`);
      return m[1];
    });
    tp += listed.filter((l) => (r.labels as string[]).includes(l)).length;
    wrong += listed.filter((l) => !(r.labels as string[]).includes(l)).length + r.labels.filter((l) => !listed.includes(l)).length;
  }
  assert.ok((2 * tp) / (2 * tp + wrong) > 0.7, `micro F1 of the printed labels ${(2 * tp) / (2 * tp + wrong)}\n${table.stdout}`);

  const csv = await runFlash(['predict', '--model', 'run', '--folder', 'held', '--output', 'preds.csv', '--threshold', '0.3', '--backend', 'wasm'], { cwd: dir });
  assert.equal(csv.code, 0, csv.stderr);
  const rows = (await readFile(join(dir, 'preds.csv'), 'utf8')).trim().split('\n');
  assert.equal(rows[0], 'file,labels,circle,square,triangle');
  assert.equal(rows.length, held.rows.length + 1);
  const jsonl = await runFlash(['predict', '--model', 'run', '--files', join('held', 'img004.png'), '--output', 'p.jsonl', '--backend', 'wasm'], { cwd: dir });
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const one = JSON.parse(await readFile(join(dir, 'p.jsonl'), 'utf8'));
  assert.deepEqual(Object.keys(one), ['file', 'labels', 'threshold', 'probs']);
  assert.equal(one.threshold, 0.5);

  oneLineError(await runFlash(['predict', '--model', 'run', '--folder', 'held', '--threshold', '2'], { cwd: dir }), /--threshold: expected a number between 0 and 1 \(exclusive\), got '2'/);
  oneLineError(await runFlash(['evaluate', '--model', 'run', '--folder', 'held', '--backend', 'wasm'], { cwd: dir }), /this model is multi-label; evaluate a labelled CSV instead/);
  // The run's CSV columns are the default; a ';'-separated layout works too.
  const ev = await runFlash(['evaluate', '--model', 'run', '--csv', 'held_tags.csv', '--target_fields', 'tags', '--backend', 'wasm', '--output', 'ev.json'], { cwd: dir });
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /^14 images · multi-label, threshold 0\.5 · loss /);
  assert.match(ev.stdout, /^label +precision +recall +f1 +support +auroc$/m);
  const evJson = JSON.parse(await readFile(join(dir, 'ev.json'), 'utf8'));
  assert.ok(Math.abs(evJson.metrics.f1_micro - meta.metrics.val_f1_micro) < 1e-9);
});

test("--check on a ';'-separated label column reports per-label counts instead of failing", async () => {
  const run = await runFlash(['image_classification', 'from_csv', '--train_file', 'train_tags.csv', '--target_fields', 'tags', ...common, '--check'], { cwd: dir });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /3 labels \(multi-label; counts are images carrying each label\)/);
  assert.match(run.stdout, /^\s+label\s+train\s+val$/m);
  const json = await runFlash(['image_classification', 'from_csv', '--train_file', 'train_tags.csv', '--target_fields', 'tags', ...common, '--check', '--json'], { cwd: dir });
  const report = JSON.parse(json.stdout);
  assert.equal(report.multiLabel, true);
  assert.deepEqual(report.classes, ['circle', 'square', 'triangle']);
  const train = report.splits[0];
  assert.equal(train.counts.circle + (report.splits[1]?.counts.circle ?? 0), 36);
});

test('bad multi-label inputs are one-line errors', async () => {
  oneLineError(
    await runFlash(['image_classification', 'from_csv', '--train_file', 'train_columns.csv', '--target_fields', 'circle', 'sqare', ...common, '--check'], { cwd: dir }),
    /target_fields: no column 'sqare' in '.*train_columns\.csv' \(did you mean 'square'\?\)/,
  );
  oneLineError(
    await runFlash(['image_classification', 'from_csv', '--train_file', 'train_columns.csv', '--target_fields', 'circle', 'square', '--multi_label', 'false', ...common, '--max_epochs', '1'], { cwd: dir }),
    /several target fields \(circle, square\) mean multi-label classification, but --model.multi_label is false/,
  );
});
