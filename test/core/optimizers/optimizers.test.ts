import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { AdamWOptimizer } from '../../../src/core/optimizers/adamw.js';
import { createOptimizer, optimizers } from '../../../src/core/optimizers/index.js';

before(async () => {
  await selectBackend('cpu');
});

const lr = (o: tf.Optimizer) => (o as unknown as { learningRate: number }).learningRate;

test('the registry holds adam, adamw, sgd and rmsprop, each with a description', () => {
  assert.deepEqual(optimizers.names(), ['adam', 'adamw', 'sgd', 'rmsprop']);
  for (const e of optimizers.list()) assert.ok(e.description.length > 0, e.name);
});

test('each registered optimizer builds and lowers a quadratic loss', () => {
  const expected: Record<string, string> = { adam: 'Adam', adamw: 'Adam', sgd: 'Momentum', rmsprop: 'RMSProp' };
  for (const name of optimizers.names()) {
    const opt = createOptimizer(name, 0.05);
    assert.equal(opt.getClassName(), expected[name], name);
    assert.equal(lr(opt), 0.05);
    const w = tf.variable(tf.tensor1d([2, -3]));
    const loss = () => tf.sum(tf.square(w)) as tf.Scalar;
    const start = loss().dataSync()[0];
    for (let i = 0; i < 5; i++) tf.dispose(opt.minimize(loss, true, [w]) ?? []);
    const end = tf.tidy(() => loss().dataSync()[0]);
    assert.ok(end < start, `${name}: ${start} → ${end}`);
    opt.dispose();
    w.dispose();
  }
});

test('a null learning rate takes the optimizer default', () => {
  for (const name of optimizers.names()) {
    const opt = createOptimizer(name, null);
    assert.equal(lr(opt), optimizers.get(name).defaultLearningRate, name);
    opt.dispose();
  }
  assert.equal(optimizers.get('adam').defaultLearningRate, 1e-3);
  assert.equal(optimizers.get('sgd').defaultLearningRate, 1e-2);
});

test('an unknown optimizer is a user error with a suggestion', () => {
  assert.throws(() => createOptimizer('adamm', null), (err: unknown) => err instanceof FlashUserError && /unknown optimizer 'adamm' \(did you mean 'adam'\?\); available: adam, adamw, sgd, rmsprop/.test(err.message));
});

test('AdamW decays weights: a variable with zero gradient shrinks by lr × wd per step', () => {
  const rate = 0.1;
  const wd = 0.5;
  const opt = createOptimizer('adamw', rate, wd);
  assert.ok(opt instanceof AdamWOptimizer);
  const v = tf.variable(tf.tensor1d([1, -2, 4]));
  for (let step = 1; step <= 3; step++) {
    const zero = tf.zerosLike(v);
    opt.applyGradients({ [v.name]: zero });
    zero.dispose();
    const factor = (1 - rate * wd) ** step;
    const got = Array.from(v.dataSync());
    [1, -2, 4].forEach((x, i) => assert.ok(Math.abs(got[i] - x * factor) < 1e-6, `step ${step}: ${got[i]} vs ${x * factor}`));
  }
  // Plain Adam leaves a zero-gradient variable alone.
  const adam = createOptimizer('adam', rate);
  const u = tf.variable(tf.tensor1d([1, -2, 4]));
  const zero = tf.zerosLike(u);
  adam.applyGradients({ [u.name]: zero });
  assert.deepEqual(Array.from(u.dataSync()), [1, -2, 4]);
  // Weight decay 0 means AdamW's default 0.01; the array form of gradients decays too.
  const dflt = createOptimizer('adamw', rate, 0);
  const w = tf.variable(tf.tensor1d([10]));
  dflt.applyGradients([{ name: w.name, tensor: tf.zerosLike(w) }]);
  assert.ok(Math.abs(w.dataSync()[0] - 10 * (1 - rate * 0.01)) < 1e-5, String(w.dataSync()[0]));
  tf.dispose([v, u, w, zero]);
  for (const o of [opt, adam, dflt]) o.dispose();
});

test('AdamW trains inside minimize (decay plus the Adam step)', () => {
  const opt = createOptimizer('adamw', 0.1, 0.1);
  const w = tf.variable(tf.tensor1d([3]));
  for (let i = 0; i < 20; i++) tf.dispose(opt.minimize(() => tf.sum(tf.square(tf.sub(w, 1))) as tf.Scalar, true, [w]) ?? []);
  const x = w.dataSync()[0];
  assert.ok(x < 2.5 && x > 0, String(x));
  opt.dispose();
  w.dispose();
});
