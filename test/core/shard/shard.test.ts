/** Shards of a predict: parsing, the ranges, the flags a job re-runs, the merge's checks, the Kubernetes manifest, a worker's refusals. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Job } from 'bullmq';
import { FlashUserError } from '../../../src/core/errors.js';
import { parseShard, rowsOfKept, selectShard, shardRange, withRow } from '../../../src/core/shard/shard.js';
import { mergeParts, partFile, partsDir } from '../../../src/core/shard/parts.js';
import { indexedJobManifest } from '../../../src/core/shard/k8s.js';
import { predictJobProcessor, type PredictJobData, type PredictJobResult } from '../../../src/core/shard/queue.js';
import { flashVersion } from '../../../src/core/run/run_folder.js';
import { withoutShardFlags } from '../../../src/cli/shard_flags.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

const userError = (re: RegExp) => (err: unknown) => err instanceof FlashUserError && re.test(err.message);

describe('parseShard', () => {
  test('0-based i/n', () => {
    assert.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
    assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
  });
  test('out of range or malformed: one line saying what is expected', () => {
    assert.throws(() => parseShard('9/8'), userError(/^--shard 9\/8: shards are numbered from 0 to 7 \(0-based/));
    assert.throws(() => parseShard('8/8'), userError(/from 0 to 7/));
    assert.throws(() => parseShard('1/0'), userError(/n must be from 1/));
    assert.throws(() => parseShard('three'), userError(/expected i\/n/));
    assert.throws(() => parseShard('-1/8'), userError(/expected i\/n/));
  });
});

test('the shards of N inputs partition them exactly, in order, sizes within one', () => {
  for (const total of [0, 1, 7, 10, 64, 101]) {
    for (const count of [1, 3, 8, 64]) {
      const items = Array.from({ length: total }, (_, i) => `x${i}`);
      const parts = Array.from({ length: count }, (_, index) => selectShard(items, { index, count }));
      assert.deepEqual(parts.flatMap((p) => p.items), items, `${total} in ${count}`);
      assert.deepEqual(parts.flatMap((p) => p.rows), items.map((_, i) => i));
      const sizes = parts.map((p) => p.items.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
    }
  }
  assert.deepEqual(shardRange(10, { index: 2, count: 3 }), [6, 10]);
  assert.deepEqual(selectShard(['a', 'b']), { items: ['a', 'b'], rows: [0, 1] });
});

test('withRow puts input_row first and refuses a record that has one; rowsOfKept skips dropped inputs', () => {
  assert.deepEqual(Object.keys(withRow({ a: 1, b: 2 }, 5)), ['input_row', 'a', 'b']);
  assert.deepEqual(withRow({ a: 1 }, undefined), { a: 1 });
  assert.throws(() => withRow({ input_row: 1 }, 2), userError(/input_row/));
  assert.deepEqual(rowsOfKept({ items: ['c', 'd', 'e', 'f'], rows: [2, 3, 4, 5] }, ['c', 'e', 'f']), [2, 4, 5]);
});

test('withoutShardFlags drops the shard flags and --output, in both spellings, and keeps list values', () => {
  const kinds = new Map([['files', 'array'], ['queue', 'string'], ['shards', 'string'], ['merge', 'boolean'], ['output', 'string'], ['model', 'string']] as const);
  assert.deepEqual(
    withoutShardFlags(['--model', 'run', '--files', 'a.png', 'b.png', '--queue', 'redis://h:1', '--shards=4', '--merge', '--output', 'p.jsonl', '--top_k', '2'], kinds),
    ['--model', 'run', '--files', 'a.png', 'b.png', '--top_k', '2'],
  );
});

describe('mergeParts', () => {
  let dir: string;
  const shown = (p: string) => p.slice(dir.length + 1);
  const out = () => join(dir, 'preds.jsonl');
  const writePart = (index: number, count: number, lines: object[], name?: string) =>
    writeFile(name ? join(partsDir(out()), name) : partFile(out(), { index, count }), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  before(async () => {
    dir = await makeTempDir('flash-shard-merge-');
  });
  after(async () => removeDir(dir));
  const fresh = async () => {
    await rm(partsDir(out()), { recursive: true, force: true });
    await mkdir(partsDir(out()), { recursive: true });
  };

  test('parts in any order merge into input order without input_row; an empty part is fine', async () => {
    await fresh();
    await writePart(1, 3, [{ input_row: 2, p: 'c' }, { input_row: 3, p: 'd' }]);
    await writePart(0, 3, [{ input_row: 0, p: 'a' }, { input_row: 1, p: 'b' }]);
    await writePart(2, 3, []);
    assert.deepEqual(await mergeParts(out(), 3, shown), { rows: 4 });
    assert.equal(await readFile(out(), 'utf8'), ['a', 'b', 'c', 'd'].map((p) => `{"p":"${p}"}\n`).join(''));
  });

  test('a missing shard, a shard there twice, a row in two parts, a part of another split: one line naming it', async () => {
    await fresh();
    await writePart(0, 3, [{ input_row: 0 }]);
    await writePart(2, 3, [{ input_row: 2 }]);
    await assert.rejects(mergeParts(out(), 3, shown), userError(/^shard 1\/3 is missing: no preds\.jsonl\.shards\/part-1-of-3\.jsonl$/));
    await writePart(1, 3, [{ input_row: 1 }]);
    await writePart(1, 3, [{ input_row: 1 }], 'part-01-of-3.jsonl');
    await assert.rejects(mergeParts(out(), 3, shown), userError(/^shard 1\/3 is there twice: .*part-01-of-3\.jsonl and .*part-1-of-3\.jsonl$/));
    await rm(join(partsDir(out()), 'part-01-of-3.jsonl'));
    await writePart(2, 3, [{ input_row: 1 }]);
    await assert.rejects(mergeParts(out(), 3, shown), userError(/^input row 1 is in two parts: .*part-1-of-3\.jsonl and .*part-2-of-3\.jsonl$/));
    await writePart(0, 4, []);
    await assert.rejects(mergeParts(out(), 3, shown), userError(/part-0-of-4\.jsonl is a part of a split into 4 shards, not 3/));
    await fresh();
    await writePart(0, 1, [{ p: 1 }]);
    await assert.rejects(mergeParts(out(), 1, shown), userError(/part-0-of-1\.jsonl, line 1: no input_row/));
  });

  test('csv parts merge into the csv an unsharded predict writes', async () => {
    const csv = join(dir, 'preds.csv');
    await mkdir(partsDir(csv), { recursive: true });
    await writeFile(partFile(csv, { index: 0, count: 2 }), 'input_row,file,score\n0,"a,1.png",0.5\n');
    await writeFile(partFile(csv, { index: 1, count: 2 }), 'input_row,file,score\n1,b.png,0.25\n2,"say ""hi""",1\n');
    await mergeParts(csv, 2, shown);
    assert.equal(await readFile(csv, 'utf8'), 'file,score\n"a,1.png",0.5\nb.png,0.25\n"say ""hi""",1\n');
  });
});

test('the Kubernetes manifest: an Indexed Job of n pods, each running its shard by JOB_COMPLETION_INDEX', () => {
  const text = indexedJobManifest({ argv: ['--model', 'runs/x', '--folder', 'big'], shards: 8, output: 'preds.jsonl', cwd: '/data/work', image: 'flash:1', pvc: 'shared' });
  const job = parseYaml(text);
  assert.equal(job.kind, 'Job');
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.completions, 8);
  assert.equal(job.spec.parallelism, 8);
  const c = job.spec.template.spec.containers[0];
  assert.equal(c.image, 'flash:1');
  assert.equal(c.workingDir, '/data/work');
  assert.deepEqual(c.args, ['predict', '--model', 'runs/x', '--folder', 'big', '--shard', '$(JOB_COMPLETION_INDEX)/8', '--output', 'preds.jsonl.shards/part-$(JOB_COMPLETION_INDEX)-of-8.jsonl']);
  assert.equal(job.spec.template.spec.restartPolicy, 'Never');
  assert.deepEqual(job.spec.template.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'shared' } }]);
  assert.deepEqual(c.volumeMounts, [{ name: 'data', mountPath: '/data/work' }]);
  assert.match(text, /^# Merge: {2}flash predict --model runs\/x --folder big --shards 8 --merge --output preds\.jsonl$/m);
  assert.ok(job.metadata.name.length <= 63 && /^[a-z0-9-]+$/.test(job.metadata.name));
});

describe('a worker refuses a predict job it cannot run, saying why', () => {
  const io = { out: () => undefined, err: () => undefined, isTTY: false, cwd: '/', env: {} };
  const job = (data: Partial<PredictJobData>) =>
    ({ id: 'j1', attemptsMade: 0, data: { argv: [], cwd: '/', needs: [], shard: { index: 0, count: 2 }, part: '/tmp/p.jsonl', flashVersion: flashVersion(), ...data } }) as unknown as Job<PredictJobData, PredictJobResult>;
  let ran = 0;
  const run = async () => (ran++, 0);
  test('data it cannot reach', async () => {
    const process = predictJobProcessor('w1', run, io, () => undefined);
    await assert.rejects(process(job({ needs: ['/no/such/folder'] })), (err: Error) => err.name === 'UnrecoverableError' && /^worker w1 cannot read \/no\/such\/folder \(ENOENT\): every worker needs the model and data under the same path/.test(err.message));
    assert.equal(ran, 0);
  });
  test('another flash version', async () => {
    const process = predictJobProcessor('w1', run, io, () => undefined);
    await assert.rejects(process(job({ flashVersion: '0.0.1-other' })), (err: Error) => err.name === 'UnrecoverableError' && /runs flash .*; the job was made by flash 0\.0\.1-other/.test(err.message));
    assert.equal(ran, 0);
  });
  test('a user error in the shard fails it for good, naming the worker', async () => {
    const process = predictJobProcessor('w1', async (_d, jobIO) => (jobIO.err('error: rows.csv: no column x\n'), 2), io, () => undefined);
    await assert.rejects(process(job({})), (err: Error) => err.name === 'UnrecoverableError' && err.message === 'worker w1: rows.csv: no column x');
  });
});
