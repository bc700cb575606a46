import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { extractZip, resolveLimits, safeEntryPath } from '../../../src/core/data/index.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { makeZip, type ZipEntry } from '../../helpers/zip.js';

let tmp: string;
let n = 0;
before(async () => {
  tmp = await makeTempDir('flash-zip-');
});
after(() => removeDir(tmp));

async function zipFile(entries: ZipEntry[]): Promise<string> {
  const file = path.join(tmp, `a${n++}.zip`);
  await fs.writeFile(file, makeZip(entries));
  return file;
}

/** Extracts into a fresh `out/` beside the zip; returns the target. */
async function extract(entries: ZipEntry[], limits = {}): Promise<{ target: string; run: Promise<void>; parent: string }> {
  const zip = await zipFile(entries);
  const parent = path.join(tmp, `x${n++}`, 'cache');
  const target = path.join(parent, 'out');
  return { target, parent, run: extractZip(zip, target, limits) };
}

async function refused(entries: ZipEntry[], expected: RegExp, limits = {}): Promise<void> {
  const { target, parent, run } = await extract(entries, limits);
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof FlashUserError, String(err));
    assert.match(err.message, expected);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  // Nothing left behind: no target, no temporary folder.
  await assert.rejects(fs.stat(target), { code: 'ENOENT' });
  assert.deepEqual(await fs.readdir(parent).catch(() => []), []);
}

test('extracts stored and deflated files and folders; skips macOS junk; no temporary folder left', async () => {
  const { target, parent, run } = await extract([
    { name: 'data/' },
    { name: 'data/train/cat/1.txt', data: 'one' },
    { name: 'data/train/dog/2.txt', data: 'two'.repeat(1000), deflate: true },
    { name: 'data/./train/dog/3.txt', data: 'three' },
    { name: 'data\\train\\dog\\4.txt', data: 'four' },
    { name: '__MACOSX/data/._1.txt', data: 'junk' },
    { name: 'data/train/cat/._1.txt', data: 'junk' },
    { name: 'data/empty/' },
  ]);
  await run;
  assert.equal(await fs.readFile(path.join(target, 'data/train/cat/1.txt'), 'utf8'), 'one');
  assert.equal(await fs.readFile(path.join(target, 'data/train/dog/2.txt'), 'utf8'), 'two'.repeat(1000));
  assert.equal(await fs.readFile(path.join(target, 'data/train/dog/3.txt'), 'utf8'), 'three');
  assert.equal(await fs.readFile(path.join(target, 'data/train/dog/4.txt'), 'utf8'), 'four');
  assert.deepEqual((await fs.readdir(path.join(target, 'data/train/cat'))).sort(), ['1.txt']);
  assert.deepEqual(await fs.readdir(target), ['data']);
  assert.ok((await fs.stat(path.join(target, 'data/empty'))).isDirectory());
  assert.deepEqual(await fs.readdir(parent), ['out']);
});

test('zip-slip: entries escaping the target are refused and nothing is written outside it', async () => {
  const canary = path.join(tmp, 'evil.txt');
  await refused([{ name: 'ok.txt', data: 'fine' }, { name: '../../../evil.txt', data: 'pwned' }], /entry '\.\.\/\.\.\/\.\.\/evil\.txt' escapes the target folder/);
  await refused([{ name: 'a/../../evil.txt', data: 'pwned' }], /escapes the target folder/);
  await refused([{ name: 'a\\..\\..\\evil.txt', data: 'pwned' }], /escapes the target folder/);
  await refused([{ name: `${canary}`, data: 'pwned' }], /is an absolute path/);
  await refused([{ name: 'C:\\evil.txt', data: 'pwned' }], /is an absolute path/);
  await assert.rejects(fs.stat(canary), { code: 'ENOENT' });
  await assert.rejects(fs.stat(path.join(path.dirname(tmp), 'evil.txt')), { code: 'ENOENT' });
  assert.deepEqual(safeEntryPath('a/./b//c.png'), { parts: ['a', 'b', 'c.png'] });
  assert.deepEqual(safeEntryPath('..'), { refused: 'escapes the target folder (..)' });
});

test('symbolic link entries are refused (never created, never followed)', async () => {
  await refused(
    [
      { name: 'data/link', data: '/etc', mode: 0o120777 },
      { name: 'data/link/passwd', data: 'overwrite' },
    ],
    /entry 'data\/link' is a symbolic link/,
  );
});

test('entry-count and size limits; sizes that lie are caught while writing', async () => {
  const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }));
  await refused(many, /11 entries is more than the limit of 10/, { maxEntries: 10 });
  await refused([{ name: 'big.bin', data: Buffer.alloc(5000) }], /unpacks to 5000 bytes, more than the limit of 4096 bytes/, { maxTotalBytes: 4096 });
  // A "bomb": declares 10 bytes, inflates to 1 MB.
  await refused([{ name: 'bomb.bin', data: Buffer.alloc(1 << 20), deflate: true, declaredSize: 10 }], /entry 'bomb\.bin' unpacks to more than the 10 bytes its header declares/);
  assert.deepEqual(resolveLimits({}, { FLASH_MAX_ZIP_ENTRIES: '7', FLASH_MAX_ZIP_BYTES: '100' }), { maxEntries: 7, maxTotalBytes: 100 });
  assert.throws(() => resolveLimits({}, { FLASH_MAX_ZIP_BYTES: 'lots' }), /FLASH_MAX_ZIP_BYTES must be a positive integer/);
});

test('duplicate names and file/folder clashes are refused; a file that is no zip is a one-line error', async () => {
  await refused([{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }], /entry 'a\.txt' appears twice/);
  await refused([{ name: 'a', data: '1' }, { name: 'a/b.txt', data: '2' }], /its entries clash/);
  const notZip = path.join(tmp, 'not.zip');
  await fs.writeFile(notZip, 'hello, I am text');
  await assert.rejects(extractZip(notZip, path.join(tmp, 'nz')), /is not a readable zip archive/);
  await assert.rejects(extractZip(path.join(tmp, 'missing.zip'), path.join(tmp, 'nz')), /zip file '.*missing\.zip' does not exist/);
});

test('a target completed by someone else first is kept', async () => {
  const zip = await zipFile([{ name: 'new.txt', data: 'new' }]);
  const target = path.join(tmp, 'race', 'out');
  await fs.mkdir(target, { recursive: true });
  await fs.writeFile(path.join(target, 'old.txt'), 'old');
  await extractZip(zip, target);
  assert.deepEqual(await fs.readdir(target), ['old.txt']);
  assert.deepEqual(await fs.readdir(path.dirname(target)), ['out']);
});
