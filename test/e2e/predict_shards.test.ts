/**
 * `flash predict --shard i/n` for every task: the shards' outputs partition the inputs exactly, each row carries its
 * input row, and the parts — concatenated, or merged with --shards n --merge — equal the unsharded output row for
 * row. In-process through the real CLI and tasks (one small trained run per task).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { runCli } from '../../src/cli/index.js';
import { depsFor } from '../../src/main.js';
import { tasks } from '../../tasks/index.js';
import { partFile } from '../../src/core/shard/parts.js';
import { makeShapeDataset, makeTempDir, removeDir } from '../helpers/images.js';
import { toyRows, writeToyCsv } from '../tasks/tabular/fixtures.js';
import { writeCsv, topicTexts } from '../helpers/texts.js';

let dir: string;
async function flash(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: dir, env: {} };
  const code = await runCli(argv, depsFor(tasks, io));
  return { code, out: out.join('') };
}
async function ok(argv: string[]): Promise<string> {
  const r = await flash(argv);
  assert.equal(r.code, 0, `flash ${argv.join(' ')}\n${r.out}`);
  return r.out;
}
const jsonl = async (file: string) => (await readFile(join(dir, file), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  dir = await makeTempDir('flash-e2e-shards-');
});
after(async () => removeDir(dir));

/**
 * Runs predict unsharded and in `n` shards (.jsonl and .csv), and checks: the parts partition rows 0…N-1 exactly
 * and in order, each part's rows are the unsharded rows with input_row first, and --merge gives the unsharded file.
 */
async function checkShards(name: string, predict: string[], n: number, expectRows: number): Promise<void> {
  for (const ext of ['jsonl', 'csv']) {
    const whole = `${name}-all.${ext}`;
    await ok(['predict', ...predict, '--output', whole]);
    const merged = `${name}.${ext}`;
    for (let i = 0; i < n; i++) await ok(['predict', ...predict, '--shard', `${i}/${n}`, '--output', partFile(join(dir, merged), { index: i, count: n })]);
    const parts = await Promise.all(Array.from({ length: n }, (_, i) => readFile(partFile(join(dir, merged), { index: i, count: n }), 'utf8')));
    if (ext === 'jsonl') {
      const all = await jsonl(whole);
      assert.equal(all.length, expectRows);
      const rows = parts.flatMap((t) => t.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
      assert.deepEqual(rows.map((r) => r.input_row), all.map((_, i) => i), 'every input row exactly once, in order');
      assert.ok(rows.every((r) => Object.keys(r)[0] === 'input_row'));
      assert.deepEqual(rows.map(({ input_row: _, ...rest }) => rest), all, 'each row equals the unsharded row');
    } else {
      const all = parseCsv(await readFile(join(dir, whole), 'utf8')) as string[][];
      const tables = parts.map((t) => parseCsv(t) as string[][]);
      assert.ok(tables.every((t) => t.length === 0 || t[0].join() === ['input_row', ...all[0]].join()), 'each part: input_row, then the columns');
      const body = tables.flatMap((t) => t.slice(1));
      assert.deepEqual(body.map((r) => Number(r[0])), all.slice(1).map((_, i) => i));
      assert.deepEqual(body.map((r) => r.slice(1)), all.slice(1));
    }
    const said = await ok(['predict', ...predict, '--shards', String(n), '--merge', '--output', merged]);
    assert.match(said, new RegExp(`wrote ${expectRows} predictions to ${merged.replace('.', '\\.')} \\(${n} shards merged in input order\\)`));
    assert.equal(await readFile(join(dir, merged), 'utf8'), await readFile(join(dir, whole), 'utf8'), `${merged} equals the unsharded output byte for byte`);
  }
}

describe('predict --shard i/n', () => {
  test('tabular_classification: rows of a CSV, by row number', async () => {
    await writeToyCsv(join(dir, 'tab_train.csv'), toyRows(80, 3), ['x1', 'x2', 'color', 'cls']);
    await writeToyCsv(join(dir, 'tab_rows.csv'), toyRows(11, 4), ['x1', 'x2', 'color']);
    await ok(['tabular_classification', 'from_csv', '--train_file', 'tab_train.csv', '--target_fields', 'cls', '--trainer.max_epochs', '2', '--trainer.output_dir', 'tab_run']);
    await checkShards('tab', ['--model', 'tab_run', '--csv', 'tab_rows.csv'], 4, 11);
  });

  test('image_classification: the files of a folder, sorted', async () => {
    await makeShapeDataset(join(dir, 'shapes'), { perClass: 4, seed: 5, formats: ['png'] });
    await ok(['image_classification', '--trainer.max_epochs', '1', '--model.backbone', 'simple_cnn', '--data.image_size', '16', '--from_folders', 'shapes', '--trainer.output_dir', 'img_run']);
    await checkShards('img', ['--model', 'img_run', '--folder', 'shapes'], 3, 12);
  });

  test('text_classification: the rows of a CSV of texts', async () => {
    await writeCsv(join(dir, 'txt_train.csv'), topicTexts(8, 1));
    await writeCsv(join(dir, 'txt_rows.csv'), topicTexts(2, 2).map((r, i) => ({ ...r, id: `t${i}` })), ['id', 'text', 'label']);
    const small = ['--data.subword_buckets', '64', '--data.bigram_buckets', '64', '--model.embedding_dim', '8', '--trainer.max_epochs', '1'];
    await ok(['text_classification', ...small, '--trainer.output_dir', 'txt_run', 'from_csv', '--train_file', 'txt_train.csv', '--input_field', 'text', '--target_fields', 'label']);
    const rows = (await readFile(join(dir, 'txt_rows.csv'), 'utf8')).trim().split('\n').length - 1;
    await checkShards('txt', ['--model', 'txt_run', '--csv', 'txt_rows.csv', '--keep_columns', 'id'], 3, rows);
  });

  test('bad shard flags: one line each, all at once, non-zero exit', async () => {
    const r = await flash(['predict', '--model', 'tab_run', '--csv', 'tab_rows.csv', '--shard', '9/8']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /^error: --shard 9\/8: shards are numbered from 0 to 7 \(0-based, like JOB_COMPLETION_INDEX\)$/m);
    const q = await flash(['predict', '--model', 'tab_run', '--csv', 'tab_rows.csv', '--shards', '4', '--output', 'x.txt', '--image', 'a']);
    assert.equal(q.code, 2, q.out);
    assert.match(q.out, /--shards n goes with --queue redis:\/\/…, --k8s_manifest job\.yaml or --merge/);
    assert.match(q.out, /--image goes with --k8s_manifest/);
    const m = await flash(['predict', '--model', 'tab_run', '--csv', 'tab_rows.csv', '--shards', '4', '--merge', '--output', 'nothing.jsonl']);
    assert.equal(m.code, 2, m.out);
    assert.match(m.out, /^error: no parts to merge: nothing\.jsonl\.shards does not exist/m);
  });

  test('--k8s_manifest writes the Indexed Job for this very command', async () => {
    const said = await ok(['predict', '--model', 'tab_run', '--csv', 'tab_rows.csv', '--shards', '8', '--k8s_manifest', 'job.yaml', '--output', 'preds.jsonl', '--image', 'flash:test']);
    assert.match(said, /wrote job\.yaml: a Kubernetes Indexed Job of 8 pods \(image flash:test/);
    const text = await readFile(join(dir, 'job.yaml'), 'utf8');
    assert.match(text, /completionMode: Indexed/);
    assert.match(text, /- \$\(JOB_COMPLETION_INDEX\)\/8/);
    assert.match(text, /- --model\n\s+- tab_run\n\s+- --csv\n\s+- tab_rows\.csv\n\s+- --shard/);
  });

  test('predict --help shows the shard flags and says how shards split the inputs', async () => {
    const text = await ok(['predict', '--model', 'tab_run', '--help']);
    assert.match(text, /Shards split the CSV's rows, in file order/);
    assert.match(text, /--shard\s+predict only shard i of n \(0-based/);
    assert.match(text, /--k8s_manifest/);
  });
});

