import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir, isInside, lockRunDir, LOCK_FILE } from '../../../src/core/run/run_guard.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

const check = (dir: string, over: Partial<Parameters<typeof checkOutputDir>[1]> = {}) =>
  checkOutputDir(dir, { task: 'toy', shown: 'out', overwrite: false, dataFolders: [], ...over });

test('checkOutputDir: empty or missing is fine; a run, a non-empty folder and a data folder are refused with how to go on', async () => {
  const dir = await makeTempDir();
  try {
    await check(join(dir, 'missing'));
    mkdirSync(join(dir, 'empty'));
    await check(join(dir, 'empty'));
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'flash.json'), JSON.stringify({ task: 'toy', status: 'completed' }));
    await assert.rejects(check(join(dir, 'run')), (e: unknown) => e instanceof FlashUserError && /already holds a flash run \(status: completed\); continue it with flash toy --resume out .*--overwrite/.test(e.message));
    await check(join(dir, 'run'), { overwrite: true });
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'metrics.csv'), 'my own file\n');
    await assert.rejects(check(join(dir, 'mine')), /is not empty and is not a flash run \(metrics\.csv\)/);
    await assert.rejects(check(join(dir, 'data', 'run'), { dataFolders: [join(dir, 'data')] }), /is inside the data folder/);
    await assert.rejects(check(join(dir, 'data'), { dataFolders: [join(dir, 'data')] }), /is inside the data folder/);
    assert.equal(isInside(join(dir, 'database'), join(dir, 'data')), false, 'a sibling with a longer name is not inside');
  } finally {
    await removeDir(dir);
  }
});

test('lockRunDir: a second lock on a folder is refused while the first is held; a dead process\'s lock is taken over', async () => {
  const dir = await makeTempDir();
  try {
    const run = join(dir, 'run');
    const first = await lockRunDir(run, 'run');
    await assert.rejects(lockRunDir(run, 'run'), /is being written by another flash run \(pid \d+\)/);
    await assert.rejects(check(run), /is being written by another flash run/);
    await first.release();
    assert.ok(!existsSync(join(run, LOCK_FILE)));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(run, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: 'earlier' }));
    const again = await lockRunDir(run, 'run');
    await again.release();
    // A folder the lock created and nothing else wrote is removed with it (a failed start leaves no folder).
    const fresh = await lockRunDir(join(dir, 'fresh'), 'fresh');
    await fresh.release({ removeIfEmpty: true });
    assert.ok(!existsSync(join(dir, 'fresh')));
  } finally {
    await removeDir(dir);
  }
});
