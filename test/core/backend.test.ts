import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backends, describeBackend, selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';

test('backends are registered fastest first', () => {
  assert.deepEqual(backends.names(), ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
});

test("selectBackend('cpu') activates cpu and skips nothing", async () => {
  const choice = await selectBackend('cpu');
  assert.deepEqual(choice, { name: 'cpu', tfName: 'cpu', skipped: [], threads: '1 thread' });
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(tf.env().getBool('PROD'), true);
  assert.equal(describeBackend(choice), 'backend cpu (1 thread)');
  const t = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
  assert.equal(t, 6);
});

test("selectBackend('auto') picks wasm here and says why the native backends were skipped", async () => {
  const choice = await selectBackend('auto');
  assert.equal(choice.name, 'wasm');
  assert.equal(choice.tfName, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(choice.skipped.map((s) => s.name), ['tensorflow-gpu', 'tensorflow']);
  for (const s of choice.skipped) assert.match(s.why, /not installed/, `${s.name}: ${s.why}`);
  assert.match(choice.skipped[0].why, /@tensorflow\/tfjs-node-gpu is not installed/);
  assert.match(describeBackend(choice), /^backend wasm \(flash engine, \d+ threads?; skipped tensorflow-gpu: .*not installed; tensorflow: .*not installed\)$/);
  // wasm can train: a conv weight gradient (flash's kernel) runs.
  const g = tf.tidy(() => {
    const x = tf.ones([1, 4, 4, 1]);
    const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')));
    return grad(tf.ones([3, 3, 1, 1])).dataSync();
  });
  assert.deepEqual(Array.from(g), new Array(9).fill(4));
});

test('a forced native backend that is not installed is a user error saying why', async () => {
  await assert.rejects(selectBackend('tensorflow'), (err: unknown) => err instanceof FlashUserError && /^backend 'tensorflow' is not available \(tensorflow: @tensorflow\/tfjs-node is not installed\)$/.test(err.message));
});

test('an unknown backend name is a user error with a suggestion', async () => {
  await assert.rejects(selectBackend('wsam'), (err: unknown) => {
    assert.ok(err instanceof FlashUserError);
    assert.match(err.message, /unknown backend 'wsam' \(did you mean 'wasm'\?\); available: tensorflow-gpu, tensorflow, wasm, cpu/);
    return true;
  });
});
