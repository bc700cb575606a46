import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, type ImageSpec } from '../../../../tasks/image_classification/data/decode.js';
import { DiskPixelCache, DiskPixelStore } from '../../../../tasks/image_classification/data/disk_cache.js';
import { ImageClassificationData } from '../../../../tasks/image_classification/data/index.js';
import { defaultRecipe } from '../../../../src/core/config/index.js';
import { trainImageClassifier } from '../../../../tasks/image_classification/train.js';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../../../helpers/images.js';
import { allBatches } from '../../../helpers/batches.js';
import { defaultImageRecipe } from '../../../../tasks/image_classification/schema.js';

let tmp: string;
let data: ShapeDataset;
const SPEC: ImageSpec = { height: 8, width: 8, channels: 3 };

before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir();
  data = await makeShapeDataset(path.join(tmp, 'shapes'), { perClass: 6, seed: 11 });
});
after(() => removeDir(tmp));

/** A decoder that counts its calls. */
function countingDecoder(): { calls: string[]; decode: (file: string, spec: ImageSpec) => Promise<Uint8Array> } {
  const calls: string[] = [];
  return { calls, decode: (file, spec) => (calls.push(file), decodeImage(file, spec)) };
}

async function openCache(root: string, spec = SPEC, decode?: (file: string, spec: ImageSpec) => Promise<Uint8Array>, failures: string[] = []) {
  const c = await DiskPixelCache.open({ root, spec, decode, onWriteFailure: (m) => failures.push(m) });
  assert.ok(c instanceof DiskPixelCache, String(c));
  return c;
}

/** Every file under a folder, recursively. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

test('an image is decoded once: later loads (and a later cache on the same folder) read the entry', async () => {
  const root = path.join(tmp, 'c1');
  const file = data.files[0].file;
  const a = countingDecoder();
  const cache = await openCache(root, SPEC, a.decode);
  const first = await cache.load(file);
  const second = await cache.load(file);
  assert.deepEqual(second, first);
  assert.deepEqual(first, await decodeImage(file, SPEC));
  assert.equal(a.calls.length, 1);
  assert.deepEqual(cache.stats, { hits: 1, decoded: 1, written: 1 });
  // A later run: a new cache object on the same folder decodes nothing.
  const b = countingDecoder();
  const later = await openCache(root, SPEC, b.decode);
  assert.deepEqual(await later.load(file), first);
  assert.equal(b.calls.length, 0);
  // One entry of exactly h×w×c bytes, no temp files left behind.
  const files = (await listFiles(root)).filter((f) => !f.includes('.probe'));
  assert.equal(files.length, 1);
  assert.match(files[0], /\.px$/);
  assert.equal((await fs.stat(files[0])).size, 8 * 8 * 3);
});

test('a changed file, another size, channel count never hits a stale entry', async () => {
  const root = path.join(tmp, 'c2');
  const file = path.join(tmp, 'changing.png');
  await fs.writeFile(file, await drawShape({ shape: 'circle', colour: [255, 0, 0], width: 16, height: 16, format: 'png' }));
  const counter = countingDecoder();
  const cache = await openCache(root, SPEC, counter.decode);
  const red = await cache.load(file);
  // Same name, new content (same size in bytes is possible too: the times and inode change).
  const replaced = path.join(tmp, 'changing.tmp.png');
  await fs.writeFile(replaced, await drawShape({ shape: 'circle', colour: [0, 0, 255], width: 16, height: 16, format: 'png' }));
  await fs.rename(replaced, file);
  const later = await openCache(root, SPEC, counter.decode);
  const blue = await later.load(file);
  assert.equal(counter.calls.length, 2, 'decoded again after the change');
  assert.notDeepEqual(blue, red);
  assert.deepEqual(blue, await decodeImage(file, SPEC));
  // Touching the file (same bytes, new mtime) is a change too.
  const t = new Date(Date.now() + 5000);
  await fs.utimes(file, t, t);
  await (await openCache(root, SPEC, counter.decode)).load(file);
  assert.equal(counter.calls.length, 3);
  // Other specs live apart.
  const gray = await openCache(root, { ...SPEC, channels: 1 }, counter.decode);
  assert.equal((await gray.load(file)).length, 8 * 8);
  const big = await openCache(root, { ...SPEC, height: 9 }, counter.decode);
  assert.equal((await big.load(file)).length, 9 * 8 * 3);
  assert.equal(counter.calls.length, 5);
  assert.notEqual(DiskPixelCache.folder(root, SPEC), DiskPixelCache.folder(root, { ...SPEC, channels: 1 }));
});

test('atomic entries: a short entry is not used, a failed write leaves no temp file and turns writing off once', async () => {
  const root = path.join(tmp, 'c3');
  const [f0, f1, f2] = data.files.map((f) => f.file);
  const counter = countingDecoder();
  const failures: string[] = [];
  const cache = await openCache(root, SPEC, counter.decode, failures);
  await cache.load(f0);
  // A truncated entry (as a crashed non-atomic writer would leave) is treated as missing and rewritten.
  const entry = cache.entryPath(await cache.keyOf(f0));
  await fs.truncate(entry, 10);
  const again = await cache.load(f0);
  assert.equal(counter.calls.length, 2);
  assert.equal(again.length, 8 * 8 * 3);
  assert.equal((await fs.stat(entry)).size, 8 * 8 * 3);
  // A write that fails (here: the entry's path is taken by a folder, so the rename fails) leaves nothing behind.
  const blocked = cache.entryPath(await cache.keyOf(f1));
  await fs.mkdir(path.join(blocked, 'x'), { recursive: true });
  const px = await cache.load(f1);
  assert.deepEqual(px, await decodeImage(f1, SPEC), 'the pixels still come back');
  assert.equal(failures.length, 1);
  assert.match(failures[0], /^cannot write to the cache folder '.*' \(E[A-Z]+: /);
  assert.equal(cache.writeFailure, failures[0]);
  assert.deepEqual((await listFiles(root)).filter((f) => f.endsWith('.tmp')), []);
  // Writing is off now: later misses decode without trying again (one message only).
  await cache.load(f2);
  assert.equal(failures.length, 1);
  assert.equal(cache.read(await cache.keyOf(f2)), undefined);
});

test('open reports an unusable cache folder in one line instead of throwing', async () => {
  const notDir = path.join(tmp, 'a-file');
  await fs.writeFile(notDir, 'x');
  const r = await DiskPixelCache.open({ root: notDir, spec: SPEC });
  assert.equal(typeof r, 'string');
  assert.match(r as string, /^cannot write to the cache folder '.*a-file.*' \(ENOTDIR: /);
  assert.ok(!(r as string).includes('\n'));
});

test('DiskPixelStore reads with a bounded read-ahead', async () => {
  const root = path.join(tmp, 'c4');
  const cache = await openCache(root);
  const files = data.files.map((f) => f.file);
  const store = new DiskPixelStore(files, cache, { readAhead: 4, concurrency: 2 });
  const order = files.map((_, i) => files.length - 1 - i);
  store.prefetch(order);
  let maxBuffered = 0;
  for (const i of order) {
    maxBuffered = Math.max(maxBuffered, store.buffered);
    assert.deepEqual(await store.get(i), await decodeImage(files[i], SPEC));
  }
  assert.ok(maxBuffered <= 4, `buffered ${maxBuffered}`);
  assert.ok(store.peakInFlight <= 2);
});

test("cache 'disk': same batches as memory; the first build decodes, epochs and a second build read the cache", async () => {
  const cacheDir = path.join(tmp, 'c5');
  const common = { folder: data.root, imageSize: 12, seed: 9, batchSize: 5, onWarning: () => undefined };
  const mem = await ImageClassificationData.fromFolders({ ...common, cache: 'memory' });
  const disk = await ImageClassificationData.fromFolders({ ...common, cache: 'disk', cacheDir });
  const n = data.files.length;
  assert.equal(disk.cache.mode, 'disk');
  assert.deepEqual(disk.cache.disk, { hits: 0, decoded: n, written: n });
  assert.match(disk.summary(), new RegExp(`cache disk \\(asked; .*; 0 reused, ${n} decoded, ${n} written in '.*c5`));
  const before = tf.memory().numTensors;
  for (const epoch of [0, 1]) assert.deepEqual(await allBatches(disk.train, epoch), await allBatches(mem.train, epoch));
  assert.deepEqual(await allBatches(disk.val!, 0), await allBatches(mem.val!, 0));
  assert.equal(tf.memory().numTensors, before);
  assert.equal(disk.cache.disk!.decoded, n, 'epochs decode nothing');
  assert.equal(disk.cache.disk!.hits, 2 * disk.train.size + disk.val!.size);

  const again = await ImageClassificationData.fromFolders({ ...common, cache: 'disk', cacheDir });
  assert.deepEqual(again.cache.disk, { hits: n, decoded: 0, written: 0 });
  assert.deepEqual(await allBatches(again.train, 1), await allBatches(mem.train, 1));
});

test("cache 'auto' picks disk over the memory budget; an unwritable cache folder falls back to decoding on the fly", async () => {
  const common = { folder: data.root, imageSize: 8, valSplit: 0, onWarning: () => undefined };
  const auto = await ImageClassificationData.fromFolders({ ...common, cacheDir: path.join(tmp, 'c6'), memoryBudget: 100 });
  assert.equal(auto.cache.mode, 'disk');
  assert.match(auto.summary(), /cache disk \(auto: .* is over the 0\.1 KiB budget; decoded once, read back from disk; 0 reused/);

  const notDir = path.join(tmp, 'c7-file');
  await fs.writeFile(notDir, 'x');
  const warnings: string[] = [];
  const fallback = await ImageClassificationData.fromFolders({ ...common, cache: 'disk', cacheDir: notDir, onWarning: (m) => warnings.push(m) });
  assert.equal(fallback.cache.mode, 'none');
  assert.deepEqual(warnings.length, 1);
  assert.match(warnings[0], /^disk cache: cannot write to the cache folder '.*c7-file.*' \(ENOTDIR: .*\); decoding on the fly instead$/);
  assert.match(fallback.summary(), /cache none \(disk cache unusable: /);
  const mem = await ImageClassificationData.fromFolders({ ...common, cache: 'memory' });
  assert.deepEqual(await allBatches(fallback.train, 0), await allBatches(mem.train, 0));
});

test('a run with --data.cache disk prints its choice; the next run reuses the entries; an unusable folder is one warning', async () => {
  const run = async (name: string, env: Record<string, string>) => {
    const recipe = defaultImageRecipe();
    recipe.data.folder = data.root;
    recipe.data.image_size = 8;
    recipe.data.cache = 'disk';
    recipe.trainer.max_epochs = 1;
    recipe.trainer.backend = 'wasm';
    recipe.trainer.quiet = true;
    recipe.trainer.output_dir = path.join(tmp, name);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTTY: false, cwd: tmp, env };
    const result = await trainImageClassifier({ recipe, io });
    assert.equal(result.fit.epochs, 1);
    return { data: out.join('').split('\n').find((l) => l.startsWith('data: ')) ?? '', err: err.join('') };
  };
  const n = data.files.length;
  const FLASH_CACHE_DIR = path.join(tmp, 'c8');
  const first = await run('run1', { FLASH_CACHE_DIR });
  assert.match(first.data, new RegExp(`cache disk \\(asked; .*; 0 reused, ${n} decoded, ${n} written in '.*c8`));
  const second = await run('run2', { FLASH_CACHE_DIR });
  assert.match(second.data, new RegExp(`cache disk \\(asked; .*; ${n} reused, 0 decoded, 0 written`));
  const blocked = path.join(tmp, 'c8-file');
  await fs.writeFile(blocked, 'x');
  const third = await run('run3', { FLASH_CACHE_DIR: blocked });
  assert.match(third.data, /cache none \(disk cache unusable: cannot write to the cache folder/);
  assert.equal(third.err.match(/warning: disk cache: /g)?.length, 1, third.err);
});
