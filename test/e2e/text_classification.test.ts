/**
 * End-to-end text classification with the real binary: from_csv, from_json and from_folders learn a toy topic
 * corpus well above chance; predict (texts, CSV → CSV/JSON) is identical across reloads and in input order;
 * evaluate reproduces the run's test metrics; multi-label from ';'-separated labels; and every bad input is one
 * `error:` line with a non-zero exit, no stack trace and no run folder left behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';
import { TOPICS, topicTexts, writeCsv, writeTopicCsvs, writeTopicFolders } from '../helpers/texts.js';

let dir: string;
before(async () => {
  dir = await makeTempDir('flash-e2e-text-');
  await writeTopicCsvs(dir, 20);
});
after(() => removeDir(dir));

const flash = (args: string[]) => runFlash(args, { cwd: dir });
/** Small feature spaces and few epochs: the toy corpus needs no more. */
const small = ['--data.subword_buckets', '256', '--data.bigram_buckets', '256', '--model.embedding_dim', '16', '--data.batch_size', '8', '--trainer.backend', 'wasm'];
const meta = async (run: string) => JSON.parse(await readFile(join(dir, run, 'flash.json'), 'utf8'));

function ok(run: FlashRun): void {
  assert.equal(run.code, 0, run.stdout + run.stderr);
}

/** A user error: non-zero exit, one `error:` line matching, no stack trace. */
function oneLineError(run: FlashRun, pattern: RegExp): void {
  assert.notEqual(run.code, 0, run.stdout + run.stderr);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, run.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

describe('from_csv, predict and evaluate', () => {
  test('trains on the CSVs well above chance (3 classes) and writes tokenizer.json beside the model', async () => {
    const r = await flash(['text_classification', ...small, '--trainer.max_epochs', '4', '--trainer.output_dir', 'csv', 'from_csv', '--train_file', 'train.csv', '--val_file', 'val.csv', '--test_file', 'test.csv', '--input_field', 'text', '--target_fields', 'label']);
    ok(r);
    const m = await meta('csv');
    assert.equal(m.task, 'text_classification');
    assert.deepEqual(m.labels, Object.keys(TOPICS).sort());
    assert.ok(m.metrics.test_accuracy >= 0.9, `test_accuracy ${m.metrics.test_accuracy}`);
    assert.ok(existsSync(join(dir, 'csv', 'tokenizer.json')));
    assert.match(r.stdout, /^tokenizer: words, \d+ words \(with <unk>\), 256 subword and 256 bigram buckets/m);
    assert.match(r.stdout, /^per-class metrics \(best model, test split\):/m);
    // The report: per class, the words that weigh most are that topic's own words.
    const report = JSON.parse(await readFile(join(dir, 'csv', 'report.json'), 'utf8')) as { top_words: Record<string, { word: string }[]> };
    for (const [topic, words] of Object.entries(TOPICS)) {
      const top = report.top_words[topic].slice(0, 5).map((w) => w.word);
      assert.ok(top.every((w) => words.includes(w)), `${topic}: ${top.join(' ')}`);
    }
  });

  test('predict --text: top-k per text in order; the right topic for clear texts', async () => {
    const r = await flash(['predict', '--model', 'csv', '--text', 'the football match and the goal', 'bake the garlic soup in the oven', '--top_k', '2']);
    ok(r);
    const lines = r.stdout.trim().split('\n').slice(2);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^the football match and the goal\s+sport\s+sport 0\.\d+, \w+ 0\.\d+$/);
    assert.match(lines[1], /\s+food\s+/);
  });

  test('predict --csv → .csv: one row per input text in input order (label, score, a column per class); identical after reload', async () => {
    const texts = topicTexts(3, 7);
    await writeCsv(join(dir, 'rows.csv'), [...texts, { text: '', label: '' }].map((t, id) => ({ id, body: t.text })), ['id', 'body']);
    ok(await flash(['predict', '--model', 'csv', '--csv', 'rows.csv', '--input_field', 'body', '--output', 'p1.csv']));
    ok(await flash(['predict', '--model', 'csv', '--csv', 'rows.csv', '--input_field', 'body', '--output', 'p2.csv']));
    const a = await readFile(join(dir, 'p1.csv'), 'utf8');
    assert.equal(a, await readFile(join(dir, 'p2.csv'), 'utf8'), 'a reloaded model predicts the same, digit for digit');
    const rows = parse(a, { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0]), ['text', 'label', 'score', 'food', 'sport', 'tech']);
    assert.equal(rows.length, texts.length + 1, 'an empty text still gets its row');
    rows.slice(0, texts.length).forEach((row, i) => assert.equal(row.text, texts[i].text));
    const right = texts.filter((t, i) => rows[i].label === t.label).length;
    assert.ok(right >= texts.length - 1, `${right}/${texts.length} right`);
    for (const row of rows) assert.ok(Math.abs(Number(row.food) + Number(row.sport) + Number(row.tech) - 1) < 1e-5);
    ok(await flash(['predict', '--model', 'csv', '--csv', 'rows.csv', '--input_field', 'body', '--output', 'p.json']));
    const json = JSON.parse(await readFile(join(dir, 'p.json'), 'utf8')) as { label: string; probs: Record<string, number> }[];
    assert.deepEqual(json.map((p) => p.label), rows.map((r) => r.label));
  });

  test('predict --keep_columns copies input columns; --csv - (and --csv=-) reads one text per line from stdin', async () => {
    await writeCsv(join(dir, 'keep.csv'), [{ id: 'a1', text: 'goal match league' }, { id: 'b2', text: 'oven soup garlic' }], ['id', 'text']);
    ok(await flash(['predict', '--model', 'csv', '--csv', 'keep.csv', '--keep_columns', 'id', '--output', 'keep.out.csv']));
    const rows = parse(await readFile(join(dir, 'keep.out.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((r) => [r.id, r.label]), [['a1', 'sport'], ['b2', 'food']]);
    oneLineError(await flash(['predict', '--model', 'csv', '--csv', 'keep.csv', '--keep_columns', 'idd']), /^error: --keep_columns: no column 'idd' in 'keep\.csv' \(did you mean 'id'\?\)/);
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flash.js');
    for (const csvFlag of [['--csv=-'], ['--csv', '-']]) {
      const r = spawnSync(process.execPath, [bin, 'predict', '--model', 'csv', ...csvFlag, '--output', 'stdin.json'], { cwd: dir, input: 'laptop wifi update\n\ngoal match\n', encoding: 'utf8' });
      assert.equal(r.status, 0, `${csvFlag.join(' ')}: ${r.stderr}`);
      const preds = JSON.parse(await readFile(join(dir, 'stdin.json'), 'utf8')) as { text: string; label: string }[];
      assert.deepEqual(preds.map((p) => [p.text, p.label]), [['laptop wifi update', 'tech'], ['goal match', 'sport']], csvFlag.join(' '));
    }
  });

  test("evaluate --csv reproduces the run's test metrics and prints the per-class table", async () => {
    const r = await flash(['evaluate', '--model', 'csv', '--csv', 'test.csv', '--output', 'eval.json']);
    ok(r);
    assert.match(r.stdout, /^\d+ texts · loss [\d.]+ · accuracy [\d.]+ · f1_macro [\d.]+ · auroc_macro [\d.]+$/m);
    assert.match(r.stdout, /^class\s+precision\s+recall\s+f1\s+support\s+auroc$/m);
    const ev = JSON.parse(await readFile(join(dir, 'eval.json'), 'utf8'));
    const m = await meta('csv');
    assert.ok(Math.abs(ev.metrics.accuracy - m.metrics.test_accuracy) < 1e-6);
    assert.ok(Math.abs(ev.metrics.f1_macro - m.metrics.test_f1_macro) < 1e-6);
  });
});

test('from_json (JSON lines) and from_folders (class folders of .txt) learn the corpus too', async () => {
  const jsonl = (rows: { text: string; label: string }[]) => rows.map((r) => JSON.stringify({ review: r.text, topic: r.label, extra: 1 })).join('\n') + '\n';
  await writeFile(join(dir, 'train.jsonl'), jsonl(topicTexts(20, 1)));
  await writeFile(join(dir, 'val.jsonl'), jsonl(topicTexts(5, 2)));
  ok(await flash(['text_classification', ...small, '--trainer.max_epochs', '4', '--trainer.output_dir', 'json', 'from_json', '--train_file', 'train.jsonl', '--val_file', 'val.jsonl', '--input_field', 'review', '--target_fields', 'topic']));
  assert.ok((await meta('json')).metrics.val_accuracy >= 0.9);
  const p = await flash(['predict', '--model', 'json', '--csv', 'val.jsonl', '--output', 'pj.jsonl']);
  ok(p);
  assert.equal((await readFile(join(dir, 'pj.jsonl'), 'utf8')).trim().split('\n').length, 15);

  await writeTopicFolders(join(dir, 'folders', 'train'), 20, 1);
  await writeTopicFolders(join(dir, 'folders', 'val'), 5, 2);
  await writeFile(join(dir, 'folders', 'train', 'food', 'notes.md'), 'not a text sample');
  const f = await flash(['text_classification', ...small, '--trainer.max_epochs', '4', '--trainer.output_dir', 'fold', 'from_folders', '--train_folder', 'folders/train', '--val_folder', 'folders/val']);
  ok(f);
  assert.match(f.stdout, /ignored 1 non-\.txt file/);
  assert.ok((await meta('fold')).metrics.val_accuracy >= 0.9);
  const ev = await flash(['evaluate', '--model', 'fold', '--folder', 'folders/val']);
  ok(ev);
  assert.match(ev.stdout, /^15 texts · /);
});

test("multi-label from ';'-separated labels: sigmoid outputs, multi-label metrics, predict lists the labels", async () => {
  // Each text mixes one or two topics; its label cell names them.
  const mix = (n: number, seed: number) => {
    const a = topicTexts(n, seed);
    const b = topicTexts(n, seed + 100);
    return a.map((r, i) => {
      const other = b[(i + 1) % b.length];
      return i % 2 === 0 ? { text: r.text, label: r.label } : { text: `${r.text} ${other.text}`, label: [r.label, other.label].sort().join(';') };
    });
  };
  await writeCsv(join(dir, 'ml_train.csv'), mix(30, 11));
  await writeCsv(join(dir, 'ml_val.csv'), mix(8, 12));
  const r = await flash(['text_classification', ...small, '--trainer.max_epochs', '6', '--trainer.output_dir', 'ml', 'from_csv', '--train_file', 'ml_train.csv', '--val_file', 'ml_val.csv']);
  ok(r);
  assert.match(r.stdout, /^per-label metrics \(best model, val split, threshold 0\.5\):/m);
  const m = await meta('ml');
  assert.equal(m.multi_label, true);
  assert.ok(m.metrics.val_f1_macro >= 0.8, `val_f1_macro ${m.metrics.val_f1_macro}`);
  const p = await flash(['predict', '--model', 'ml', '--text', 'football goal league recipe oven soup', '--output', 'ml.json']);
  ok(p);
  const [pred] = JSON.parse(await readFile(join(dir, 'ml.json'), 'utf8')) as { labels: { label: string }[] }[];
  assert.deepEqual(pred.labels.map((l) => l.label).sort(), ['food', 'sport']);
  const ev = await flash(['evaluate', '--model', 'ml', '--csv', 'ml_val.csv']);
  ok(ev);
  assert.match(ev.stdout, /^24 texts · multi-label, threshold 0\.5 · loss [\d.]+ · f1_micro [\d.]+ · f1_macro [\d.]+ · hamming_accuracy/m);
  assert.match(ev.stdout, /^label\s+precision\s+recall\s+f1\s+support\s+auroc$/m);
});

describe('bad input: one line naming the file, line or column; non-zero exit; no run folder', () => {
  const train = (extra: string[], out = 'bad') => flash(['text_classification', ...small, '--trainer.max_epochs', '1', '--trainer.output_dir', out, 'from_csv', ...extra]);

  test('an empty text field is skipped with a warning, and fatal with --trainer.strict true', async () => {
    const rows = [...topicTexts(6, 1), { text: '', label: 'food' }, { text: '   ', label: 'tech' }];
    await writeCsv(join(dir, 'empty.csv'), rows);
    const r = await train(['--train_file', 'empty.csv'], 'skipped');
    ok(r);
    assert.match(r.stderr, /^warning: skipped 2 row\(s\) with an empty text \(text\), e\.g\. '.*empty\.csv' line 20/m);
    const strict = await flash(['text_classification', ...small, '--trainer.strict', 'true', '--trainer.output_dir', 'strict', 'from_csv', '--train_file', 'empty.csv']);
    oneLineError(strict, /'.*empty\.csv' line 20: empty text \(text\); --trainer\.strict is on/);
    assert.ok(!existsSync(join(dir, 'strict')));
  });

  test('a run that fails in its first epoch leaves no tokenizer.json (it goes with the first checkpoint)', async () => {
    const r = await train(['--train_file', 'train.csv', '--val_file', 'val.csv', '--finetune.strategy', 'freeze'], 'failed_start');
    oneLineError(r, /no backbone to freeze/);
    assert.ok(!existsSync(join(dir, 'failed_start', 'tokenizer.json')));
  });

  test('a 10 MB single text is cut at max_length, and the run says so', async () => {
    await writeCsv(join(dir, 'huge.csv'), [...topicTexts(6, 1), { text: 'goal '.repeat(2 * 1024 * 1024), label: 'sport' }]);
    const r = await train(['--train_file', 'huge.csv'], 'huge');
    ok(r);
    assert.match(r.stderr, /^warning: 1 text\(s\) longer than data\.max_length 512 words were cut to it$/m);
  });

  test('a missing input or target column names the file and its columns', async () => {
    oneLineError(await train(['--train_file', 'train.csv', '--input_field', 'txt']), /^error: input_field: no column 'txt' in '.*train\.csv' \(did you mean 'text'\?\); its columns: text, label$/);
    oneLineError(await train(['--train_file', 'train.csv', '--target_fields', 'topic']), /^error: target_fields: no column 'topic' in '.*train\.csv'/);
    assert.ok(!existsSync(join(dir, 'bad')));
  });

  test('a file that is not UTF-8 is named, with its line', async () => {
    await writeFile(join(dir, 'latin1.csv'), Buffer.concat([Buffer.from('text,label\nfine,a\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',b\n')]));
    oneLineError(await train(['--train_file', 'latin1.csv']), /^error: CSV file '.*latin1\.csv' is not UTF-8 text \(line 3\)/);
  });

  test('a label column with one class', async () => {
    await writeCsv(join(dir, 'one.csv'), topicTexts(4, 1).map((r) => ({ ...r, label: 'sport' })));
    oneLineError(await train(['--train_file', 'one.csv']), /^error: '.*one\.csv': the label column has one class \('sport'\); a classifier needs at least two$/);
  });

  test('a JSON lines line that does not parse names its line number', async () => {
    await writeFile(join(dir, 'broken.jsonl'), '{"text": "a", "label": "x"}\n\n{"text": "b", "label": \n{"text": "c", "label": "y"}\n');
    const r = await flash(['text_classification', ...small, '--trainer.output_dir', 'bad', 'from_json', '--train_file', 'broken.jsonl']);
    oneLineError(r, /^error: '.*broken\.jsonl' line 3: not valid JSON/);
    assert.ok(!existsSync(join(dir, 'bad')));
  });

  test('a label in the val file that the train file does not have names its line', async () => {
    await writeCsv(join(dir, 'val_new.csv'), [{ text: 'a b c', label: 'music' }]);
    oneLineError(await train(['--train_file', 'train.csv', '--val_file', 'val_new.csv']), /^error: '.*val_new\.csv' line 2: label 'music' is not one of the labels in '.*train\.csv'/);
  });
});
