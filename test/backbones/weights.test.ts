/**
 * Pretrained weight downloads against a loopback HTTP server the test starts (no internet): a good model, a
 * wrong checksum, a 404, a connection cut mid-transfer, and reuse of the cache offline.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleCnn } from '../../backbones/simple_cnn.js';
import { cacheEntryFor, defaultCacheDir, describeLoad, fetchWeights, ignoredCheckpointLayers, isCached, loadPretrainedWeights, parsePretrained } from '../../backbones/weights.js';
import { FlashUserError } from '../../src/core/errors.js';
import { makeTempDir, removeDir } from '../helpers/images.js';

let server: Server;
let base: string;
let tmp: string;
let modelJson: Buffer;
let weights: Buffer;
let source: tf.LayersModel;
const hits: string[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir('flash-weights-');
  // A simple_cnn backbone saved as tfjs layers artifacts, served over HTTP.
  source = simpleCnn.build({ inputShape: [8, 8, 1], name: 'backbone' });
  await source.save(
    tf.io.withSaveHandler(async (a) => {
      weights = Buffer.from(a.weightData as ArrayBuffer);
      modelJson = Buffer.from(JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const [dir, file] = (req.url ?? '').split('/').filter(Boolean);
    if (dir === 'missing') {
      res.writeHead(404, 'Not Found').end('no');
    } else if (file === 'model.json') {
      res.writeHead(200, { 'content-length': modelJson.length }).end(modelJson);
    } else if (dir === 'cut') {
      // Promise the whole file, send half, then drop the connection.
      res.writeHead(200, { 'content-length': weights.length });
      res.write(weights.subarray(0, weights.length >> 1), () => res.destroy());
    } else {
      res.writeHead(200, { 'content-length': weights.length }).end(weights);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  source.dispose();
  await removeDir(tmp);
});

const leftovers = async (cacheDir: string) => (await readdir(join(cacheDir, 'weights')).catch(() => [] as string[]));

describe('pretrained weights', () => {
  it('downloads once (sha256-verified), loads by layer name, then reuses the cache without the network', async () => {
    const cacheDir = join(tmp, 'cache-good');
    const url = `${base}/good/model.json`;
    const spec = { ...simpleCnn, weights: [{ url, sha256: sha(modelJson), shards: { 'group1-shard1of1.bin': sha(weights) } }] };
    const target = simpleCnn.build({ inputShape: [8, 8, 1] });
    const log: string[] = [];
    await loadPretrainedWeights(target, spec, true, { cacheDir, log: (l) => log.push(l) });
    assert.deepEqual(target.getWeights().map((w) => Array.from(w.dataSync())), source.getWeights().map((w) => Array.from(w.dataSync())));
    assert.ok(await isCached(url, cacheDir));
    assert.ok(log.some((l) => /downloading/.test(l)) && !log.some((l) => /not verified/.test(l)), log.join('\n'));
    const before = hits.length;
    log.length = 0;
    await loadPretrainedWeights(simpleCnn.build({ inputShape: [8, 8, 1] }), spec, url, { cacheDir, log: (l) => log.push(l) });
    assert.equal(hits.length, before, 'no request: the cache was used');
    assert.ok(log.some((l) => /using the cached copy/.test(l)));
    assert.deepEqual((await leftovers(cacheDir)).length, 1, 'one entry, no temp folders');
  });

  it('an unregistered URL downloads but says it was not verified', async () => {
    const log: string[] = [];
    await fetchWeights({ url: `${base}/plain/model.json` }, { cacheDir: join(tmp, 'cache-plain'), log: (l) => log.push(l) });
    assert.ok(log.some((l) => l.includes(`not verified (its sha256 is ${sha(modelJson)})`)), log.join('\n'));
  });

  it('a wrong checksum, a 404 and a cut connection are clear errors that leave no cache entry', async () => {
    const cases: [string, { url: string; sha256?: string }, RegExp][] = [
      ['sum', { url: `${base}/sum/model.json`, sha256: '0'.repeat(64) }, /checksum mismatch .*expected sha256 0{64}, got [0-9a-f]{64}; the download was discarded/],
      ['404', { url: `${base}/missing/model.json` }, /answered HTTP 404 Not Found/],
      ['cut', { url: `${base}/cut/model.json` }, /connection was cut while downloading .*group1-shard1of1\.bin|stopped at \d+ of \d+ bytes/],
    ];
    for (const [name, src, re] of cases) {
      const cacheDir = join(tmp, `cache-${name}`);
      await assert.rejects(fetchWeights(src, { cacheDir }), (e: Error) => {
        assert.ok(e instanceof FlashUserError, `${name}: ${e.stack}`);
        assert.match(e.message, re);
        assert.match(e.message, /--model\.pretrained false.*--model\.pretrained <path>/);
        return true;
      });
      assert.equal(await isCached(src.url, cacheDir), false);
      assert.deepEqual(await leftovers(cacheDir), [], `${name}: nothing left in the cache`);
    }
  });

  it('registered weights flash never verified say so after a failed download or load, with how to go on', async () => {
    const unverified = 'never downloaded by flash';
    const missing = { ...simpleCnn, weights: [{ url: `${base}/missing/model.json`, unverified }] };
    await assert.rejects(loadPretrainedWeights(simpleCnn.build({ inputShape: [8, 8, 1] }), missing, true, { cacheDir: join(tmp, 'cache-unverified') }), (e: Error) => {
      assert.ok(e instanceof FlashUserError, e.stack);
      assert.match(e.message, /answered HTTP 404.*Note: these registered weights are unverified \(never downloaded by flash\); .*--model\.pretrained <path>/);
      return true;
    });
    // Downloaded, but not weights for this backbone (3 channels): the same note.
    const wrong = { ...simpleCnn, weights: [{ url: `${base}/good/model.json`, unverified }] };
    await assert.rejects(loadPretrainedWeights(simpleCnn.build({ inputShape: [8, 8, 3] }), wrong, true, { cacheDir: join(tmp, 'cache-unverified') }), /layer 'conv1' weight 0 has shape.*Note: these registered weights are unverified/);
  });

  it('an unreachable host is a clear error; true without registered weights never falls back to random', async () => {
    const port = (server.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    assert.notEqual(dead, port);
    await assert.rejects(fetchWeights({ url: `http://127.0.0.1:${dead}/x/model.json` }, { cacheDir: join(tmp, 'cache-dead') }), /cannot download pretrained weights .*ECONNREFUSED/);
    await assert.rejects(loadPretrainedWeights(simpleCnn.build({ inputShape: [8, 8, 1] }), simpleCnn, true, { backboneName: 'simple_cnn' }), /'simple_cnn' has no registered pretrained weights/);
  });

  it('weights of another architecture are refused; RGB first-layer kernels are summed for grayscale', async () => {
    // The served weights are for 1 channel: an RGB backbone cannot take them.
    await assert.rejects(
      loadPretrainedWeights(simpleCnn.build({ inputShape: [8, 8, 3] }), simpleCnn, `${base}/good/model.json`, { cacheDir: join(tmp, 'cache-good') }),
      /layer 'conv1' weight 0 has shape \[3,3,1,32\], the backbone needs \[3,3,3,32\]/,
    );
    const rgb = simpleCnn.build({ inputShape: [8, 8, 3] });
    const wrong = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, name: 'conv1' })] });
    const { copyWeightsByName } = await import('../../backbones/weights.js');
    assert.throws(() => copyWeightsByName(wrong, simpleCnn.build({ inputShape: [8, 8, 1] }), 'w'), /weight 0 has shape|no weights there/);
    // Grayscale target from the RGB kernels: the sum over the colour axis.
    const gray = simpleCnn.build({ inputShape: [8, 8, 1] });
    copyWeightsByName(rgb, gray, 'rgb→gray');
    const k = rgb.getLayer('conv1').getWeights()[0];
    assert.deepEqual(Array.from(gray.getLayer('conv1').getWeights()[0].dataSync()), Array.from(tf.sum(k, 2, true).dataSync()));
  });

  it('names the checkpoint layers the backbone does not have, a long list truncated with a count', () => {
    const target = simpleCnn.build({ inputShape: [8, 8, 1] });
    const extra = Array.from({ length: 10 }, (_, i) => tf.layers.dense({ units: 2, name: `extra_${i}` }));
    const input = tf.input({ shape: [8, 8, 1] });
    let x = target.apply(input) as tf.SymbolicTensor;
    for (const layer of extra) x = layer.apply(x) as tf.SymbolicTensor;
    const source = tf.model({ inputs: input, outputs: x });
    const ignored = ignoredCheckpointLayers(source, target);
    assert.deepEqual(ignored, extra.map((l) => l.name), 'the nested backbone layers were all taken; the ten dense layers were not');
    assert.deepEqual(ignoredCheckpointLayers(target, target), []);
    assert.deepEqual(describeLoad(3, 'ckpt', []), ['pretrained weights: loaded 3 layers from ckpt']);
    assert.deepEqual(describeLoad(3, 'ckpt', ignored), [
      'pretrained weights: loaded 3 layers from ckpt',
      'pretrained weights: ignored 10 checkpoint layer(s) the backbone does not have: extra_0, extra_1, extra_2, extra_3, extra_4, extra_5, extra_6, extra_7 and 2 more',
    ]);
    source.dispose();
  });

  it('settings: cache dir and the recipe value', () => {
    assert.equal(defaultCacheDir({ FLASH_CACHE_DIR: '/x/y' }), '/x/y');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/flash');
    assert.match(cacheEntryFor('http://a/b', '/c'), /^\/c\/weights\/[0-9a-f]{16}$/);
    assert.equal(parsePretrained('false'), false);
    assert.equal(parsePretrained('true'), true);
    assert.equal(parsePretrained('https://x/model.json'), 'https://x/model.json');
  });
});
