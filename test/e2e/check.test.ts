/**
 * End-to-end: `flash image_classification … --check [--json]` with the real binary on a folder with planted
 * problems (a train image copied into val, a corrupt JPEG, a class of 2 images, a text file), and on one class.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, writeTextFile, writeTruncatedJpeg, type ShapeDataset } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';
import { makeZip } from '../helpers/zip.js';

let dir: string;
let data: ShapeDataset;

before(async () => {
  dir = await makeTempDir('flash-e2e-check-');
  data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 10, layout: 'split', seed: 11, formats: ['png', 'jpg'] });
  const leaked = data.files.find((f) => f.split === 'train' && f.label === 'circle')!;
  await copyFile(leaked.file, join(data.valDir!, 'circle', 'leaked.png'));
  await writeTruncatedJpeg(join(data.trainDir, 'circle', 'corrupt.jpg'));
  await writeTextFile(join(data.trainDir, 'carré vert'), 'readme.txt');
  await mkdir(join(data.trainDir, 'tiny'));
  for (const i of [1, 2]) await writeFile(join(data.trainDir, 'tiny', `${i}.png`), await drawShape({ shape: 'circle', size: 0.2 * i }));
  await mkdir(join(dir, 'one', 'cat'), { recursive: true });
  await writeFile(join(dir, 'one', 'cat', 'a.png'), await drawShape({ shape: 'square' }));
});
after(() => removeDir(dir));

test('--check prints the table and every planted problem, trains nothing, exits 0', async () => {
  const run = await runFlash(['image_classification', '--from_folders', 'shapes', '--check'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /^\s+circle\s+6\s+3\s+2$/m);
  assert.match(out, /^\s+tiny\s+2\s+0\s+0$/m);
  assert.ok(out.includes(join('shapes', 'train', 'circle', 'corrupt.jpg')), out);
  assert.ok(out.includes(join('shapes', 'train', 'carré vert', 'readme.txt')), out);
  assert.ok(out.includes(`${join('shapes', 'val', 'circle', 'leaked.png')} [val]`), out);
  assert.match(out, /classes with fewer than 5 train images \(1\):\n\s+tiny: 2/);
  assert.match(out, /imbalance \(train\): largest blue triangle 6 \/ smallest tiny 2 = 3\.0x/);
  assert.match(out, /check passed with \d+ warning/);
  assert.doesNotMatch(run.stdout + run.stderr, /epoch/i);
});

test('--check --json prints the report as JSON; --min_images_per_class changes the threshold', async () => {
  const run = await runFlash(['image_classification', 'from_folders', '--train_folder', 'shapes/train', '--val_folder', 'shapes/val', '--check', '--json', '--data.min_images_per_class', '3'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.ok, true);
  assert.deepEqual(r.splits.map((s: { name: string; total: number }) => [s.name, s.total]), [['train', 6 + 6 + 6 + 2], ['val', 7]]);
  assert.equal(r.undecodable.length, 1);
  assert.equal(r.duplicates.acrossSplits.length, 1);
  assert.equal(r.minPerClass, 3);
  assert.deepEqual(r.smallClasses, [{ label: 'tiny', count: 2 }]);
});

test('--check exits 1 when training would be meaningless (one class); --json without --check is refused', async () => {
  const run = await runFlash(['image_classification', '--from_folders', 'one', '--check'], { cwd: dir });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /check failed: 1 problem/);
  assert.match(run.stderr, /^error: dataset check failed: only 1 class \(cat\)/m);
  const json = await runFlash(['image_classification', '--from_folders', 'one', '--check', '--json'], { cwd: dir });
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).ok, false);
  const bad = await runFlash(['image_classification', '--from_folders', 'one', '--json'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--json goes with --check/);
});

test('from_csv sub-command: --train_file/--input_field/--target_fields (paths relative to --images_root) with --check', async () => {
  const rows = data.files.filter((f) => f.split === 'train').map((f) => `"${f.file.slice(data.trainDir.length + 1)}",${f.label}`);
  await writeFile(join(dir, 'train.csv'), `\ufeffpath,class\r\n${rows.join('\r\n')}\r\n`);
  const run = await runFlash(
    ['image_classification', 'from_csv', '--train_file', 'train.csv', '--input_field', 'path', '--target_fields', 'class', '--images_root', 'shapes/train', '--check', '--json'],
    { cwd: dir },
  );
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.deepEqual(r.classes, ['blue triangle', 'carré vert', 'circle']);
  assert.deepEqual(r.splits.map((s: { name: string; source: string; total: number }) => [s.name, s.source, s.total]), [['train', 'given', 15], ['val', 'split', 3]]);
  const multi = await runFlash(['image_classification', 'from_csv', '--train_file', 'train.csv', '--input_field', 'path', '--target_fields', 'class', 'path', '--check'], { cwd: dir });
  // Several target columns are multi-label: each must hold 0/1, and 'class' holds names.
  assert.equal(multi.code, 2);
  assert.match(multi.stderr, /^error: '.*train\.csv' line 2: column class holds '[^']+'; each target column is one label, 1 \(has it\) or 0 \(has not\)$/m);
  assert.doesNotMatch(multi.stderr, /\n\s+at /);
});

test('--from_folders takes a .zip file or an http(s) URL of one: extracted into FLASH_CACHE_DIR once, then reused', async () => {
  const files = data.files.filter((f) => f.split !== undefined && f.label !== 'carré vert');
  const entries = await Promise.all(files.map(async (f) => ({ name: `shapes/${relative(data.root, f.file).split('\\').join('/')}`, data: await readFile(f.file) })));
  const zip = makeZip(entries);
  await writeFile(join(dir, 'shapes.zip'), zip);
  process.env.FLASH_CACHE_DIR = join(dir, 'cache');
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-length': String(zip.length) }).end(zip);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shapes.zip`;
    for (const source of ['shapes.zip', url, url]) {
      const run = await runFlash(['image_classification', '--from_folders', source, '--check', '--json'], { cwd: dir });
      assert.equal(run.code, 0, run.stderr);
      const r = JSON.parse(run.stdout);
      assert.deepEqual(r.classes, ['blue triangle', 'circle']);
      assert.deepEqual(r.splits.map((s: { name: string; total: number }) => [s.name, s.total]), [['train', 12], ['val', 4], ['test', 4]]);
      assert.ok(r.origin.includes(join(dir, 'cache', 'extracted')), r.origin);
    }
    assert.equal(hits, 1, 'the URL is downloaded once');
    assert.equal((await readdir(join(dir, 'cache', 'extracted'))).length, 1, 'the file and the URL share one extracted copy');
  } finally {
    delete process.env.FLASH_CACHE_DIR;
    await new Promise((resolve) => server.close(resolve));
  }
});
