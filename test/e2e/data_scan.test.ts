/**
 * End-to-end data scanning with the real binary: a symlink loop in a class folder is followed once and named;
 * an empty class folder is a warning that drops the class (fatal with --trainer.strict true) and `--check --json`
 * prints its JSON either way; files the user named (`predict --files`, from_files) that are missing are errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeEmptyClass, makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../helpers/images.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';

let dir: string;
let data: ShapeDataset;

before(async () => {
  dir = await makeTempDir('flash-e2e-scan-');
  data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 6, seed: 4, formats: ['png'], minSize: 16, maxSize: 20 });
  await cp(data.root, join(dir, 'looped'), { recursive: true });
  // The case: bag/loop -> .. (each level re-reads every class: 40 images became 6,120).
  await symlink('..', join(dir, 'looped', 'circle', 'loop'));
  await cp(data.root, join(dir, 'with_empty'), { recursive: true });
  await makeEmptyClass(join(dir, 'with_empty'), 'ghost');
});
after(() => removeDir(dir));

const noStack = (r: FlashRun) => assert.doesNotMatch(r.stdout + r.stderr, /^\s+at |bug in flash/m, r.stderr);

test('--check on a folder with a symlink loop counts every image once and names the loop', async () => {
  const r = await runFlash(['image_classification', '--from_folders', 'looped', '--check', '--json', '--data.val_split', '0'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.classes, data.labels);
  assert.equal(report.splits[0].total, 18);
  assert.deepEqual(Object.values(report.splits[0].counts), [6, 6, 6]);
  const loop = join(dir, 'looped', 'circle', 'loop');
  assert.ok(report.warnings.some((w: string) => w.startsWith(`symlink loop: '${loop}'`)), report.warnings.join('\n'));
  const text = await runFlash(['image_classification', '--from_folders', 'looped', '--check'], { cwd: dir });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\s+warning: symlink loop: .*circle\/loop' leads back to/m);
  assert.match(text.stdout, /^\s+total\s+\d+\s+\d+$/m);
  noStack(text);
});

test('an empty class folder: a warning that drops it (training runs), fatal with strict; --check --json prints JSON both ways', async () => {
  const ghost = join(dir, 'with_empty', 'ghost');
  const check = await runFlash(['image_classification', '--from_folders', 'with_empty', '--check', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const report = JSON.parse(check.stdout);
  assert.deepEqual(report.classes, data.labels);
  assert.ok(report.warnings.some((w: string) => w.includes(`'${ghost}' has no images`)), report.warnings.join('\n'));

  const strict = await runFlash(['image_classification', '--from_folders', 'with_empty', '--check', '--json', '--trainer.strict', 'true'], { cwd: dir });
  assert.equal(strict.code, 1, strict.stderr);
  const failed = JSON.parse(strict.stdout);
  assert.equal(failed.ok, false);
  assert.equal(failed.problems.length, 1);
  assert.ok(failed.problems[0].includes(`'${ghost}' has no images`), failed.problems[0]);
  assert.match(strict.stderr, /^error: dataset check failed: .*ghost/m);
  noStack(strict);

  const train = await runFlash(['image_classification', '--from_folders', 'with_empty', '--max_epochs', '1', '--image_size', '16', '--output_dir', 'run'], { cwd: dir });
  assert.equal(train.code, 0, train.stderr + train.stdout);
  const warned = train.stderr.split('\n').filter((l) => l.includes(`'${ghost}' has no images`));
  assert.equal(warned.length, 1, `said once:\n${train.stderr}`);
  assert.match(warned[0], /^warning: .*left out/);
});

test('predict --files with a missing file is an error naming it; from_files with a missing file too', async () => {
  const good = data.files[0].file;
  const r = await runFlash(['predict', '--model', 'run', '--files', 'missing.jpg', good], { cwd: dir });
  assert.notEqual(r.code, 0, r.stdout);
  assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('error: ')), ["error: --files: 'missing.jpg' does not exist"]);
  noStack(r);
  assert.equal(r.stdout, '');
  const folder = await runFlash(['predict', '--model', 'run', '--files', 'shapes'], { cwd: dir });
  assert.notEqual(folder.code, 0);
  assert.match(folder.stderr, /^error: --files: 'shapes' is not a file \(give a folder with --folder\)$/m);
  const ok = await runFlash(['predict', '--model', 'run', '--files', good], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);

  await mkdir(join(dir, 'ff'), { recursive: true });
  const files = data.files.slice(0, 4);
  const ff = await runFlash(
    ['image_classification', 'from_files', '--train_files', ...files.map((f) => f.file), 'gone.png', '--train_targets', ...files.map((f) => f.label), 'circle', '--max_epochs', '1'],
    { cwd: dir },
  );
  assert.notEqual(ff.code, 0, ff.stdout);
  assert.match(ff.stderr, /^error: .*'[^']*gone\.png' does not exist/m);
  noStack(ff);
});
