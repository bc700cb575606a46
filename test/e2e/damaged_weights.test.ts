/**
 * End-to-end: a run folder whose weights or optimizer state were damaged after training (a byte flipped, same
 * size; or cut short) is refused by every command that reads it, with one `error:` line naming the file and a
 * non-zero exit — never NaN predictions with exit 0, never "a bug in flash".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';

let dir: string;
let data: ShapeDataset;
let copies = 0;

before(async () => {
  dir = await makeTempDir('flash-e2e-weights-');
  data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 6, seed: 21, formats: ['png'], minSize: 16, maxSize: 20 });
  const r = await runFlash(['image_classification', '--max_epochs', '1', '--image_size', '16', '--batch_size', '8', '--output_dir', 'run', '--from_folders', 'shapes'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
});
after(() => removeDir(dir));

type Damage = 'flip' | 'truncate';

/** A copy of the run with one file damaged; returns the copy's name and the damaged file's path. */
async function damagedRun(file: (run: string) => Promise<string>, damage: Damage): Promise<{ run: string; file: string }> {
  const run = `copy${++copies}`;
  await cp(join(dir, 'run'), join(dir, run), { recursive: true });
  const target = await file(join(dir, run));
  const bytes = await readFile(target);
  if (damage === 'flip') bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(target, damage === 'flip' ? bytes : bytes.subarray(0, bytes.length >> 1));
  return { run, file: target };
}

const weightsOf = (folder: string) => async (run: string) => join(run, folder, (await readdir(join(run, folder))).find((f) => /^weights\.[0-9a-f]+\.bin$/.test(f))!);

function assertRefused(r: FlashRun, file: string, damage: Damage): void {
  const all = r.stdout + r.stderr;
  assert.notEqual(r.code, 0, all);
  assert.notEqual(r.code, null, `killed: ${all}`);
  assert.doesNotMatch(all, /bug in flash/);
  assert.doesNotMatch(all, /^\s+at /m, `stack trace:\n${all}`);
  assert.doesNotMatch(r.stdout, /NaN/);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.ok(errors[0].includes(file), errors[0]);
  assert.match(errors[0], damage === 'flip' ? /is corrupt/ : /is truncated/);
}

const image = () => data.files[0].file;

for (const damage of ['flip', 'truncate'] as const) {
  test(`predict, evaluate, export and serve refuse a ${damage === 'flip' ? 'corrupted (same size)' : 'truncated'} weights file`, async () => {
    const { run, file } = await damagedRun(weightsOf('.'), damage);
    assertRefused(await runFlash(['predict', '--model', run, '--files', image()], { cwd: dir }), file, damage);
    assertRefused(await runFlash(['evaluate', '--model', run, '--folder', 'shapes'], { cwd: dir }), file, damage);
    assertRefused(await runFlash(['export', '--model', run, '--out', `${run}-web`], { cwd: dir }), file, damage);
    assert.ok(!(await readdir(dir)).includes(`${run}-web`), 'no export folder written');
    assertRefused(await runFlash(['serve', '--model', run, '--port', '0'], { cwd: dir, timeoutMs: 60_000 }), file, damage);
  });

  test(`--model.backbone and --resume refuse ${damage === 'flip' ? 'corrupted' : 'truncated'} weights and optimizer.bin`, async () => {
    const train = ['--max_epochs', '2', '--image_size', '16', '--batch_size', '8', '--from_folders', 'shapes'];
    const backbone = await damagedRun(weightsOf('.'), damage);
    assertRefused(await runFlash(['image_classification', '--model.backbone', backbone.run, '--output_dir', `${backbone.run}-child`, ...train], { cwd: dir }), backbone.file, damage);
    const last = await damagedRun(weightsOf('last'), damage);
    assertRefused(await runFlash(['image_classification', '--resume', last.run, '--max_epochs', '2'], { cwd: dir }), last.file, damage);
    const opt = await damagedRun(async (run) => join(run, 'last', 'optimizer.bin'), damage);
    assertRefused(await runFlash(['image_classification', '--resume', opt.run, '--max_epochs', '2'], { cwd: dir }), opt.file, damage);
  });
}
