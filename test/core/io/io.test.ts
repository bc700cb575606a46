import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { fsUserError, writeFileAtomic, writeJsonAtomic } from '../../../src/core/io/atomic.js';
import { loadCheckpoint, saveCheckpoint } from '../../../src/core/io/checkpoint.js';
import { decodeTensors, encodeTensors, loadLayersModel, saveLayersModel } from '../../../src/core/io/layers_model.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

let tmp: string;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

/** A small conv model with non-trivial weights. */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

const noTemp = async (dir: string) => (await fs.readdir(dir)).filter((f) => /\.tmp$|\.old$/.test(f));

test('writeFileAtomic writes, replaces, creates parent folders and leaves no temp file', async () => {
  const file = path.join(tmp, 'a', 'b', 'x.txt');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, new Uint8Array([116, 119, 111]));
  assert.equal(await fs.readFile(file, 'utf8'), 'two');
  await writeJsonAtomic(path.join(tmp, 'a', 'j.json'), { k: [1, 2] });
  assert.equal(await fs.readFile(path.join(tmp, 'a', 'j.json'), 'utf8'), '{\n  "k": [\n    1,\n    2\n  ]\n}\n');
  assert.deepEqual(await noTemp(path.join(tmp, 'a', 'b')), []);
  assert.deepEqual(await noTemp(path.join(tmp, 'a')), []);
});

async function assertParentNotFolder(target: string): Promise<void> {
  await assert.rejects(writeFileAtomic(target, 'x'), (err: unknown) => {
    assert.ok(err instanceof FlashUserError, `got ${String(err)}`);
    assert.ok(err.message.includes(`'${target}'`), err.message);
    assert.match(err.message, /^cannot write .*: a parent is not a folder$/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

test('writeFileAtomic below a regular file fails with a one-line FlashUserError naming the path', async () => {
  const plain = path.join(tmp, 'plain.txt');
  await fs.writeFile(plain, 'x');
  await assertParentNotFolder(path.join(plain, 'sub', 'model.json'));
  assert.equal(await fs.readFile(plain, 'utf8'), 'x', 'the file in the way is untouched');
});

// BUG (src/core/io/atomic.ts, fsUserError/writeFileAtomic): when the file's own parent is a regular file,
// `mkdir(dirname(path), { recursive: true })` fails with EEXIST (not ENOTDIR), which fsUserError does not map,
// so the caller gets a raw "EEXIST: file already exists, mkdir …" Error (printed as an internal error with a
// stack trace). Fix: add `EEXIST: 'a parent is not a folder'` to fsUserError's table (in writeFileAtomic the
// only EEXIST comes from that mkdir), or catch EEXIST around the mkdir and rethrow it as ENOTDIR.
test('writeFileAtomic directly under a regular file fails with a one-line FlashUserError naming the path', async () => {
  const plain = path.join(tmp, 'plain-direct.txt');
  await fs.writeFile(plain, 'x');
  await assertParentNotFolder(path.join(plain, 'model.json'));
});

test('writeFileAtomic onto an existing folder fails and cleans its temp file', async () => {
  const dir = path.join(tmp, 'is-a-folder');
  await fs.mkdir(dir);
  await assert.rejects(writeFileAtomic(dir, 'x'));
  assert.deepEqual(await noTemp(tmp), []);
});

test('fsUserError maps fixable codes to user errors and passes others through', () => {
  const e = fsUserError(Object.assign(new Error('x'), { code: 'EACCES' }), '/p/q', 'write');
  assert.ok(e instanceof FlashUserError);
  assert.equal(e.message, "cannot write '/p/q': permission denied");
  assert.equal(fsUserError(Object.assign(new Error('x'), { code: 'ENOSPC' }), '/p', 'save').message, "cannot save '/p': no space left on device");
  const other = new Error('boom');
  assert.equal(fsUserError(other, '/p', 'write'), other);
  assert.ok(!(fsUserError(Object.assign(new Error('y'), { code: 'EBUSY' }), '/p', 'write') instanceof FlashUserError));
  assert.equal(fsUserError('text', '/p', 'write').message, 'text');
});

test('saveLayersModel writes model.json + weights.<hash>.bin; loadLayersModel predicts identically', async () => {
  const dir = path.join(tmp, 'model');
  const model = smallModel();
  await saveLayersModel(model, dir);
  const files = (await fs.readdir(dir)).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.equal(files[0], 'model.json');
  assert.match(files[1], /^weights\.[0-9a-f]{12}\.bin$/);
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.weightsManifest[0].paths, [files[1]]);

  const loaded = await loadLayersModel(dir);
  const loadedByJson = await loadLayersModel(path.join(dir, 'model.json'));
  const x = tf.randomUniform([4, 6, 6, 3], 0, 1, 'float32', 3);
  const [a, b, c] = [model, loaded, loadedByJson].map((m) => m.predict(x) as tf.Tensor);
  assert.deepEqual(await b.data(), await a.data());
  assert.deepEqual(await c.data(), await a.data());

  // Saving again with other weights replaces the weights file (old one removed); the same weights keep the name.
  await saveLayersModel(model, dir);
  assert.deepEqual((await fs.readdir(dir)).sort(), files);
  model.setWeights(model.getWeights().map((w) => tf.add(w, 0.5)));
  await saveLayersModel(model, dir);
  const after = (await fs.readdir(dir)).sort();
  assert.equal(after.length, 2);
  assert.notEqual(after[1], files[1]);
  assert.deepEqual(await noTemp(dir), []);
  const reloaded = await loadLayersModel(dir);
  const [d, e] = [model, reloaded].map((m) => m.predict(x) as tf.Tensor);
  assert.deepEqual(await e.data(), await d.data());
  tf.dispose([x, a, b, c, d, e]);
  for (const m of [model, loaded, loadedByJson, reloaded]) m.dispose();
});

test('loadLayersModel errors are user errors naming the file', async () => {
  const missing = path.join(tmp, 'nope');
  await assert.rejects(loadLayersModel(missing), (err: unknown) => err instanceof FlashUserError && err.message.includes(path.join(missing, 'model.json')));
  const dir = path.join(tmp, 'broken');
  const model = smallModel();
  await saveLayersModel(model, dir);
  const weights = (await fs.readdir(dir)).find((f) => f.startsWith('weights.'))!;
  await fs.rm(path.join(dir, weights));
  await assert.rejects(loadLayersModel(dir), (err: unknown) => err instanceof FlashUserError && /missing weights file/.test(err.message) && err.message.includes(weights));
  await fs.writeFile(path.join(dir, 'model.json'), '{not json');
  await assert.rejects(loadLayersModel(dir), (err: unknown) => err instanceof FlashUserError && /cannot read model/.test(err.message));
  model.dispose();
});

test('encodeTensors/decodeTensors round-trip named tensors of several dtypes', async () => {
  const named = [
    { name: 'a/m', tensor: tf.tensor2d([[1.5, -2], [3, 4.25]]) },
    { name: 'iter', tensor: tf.scalar(7, 'int32') },
    { name: 'b', tensor: tf.tensor1d([0.1, 0.2, 0.3]) },
  ];
  const { specs, data } = await encodeTensors(named);
  assert.equal(data.byteLength, (4 + 1 + 3) * 4);
  const back = decodeTensors(specs, data.slice());
  assert.deepEqual(back.map((n) => n.name), ['a/m', 'iter', 'b']);
  for (let i = 0; i < named.length; i++) {
    assert.deepEqual(back[i].tensor.shape, named[i].tensor.shape);
    assert.equal(back[i].tensor.dtype, named[i].tensor.dtype);
    assert.deepEqual(await back[i].tensor.data(), await named[i].tensor.data());
  }
  tf.dispose([...named, ...back].map((n) => n.tensor));
});

test('saveCheckpoint/loadCheckpoint round-trip the network, Adam state and trainer state', async () => {
  const dir = path.join(tmp, 'ckpt', 'last');
  const model = smallModel();
  const optimizer = tf.train.adam(0.01);
  const x = tf.randomUniform([4, 6, 6, 3], 0, 1, 'float32', 5);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
  for (let i = 0; i < 3; i++) {
    tf.dispose(optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, false) ?? []);
  }
  const state = { epoch: 3, history: [{ epoch: 1, val_accuracy: 0.5 }, { epoch: 2, val_accuracy: 0.25 }, { epoch: 3, val_accuracy: 0.75 }], bestEpoch: 3 };
  await saveCheckpoint(dir, { network: model, optimizer, state });
  // A second save replaces the first as a unit.
  await saveCheckpoint(dir, { network: model, optimizer, state });
  const files = (await fs.readdir(dir)).sort();
  assert.deepEqual(files.filter((f) => !f.startsWith('weights.')), ['model.json', 'optimizer.bin', 'optimizer.json', 'state.json']);
  assert.deepEqual(await noTemp(path.dirname(dir)), []);
  assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'optimizer.json'), 'utf8')).className, 'Adam');

  const loaded = await loadCheckpoint(dir);
  assert.deepEqual(loaded.state, state);
  const [a, b] = [model, loaded.network].map((m) => m.predict(x) as tf.Tensor);
  assert.deepEqual(await b.data(), await a.data());

  // Adam's getWeights after setWeights with the saved state equals the original's.
  const original = await optimizer.getWeights();
  const restored = tf.train.adam(0.01);
  await restored.setWeights(loaded.optimizerWeights!);
  const again = await restored.getWeights();
  assert.equal(again.length, original.length);
  assert.equal(original.length, 1 + 2 * model.trainableWeights.length, 'iterations + two moments per variable');
  for (let i = 0; i < original.length; i++) {
    assert.equal(again[i].name, original[i].name);
    assert.deepEqual(await again[i].tensor.data(), await original[i].tensor.data());
  }
  tf.dispose([x, y, a, b]);
  optimizer.dispose();
  restored.dispose();
  loaded.network.dispose();
  model.dispose();
});

test('saveCheckpoint without an optimizer writes no optimizer files; loadCheckpoint without state.json is a user error', async () => {
  const dir = path.join(tmp, 'ckpt2');
  const model = smallModel();
  await saveCheckpoint(dir, { network: model, state: { epoch: 1, history: [] } });
  assert.ok(!(await fs.readdir(dir)).some((f) => f.startsWith('optimizer')));
  const loaded = await loadCheckpoint(dir);
  assert.equal(loaded.optimizerWeights, undefined);
  assert.deepEqual(loaded.state, { epoch: 1, history: [] });
  loaded.network.dispose();
  await assert.rejects(loadCheckpoint(path.join(tmp, 'absent')), (err: unknown) => err instanceof FlashUserError && /no resumable checkpoint in/.test(err.message));
  // Under a regular file: a user error naming the checkpoint folder.
  const plain = path.join(tmp, 'plain2');
  await fs.writeFile(plain, 'x');
  await assert.rejects(saveCheckpoint(path.join(plain, 'last'), { network: model, state: { epoch: 1, history: [] } }), (err: unknown) => err instanceof FlashUserError && err.message.includes(path.join(plain, 'last')));
  model.dispose();
});

/** Flips one byte in the middle of a file (same size: only a checksum can tell). */
async function flipByte(file: string): Promise<void> {
  const bytes = await fs.readFile(file);
  bytes[bytes.length >> 1] ^= 0xff;
  await fs.writeFile(file, bytes);
}

async function truncate(file: string): Promise<void> {
  const bytes = await fs.readFile(file);
  await fs.writeFile(file, bytes.subarray(0, bytes.length - 7));
}

const namesFile = (file: string, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof FlashUserError, `got ${String(err)}`);
  assert.ok(err.message.includes(file), err.message);
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes('\n'), err.message);
  return true;
};

test('loadLayersModel refuses a corrupted (same size) or truncated weights file, naming it', async () => {
  const model = smallModel();
  for (const damage of [flipByte, truncate]) {
    const dir = path.join(tmp, `damaged-${damage.name}`);
    await saveLayersModel(model, dir);
    const weights = path.join(dir, (await fs.readdir(dir)).find((f) => f.startsWith('weights.'))!);
    await damage(weights);
    await assert.rejects(loadLayersModel(dir), namesFile(weights, damage === flipByte ? /is corrupt: its sha256/ : /is truncated: \d+ bytes, but .* needs \d+/));
  }
  // A weights file not named by hash (a converted model) is still held to the manifest's size.
  const dir = path.join(tmp, 'renamed');
  await saveLayersModel(model, dir);
  const old = (await fs.readdir(dir)).find((f) => f.startsWith('weights.'))!;
  await fs.rename(path.join(dir, old), path.join(dir, 'group1-shard1of1.bin'));
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['group1-shard1of1.bin'];
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  const loaded = await loadLayersModel(dir);
  loaded.dispose();
  await fs.appendFile(path.join(dir, 'group1-shard1of1.bin'), Buffer.alloc(4));
  await assert.rejects(loadLayersModel(dir), namesFile(path.join(dir, 'group1-shard1of1.bin'), /is damaged: \d+ bytes/));
  model.dispose();
});

test('loadCheckpoint refuses a truncated or corrupted optimizer.bin, naming it, and leaks no tensors', async () => {
  const model = smallModel();
  const optimizer = tf.train.adam(0.01);
  const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
  tf.dispose(optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, false) ?? []);
  for (const damage of [flipByte, truncate]) {
    const dir = path.join(tmp, `ckpt-${damage.name}`, 'last');
    await saveCheckpoint(dir, { network: model, optimizer, state: { epoch: 1, history: [] } });
    const bin = path.join(dir, 'optimizer.bin');
    await damage(bin);
    const before = tf.memory().numTensors;
    await assert.rejects(loadCheckpoint(dir), namesFile(bin, damage === flipByte ? /is corrupt: its sha256/ : /is truncated/));
    assert.equal(tf.memory().numTensors, before, 'the loaded network is freed');
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
});
