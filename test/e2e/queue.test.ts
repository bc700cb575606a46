/**
 * Sweep trials as BullMQ jobs on a real Redis (Debian's redis-server on a free loopback port, started here; the
 * tests skip, saying so, when it is not installed): an unreachable Redis is one line; a 4-trial sweep over two
 * `flash worker` processes, one killed with SIGKILL mid-trial, still finishes with every trial exactly once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { makeShapeDataset, makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';
import { redisSkip, startRedis } from '../helpers/redis.js';

let dir: string;
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
let url = '';

describe('sweep on a queue (BullMQ on Redis)', { skip: redisSkip }, () => {
  before(async () => {
    dir = await makeTempDir('flash-e2e-queue-');
    redis = await startRedis();
    url = redis.url;
    await makeShapeDataset(join(dir, 'shapes'), { perClass: 8, seed: 2, formats: ['png'] });
    const recipe = {
      task: 'image_classification',
      trainer: { max_epochs: 2 },
      data: { builder: 'from_folders', folder: 'shapes', image_size: 16, batch_size: 4 },
      sweep: { metric: 'val_accuracy', method: 'grid', parameters: { 'model.learning_rate': { values: [0.001, 0.003, 0.01, 0.03] } } },
    };
    await writeFile(join(dir, 'sweep.yaml'), toYaml(recipe));
  });
  after(async () => {
    redis?.stop();
    await removeDir(dir);
  });

  test('an unreachable Redis is one line and a quick non-zero exit', async () => {
    const t0 = Date.now();
    const r = await runFlash(['sweep', '--config', 'sweep.yaml', '--queue', 'redis://127.0.0.1:1', '--output_dir', 'nowhere'], { cwd: dir, timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: /m);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
    const w = await runFlash(['worker', '--queue', 'http://x'], { cwd: dir, timeoutMs: 30_000 });
    assert.equal(w.code, 2);
    assert.match(w.stderr, /--queue: 'http:\/\/x' is not a redis:\/\/ URL/);
  });

  test('4 trials over 2 workers, one killed mid-trial: every trial exactly once, the killed one re-run elsewhere', async () => {
    let killedJob = '';
    const workerArgs = ['worker', '--queue', url, '--lock_seconds', '4'];
    const doomed = runFlash(workerArgs, {
      cwd: dir,
      onStdout: (chunk, child) => {
        const m = /worker \S+: (\S+) \(attempt 1\)/.exec(chunk);
        if (m && !killedJob) {
          killedJob = m[1];
          setTimeout(() => child.kill('SIGKILL'), 500);
        }
      },
    });
    let survivor: ChildProcess | undefined;
    const surviving = runFlash(workerArgs, { cwd: dir, onStdout: (_c, child) => void (survivor = child), timeoutMs: 240_000 });
    const sweep = await runFlash(['sweep', '--config', 'sweep.yaml', '--queue', url, '--output_dir', 'qs'], { cwd: dir, timeoutMs: 240_000 });
    survivor?.kill('SIGINT');
    const [dead, alive] = await Promise.all([doomed, surviving]);
    assert.equal(dead.signal, 'SIGKILL');
    assert.ok(killedJob, dead.stdout);
    assert.equal(sweep.code, 0, sweep.stderr + sweep.stdout);
    const lines = (await readFile(join(dir, 'qs', 'results.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.trial).sort(), [1, 2, 3, 4], 'each trial exactly once');
    assert.ok(lines.every((l) => l.status === 'completed'), JSON.stringify(lines.map((l) => [l.trial, l.status, l.error])));
    // BullMQ hands a stalled job (its worker's lock expired) to another worker without counting an attempt.
    assert.ok(alive.stdout.includes(`${killedJob} exit 0`), `the killed worker's trial ${killedJob} ran again on the other:\n${alive.stdout}`);
  });
});
