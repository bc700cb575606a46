import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ImageClassificationData } from '../../../../tasks/image_classification/data/index.js';
import { decodeImage, type ImageSpec } from '../../../../tasks/image_classification/data/decode.js';
import { StreamingPixelStore } from '../../../../tasks/image_classification/data/streaming_store.js';
import { makeShapeDataset, makeTempDir, plantBadFiles, removeDir, type ShapeDataset } from '../../../helpers/images.js';
import { allBatches } from '../../../helpers/batches.js';

let tmp: string;
let data: ShapeDataset;
const spec: ImageSpec = { height: 20, width: 16, channels: 3 };

before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir();
  data = await makeShapeDataset(path.join(tmp, 'flat'), { perClass: 8, seed: 5 });
});
after(() => removeDir(tmp));

function files(): string[] {
  return data.files.map((f) => f.file);
}

test('streaming store yields the same pixels as decodeImage, in any order, with and without a hint', async () => {
  const list = files();
  const expected = await Promise.all(list.map((f) => decodeImage(f, spec)));
  const store = new StreamingPixelStore(list, spec, { readAhead: 5, concurrency: 3 });
  const order = [...list.keys()].reverse();
  order.splice(3, 0, 7, 7); // repeats are fine
  store.prefetch(order);
  for (const i of order) assert.deepEqual(await store.get(i), expected[i]);
  // Outside the hinted order (and after it ran out): decoded directly.
  for (const i of [4, 0, 11, 4]) assert.deepEqual(await store.get(i), expected[i]);
  // A hint that is not followed still gives the right pixels.
  store.prefetch([1, 2, 3]);
  assert.deepEqual(await store.get(5), expected[5]);
  assert.deepEqual(await store.get(1), expected[1]);
  assert.throws(() => store.get(list.length), RangeError);
});

test('read-ahead is bounded: never more than `concurrency` decodes in flight, never more than readAhead buffered', async () => {
  let inFlight = 0;
  let peak = 0;
  const decode = async (file: string): Promise<Uint8Array> => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    return new Uint8Array([Number(file)]);
  };
  const n = 60;
  const list = Array.from({ length: n }, (_, i) => String(i));
  const store = new StreamingPixelStore(list, spec, { readAhead: 10, concurrency: 3, decode });
  const order = [...list.keys()].sort((a, b) => ((a * 37) % n) - ((b * 37) % n));
  store.prefetch(order);
  let maxBuffered = 0;
  for (const i of order) {
    maxBuffered = Math.max(maxBuffered, store.buffered);
    assert.equal((await store.get(i))[0], i);
    assert.ok(store.inFlight <= 3);
  }
  assert.ok(peak <= 3, `peak ${peak} decodes in flight`);
  assert.ok(peak >= 2, 'decodes overlap');
  assert.ok(store.peakInFlight <= 3);
  assert.ok(maxBuffered <= 10, `buffered ${maxBuffered}`);
});

test("cache 'none' trains on the same batches as cache 'memory' (val split taken from train), no tensor leaks", async () => {
  const common = { folder: data.root, imageSize: 12, seed: 9, batchSize: 5, onWarning: () => undefined };
  const mem = await ImageClassificationData.fromFolders({ ...common, cache: 'memory' });
  const none = await ImageClassificationData.fromFolders({ ...common, cache: 'none' });
  assert.equal(mem.cache.mode, 'memory');
  assert.equal(none.cache.mode, 'none');
  assert.match(none.summary(), /cache none \(asked/);
  const before = tf.memory().numTensors;
  for (const epoch of [0, 1]) assert.deepEqual(await allBatches(none.train, epoch), await allBatches(mem.train, epoch));
  assert.deepEqual(await allBatches(none.val!, 0), await allBatches(mem.val!, 0));
  assert.equal(tf.memory().numTensors, before);
});

test("cache 'auto' keeps small datasets in memory; 'none' still drops undecodable files at build time", async () => {
  const bad = await makeShapeDataset(path.join(tmp, 'bad'), { perClass: 4, seed: 6 });
  await plantBadFiles(path.join(bad.root, bad.labels[0]));
  const warnings: string[] = [];
  const opts = { folder: bad.root, imageSize: 8, valSplit: 0, onWarning: (m: string) => warnings.push(m) };
  const auto = await ImageClassificationData.fromFolders(opts);
  assert.equal(auto.cache.mode, 'memory');
  assert.match(auto.summary(), /cache memory \(auto: .* fits the 512 MiB budget\)/);
  const none = await ImageClassificationData.fromFolders({ ...opts, cache: 'none' });
  assert.equal(none.train.size, auto.train.size);
  assert.ok(warnings.some((w) => /skipping/.test(w)));
  let seen = 0;
  for await (const b of none.train.batches({ shuffle: true })) {
    seen += b.ids.length;
    tf.dispose([b.x, b.y]);
  }
  assert.equal(seen, none.train.size);
});

test('by default the whole read-ahead window is queued at once (the thread pool keeps decoding through a step)', async () => {
  const list = files();
  const pending: (() => Promise<void>)[] = [];
  const decode = (file: string, s: ImageSpec) => new Promise<Uint8Array>((resolve, reject) => pending.push(() => decodeImage(file, s).then(resolve, reject)));
  const store = new StreamingPixelStore(list, spec, { readAhead: 6, decode });
  store.prefetch([...list.keys()]);
  // Nothing has finished, yet every sample of the window was handed to the decoder.
  assert.equal(pending.length, 6);
  assert.equal(store.inFlight, 6);
  const first = store.get(0);
  await pending.shift()!();
  assert.deepEqual(await first, await decodeImage(list[0], spec));
  // The window moved on by one: its new sample is handed over as soon as a slot is free, never more than 6 at once.
  await new Promise((r) => setImmediate(r));
  assert.equal(pending.length, 6);
  assert.ok(store.peakInFlight <= 6);
  // Let every queued decode finish before the test ends (the folder is removed after the tests; a decode still
  // running then would fail outside any test).
  while (pending.length > 0) await Promise.all(pending.splice(0).map((release) => release()));
  for (let i = 0; i < 50 && store.inFlight > 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(store.inFlight, 0);
});
