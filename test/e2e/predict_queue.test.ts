/**
 * Predict shards as BullMQ jobs on a real Redis (redis-server on a free loopback port, started here; skipped,
 * saying so, when it is not installed): `flash predict --queue … --shards n` over two `flash worker` processes
 * equals an unsharded predict row for row; re-running an interrupted submit reuses its jobs (none twice); a shard
 * whose data a worker can't reach fails with one line naming the path.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';
import { redisSkip, startRedis } from '../helpers/redis.js';
import { toyRows, writeToyCsv } from '../tasks/tabular/fixtures.js';
import { redisConnection } from '../../src/core/sweep/queue.js';
import { PREDICT_QUEUE } from '../../src/core/shard/queue.js';

let dir: string;
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;

describe('predict shards on a queue (BullMQ on Redis)', { skip: redisSkip }, () => {
  const workers: { child?: ChildProcess; done: Promise<FlashRun> }[] = [];
  before(async () => {
    dir = await makeTempDir('flash-e2e-predict-queue-');
    redis = await startRedis();
    await writeToyCsv(join(dir, 'train.csv'), toyRows(80, 3), ['x1', 'x2', 'color', 'cls']);
    await writeToyCsv(join(dir, 'rows.csv'), toyRows(37, 4), ['x1', 'x2', 'color']);
    const train = await runFlash(['tabular_classification', 'from_csv', '--train_file', 'train.csv', '--target_fields', 'cls', '--trainer.max_epochs', '2', '--trainer.output_dir', 'run'], { cwd: dir });
    assert.equal(train.code, 0, train.stderr);
    const all = await runFlash(['predict', '--model', 'run', '--csv', 'rows.csv', '--output', 'all.jsonl'], { cwd: dir });
    assert.equal(all.code, 0, all.stderr);
  });
  after(async () => {
    for (const w of workers) w.child?.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    redis?.stop();
    await removeDir(dir);
  });

  const startWorker = () => {
    const w: (typeof workers)[number] = { done: Promise.resolve({} as FlashRun) };
    w.done = runFlash(['worker', '--queue', redis!.url], { cwd: dir, onStdout: (_c, child) => void (w.child = child), timeoutMs: 300_000 });
    workers.push(w);
  };
  const submit = ['predict', '--model', 'run', '--csv', 'rows.csv', '--shards', '6', '--output', 'preds.jsonl'];

  test('an interrupted submit leaves its jobs queued; two workers run them; the same command again finds them done (none twice) and its merge equals the unsharded predict', async () => {
    // No worker yet: Ctrl-C the submit once it is waiting.
    const first = await runFlash([...submit, '--queue', redis!.url], {
      cwd: dir,
      timeoutMs: 60_000,
      onStdout: (chunk, child) => void (/waiting for workers/.test(chunk) && child.kill('SIGINT')),
    });
    assert.equal(first.code, 130, first.stderr + first.stdout);
    assert.match(first.stderr, /^error: interrupted with 0 of 6 shards done; the jobs stay queued: run the same command again/m);
    const queue = new Queue(PREDICT_QUEUE, { connection: redisConnection(redis!.url) });
    try {
      assert.equal(await queue.getJobCountByTypes('waiting', 'active', 'completed', 'failed', 'delayed'), 6);
      startWorker();
      startWorker();
      // Let the workers finish the queued shards before the submit is run again: it finds them done and merges.
      for (let i = 0; i < 600 && (await queue.getJobCountByTypes('completed')) < 6; i++) await new Promise((r) => setTimeout(r, 200));
      assert.equal(await queue.getJobCountByTypes('completed'), 6);
      const second = await runFlash([...submit, '--queue', redis!.url], { cwd: dir, timeoutMs: 240_000 });
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.match(second.stdout, /predict: 6 shard\(s\) on redis:\/\/\S+ \(flash-predict; 6 queued by an earlier run of this command\)/);
      assert.match(second.stdout, /^wrote 37 predictions to preds\.jsonl \(6 shards, merged in input order; workers: /m);
      assert.equal(await readFile(join(dir, 'preds.jsonl'), 'utf8'), await readFile(join(dir, 'all.jsonl'), 'utf8'), 'merged = unsharded, row for row');
      assert.equal(existsSync(join(dir, 'preds.jsonl.shards')), false, 'the parts are removed after the merge');
      assert.equal(await queue.getJobCountByTypes('waiting', 'active', 'completed', 'failed', 'delayed'), 0, 'and the spent jobs');
      const done = [...second.stdout.matchAll(/^shard (\d+)\/6 done by /gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
      assert.deepEqual(done, [0, 1, 2, 3, 4, 5], 'each shard done exactly once');
    } finally {
      await queue.close();
    }
  });

  test('a shard whose data a worker cannot reach fails the job, and the submit says which and why in one line', async () => {
    const r = await runFlash(['predict', '--model', 'run', '--csv', 'only_on_my_laptop.csv', '--shards', '2', '--output', 'gone.jsonl', '--queue', redis!.url], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /^error: shard 0\/2 failed: worker \S+ cannot read \S+only_on_my_laptop\.csv \(ENOENT\): every worker needs the model and data under the same path as where predict was run \(a shared folder\) \(and 1 more shard\(s\): 1\)$/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});
