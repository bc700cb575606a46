import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { LeanAdamOptimizer } from '../../../src/core/optimizers/adam.js';

before(async () => {
  await selectBackend('wasm');
});

/** Three variables (one left without a gradient) and a loss over two of them. */
function problem(seed: number, input?: tf.Tensor) {
  const w = tf.variable(tf.randomNormal([64, 21], 0, 1, 'float32', seed), true, `adam_w_${seed}`);
  const b = tf.variable(tf.randomNormal([21], 0, 1, 'float32', seed + 1), true, `adam_b_${seed}`);
  const unused = tf.variable(tf.zeros([3]), true, `adam_unused_${seed}`);
  const x = input ? input.clone() : tf.randomNormal([16, 64], 0, 1, 'float32', seed + 2);
  const loss = () => tf.tidy(() => tf.mean(tf.square(tf.tanh(tf.add(tf.matMul(x, w), b)))) as tf.Scalar);
  return { vars: [w, b, unused], x, loss };
}

for (const backend of ['wasm', 'cpu']) test(`LeanAdamOptimizer matches tfjs Adam bit for bit on ${backend} (${backend === 'wasm' ? "the engine's fused kernel" : 'tfjs ops'}): weights, state, iterations`, async () => {
  await selectBackend(backend);
  const a = problem(1);
  const b = problem(2, a.x);
  // Same starting values for both problems.
  b.vars.forEach((v, i) => v.assign(a.vars[i]));
  const stock = tf.train.adam(3e-3);
  const lean = new LeanAdamOptimizer(3e-3, 0.9, 0.999);
  for (let step = 0; step < 7; step++) {
    tf.dispose(stock.minimize(a.loss, true, a.vars) ?? []);
    tf.dispose(lean.minimize(b.loss, true, b.vars) ?? []);
  }
  for (let i = 0; i < 3; i++) assert.deepEqual(b.vars[i].dataSync(), a.vars[i].dataSync(), `variable ${i}`);
  const [sw, lw] = [await stock.getWeights(), await lean.getWeights()];
  assert.equal(lw.length, sw.length);
  lw.forEach((w, i) => {
    assert.equal(w.name.replace(/_2\//, '_1/'), sw[i].name);
    assert.deepEqual(w.tensor.dataSync(), sw[i].tensor.dataSync(), w.name);
  });
  assert.equal(lean.iterations, 7);
  const kernels = (await tf.profile(() => tf.dispose(lean.minimize(b.loss, true, b.vars) ?? []))).kernelNames;
  assert.equal(kernels.includes('FlashAdamUpdate'), backend === 'wasm', kernels.join(' '));
  assert.equal(lean.getClassName(), 'Adam', 'checkpoints keep naming it Adam');
  stock.dispose();
  lean.dispose();
  tf.dispose([...a.vars, ...b.vars, a.x, b.x]);
  await selectBackend('wasm');
});

test('LeanAdamOptimizer frees each variable\'s temporaries before the next: lower peak, no tensor left behind', async () => {
  const vars = Array.from({ length: 12 }, (_, i) => tf.variable(tf.ones([256, 256]), true, `adam_peak_${i}`));
  const loss = () => tf.tidy(() => tf.addN(vars.map((v) => tf.sum(tf.square(v)))) as tf.Scalar);
  const peak = async (opt: tf.Optimizer) => {
    tf.dispose(opt.minimize(loss, true, vars) ?? []); // state created
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => tf.dispose(opt.minimize(loss, true, vars) ?? []));
    assert.equal(tf.memory().numTensors, before);
    opt.dispose();
    return info.peakBytes;
  };
  const [stock, lean] = [await peak(tf.train.adam(1e-3)), await peak(new LeanAdamOptimizer(1e-3, 0.9, 0.999))];
  // 12 variables of 256 KB: tfjs holds ~10 temporaries of each until the end; the lean one, one variable's.
  assert.ok(lean < stock - 12 * 256 * 256 * 4 * 4, `peak bytes: lean ${lean}, stock ${stock}`);
  tf.dispose(vars);
});
