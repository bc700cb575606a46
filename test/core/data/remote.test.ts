import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheDir, download, isArchiveSource, materializeDataset, sha256File } from '../../../src/core/data/index.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { makeZip } from '../../helpers/zip.js';

let tmp: string;
let server: Server;
let base: string;
const requests: string[] = [];
const routes = new Map<string, { status?: number; body: Buffer; headers?: Record<string, string> }>();

before(async () => {
  tmp = await makeTempDir('flash-remote-');
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const route = routes.get((req.url ?? '').split('?')[0]);
    if (!route) {
      res.writeHead(404, 'Not Found').end('nope');
      return;
    }
    res.writeHead(route.status ?? 200, { 'content-type': 'application/zip', 'content-length': String(route.body.length), ...route.headers });
    res.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await removeDir(tmp);
});

const dataset = () =>
  makeZip([
    { name: 'shapes/' },
    { name: 'shapes/train/cat/1.png', data: 'cat1' },
    { name: 'shapes/train/dog/2.png', data: 'dog2', deflate: true },
  ]);

test('cacheDir: FLASH_CACHE_DIR, else XDG_CACHE_HOME/flash, else ~/.cache/flash; archive sources', () => {
  assert.equal(cacheDir({ FLASH_CACHE_DIR: '/x/y' }), path.resolve('/x/y'));
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/c' }), path.join(path.resolve('/c'), 'flash'));
  assert.equal(cacheDir({}), path.join(os.homedir(), '.cache', 'flash'));
  assert.ok(isArchiveSource('data/x.ZIP'));
  assert.ok(isArchiveSource('https://example.com/data'));
  assert.ok(!isArchiveSource('data/folder'));
});

test('a local zip is extracted into <cache>/extracted/<sha256>, its lone top folder stepped into, and reused', async () => {
  const cache = path.join(tmp, 'cache1');
  const zip = path.join(tmp, 'shapes.zip');
  await fs.writeFile(zip, dataset());
  const folder = await materializeDataset('shapes.zip', { cwd: tmp, cacheDir: cache });
  const digest = await sha256File(zip);
  assert.equal(folder, path.join(cache, 'extracted', digest, 'shapes'));
  assert.equal(await fs.readFile(path.join(folder, 'train', 'dog', '2.png'), 'utf8'), 'dog2');
  // Reused: a marker written into the extracted folder survives a second call; nothing is re-extracted.
  await fs.writeFile(path.join(folder, 'marker'), '');
  const notes: string[] = [];
  assert.equal(await materializeDataset(zip, { cacheDir: cache, onProgress: (m) => notes.push(m) }), folder);
  assert.deepEqual(notes, []);
  await fs.access(path.join(folder, 'marker'));
  assert.deepEqual(await fs.readdir(path.join(cache, 'extracted')), [digest]);
  // Not an archive source: resolved, untouched.
  assert.equal(await materializeDataset('plain/folder', { cwd: tmp, cacheDir: cache }), path.join(tmp, 'plain', 'folder'));
  await assert.rejects(materializeDataset('gone.zip', { cwd: tmp, cacheDir: cache }), /zip file 'gone\.zip' does not exist/);
});

test('a URL is downloaded once into the cache (FLASH_CACHE_DIR), then reused without a request', async () => {
  routes.set('/shapes.zip', { body: dataset() });
  const cache = path.join(tmp, 'cache2');
  const env = { FLASH_CACHE_DIR: cache };
  const before = requests.length;
  const notes: string[] = [];
  const folder = await materializeDataset(`${base}/shapes.zip?token=secret`, { env, onProgress: (m) => notes.push(m) });
  assert.ok(folder.startsWith(path.join(cache, 'extracted')));
  assert.equal(await fs.readFile(path.join(folder, 'train', 'cat', '1.png'), 'utf8'), 'cat1');
  assert.equal(requests.length, before + 1);
  assert.ok(notes.some((m) => m.startsWith(`downloading ${base}/shapes.zip`)), notes.join('|'));
  assert.ok(!notes.some((m) => m.includes('secret')), 'query strings (tokens) are not printed');
  assert.equal(await materializeDataset(`${base}/shapes.zip?token=secret`, { env }), folder);
  assert.equal(requests.length, before + 1);
  const downloads = await fs.readdir(path.join(cache, 'downloads'));
  assert.equal(downloads.length, 1);
  assert.match(downloads[0], /^[0-9a-f]{64}\.zip$/);
});

test('download errors: HTTP status, size limit, not a zip (not kept), connection refused — one line each', async () => {
  const cache = path.join(tmp, 'cache3');
  const oneLine = (re: RegExp) => (err: unknown) => {
    assert.ok(err instanceof FlashUserError, String(err));
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'));
    return true;
  };
  await assert.rejects(materializeDataset(`${base}/missing.zip`, { cacheDir: cache }), oneLine(/cannot download http:\/\/127\.0\.0\.1:\d+\/missing\.zip: HTTP 404 Not Found/));
  routes.set('/big.zip', { body: Buffer.alloc(2000) });
  await assert.rejects(materializeDataset(`${base}/big.zip`, { cacheDir: cache, maxBytes: 1000 }), oneLine(/refusing to download .*big\.zip: 2000 bytes is more than the limit of 1000/));
  routes.set('/page.zip', { body: Buffer.from('<html>login</html>'), headers: { 'content-type': 'text/html' } });
  await assert.rejects(materializeDataset(`${base}/page.zip`, { cacheDir: cache }), oneLine(/is not a readable zip archive/));
  assert.deepEqual(await fs.readdir(path.join(cache, 'downloads')), [], 'a bad download is not kept');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(download(`http://127.0.0.1:${port}/x.zip`, path.join(cache, 'x.zip')), oneLine(/cannot download http:\/\/127\.0\.0\.1:\d+\/x\.zip: ECONNREFUSED/));
});

test('an unsafe archive from a URL is refused and nothing is extracted', async () => {
  routes.set('/slip.zip', { body: makeZip([{ name: 'ok/a.txt', data: 'a' }, { name: '../../slip.txt', data: 'pwned' }]) });
  const cache = path.join(tmp, 'cache4');
  await assert.rejects(materializeDataset(`${base}/slip.zip`, { cacheDir: cache }), /refusing zip '.*': entry '\.\.\/\.\.\/slip\.txt' escapes the target folder/);
  assert.deepEqual(await fs.readdir(path.join(cache, 'extracted')).catch(() => []), []);
  await assert.rejects(fs.stat(path.join(cache, 'slip.txt')), { code: 'ENOENT' });
  await assert.rejects(fs.stat(path.join(tmp, 'slip.txt')), { code: 'ENOENT' });
});
