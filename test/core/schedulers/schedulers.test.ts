import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { createOptimizer } from '../../../src/core/optimizers/index.js';
import { PhaseOptimizer } from '../../../src/core/finetuning/index.js';
import { learningRateOf, lrSchedulers, setLearningRate, type ScheduleOptions } from '../../../src/core/schedulers/index.js';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { VectorClassifier, VectorSplit } from '../../helpers/toy_task/index.js';

const base: ScheduleOptions = { baseLr: 0.01, maxEpochs: 4, stepsPerEpoch: 10, warmupEpochs: 0, monitor: 'val_loss', mode: 'min' };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 + 1e-6 * Math.abs(b), `${what}: ${a} vs ${b}`);

test('schedules: constant with warmup, cosine to 0, onecycle peaks at 25%, step at 50% and 75%', () => {
  const constant = lrSchedulers.get('constant')({ ...base, warmupEpochs: 1 });
  close(constant.at(0), 0.001, 'warmup step 1 of 10');
  close(constant.at(9), 0.01, 'end of warmup');
  close(constant.at(25), 0.01, 'after warmup');
  const cosine = lrSchedulers.get('cosine')(base);
  close(cosine.at(0), 0.01, 'cosine start');
  close(cosine.at(20), 0.005, 'cosine half way');
  assert.ok(cosine.at(39) < 1e-4, 'cosine ends near 0');
  const one = lrSchedulers.get('onecycle')(base);
  close(one.at(0), 0.01 / 25, 'onecycle start');
  close(one.at(10), 0.01, 'onecycle peak at 25% of 40 steps');
  assert.ok(one.at(39) < one.at(0) / 10, 'onecycle ends far below its start');
  const values = Array.from({ length: 40 }, (_, s) => one.at(s));
  assert.equal(values.indexOf(Math.max(...values)), 10);
  const step = lrSchedulers.get('step')(base);
  close(step.at(19), 0.01, 'before half');
  close(step.at(20), 0.001, 'from half');
  close(step.at(30), 0.0001, 'from three quarters');
});

test('plateau lowers the rate ×0.1 after 2 epochs without improvement on the monitored metric', () => {
  const p = lrSchedulers.get('plateau')(base);
  for (const v of [1, 0.8, 0.9, 0.85]) p.onEpochEnd?.({ val_loss: v });
  close(p.at(0), 0.001, 'after two epochs worse than 0.8');
  p.onEpochEnd?.({ val_loss: 0.5 });
  close(p.at(0), 0.001, 'an improvement keeps the rate');
});

test('setLearningRate reaches every optimizer, inside flash\'s PhaseOptimizer too: a zero rate trains nothing', async () => {
  await selectBackend('wasm');
  const cases: [string, () => tf.Optimizer][] = [
    ...['sgd', 'adam', 'adamw', 'rmsprop'].map((n): [string, () => tf.Optimizer] => [n, () => createOptimizer(n, 0.1)]),
    ['PhaseOptimizer(sgd)', () => new PhaseOptimizer(createOptimizer('sgd', 0.1))],
  ];
  for (const [name, make] of cases) {
    const opt = make();
    setLearningRate(opt, 0);
    assert.equal(learningRateOf(opt), 0, name);
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    assert.deepEqual(Array.from(v.dataSync()), [1, 2, 3], `${name} moved with lr 0`);
    setLearningRate(opt, 0.1);
    opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    assert.notDeepEqual(Array.from(v.dataSync()), [1, 2, 3], `${name} did not move with lr 0.1`);
    v.dispose();
    opt.dispose();
  }
});

/** 24 rows, batch 8: 3 steps an epoch. */
function toy() {
  const rows = Array.from({ length: 24 }, (_, i) => [i % 2 ? 1 : -1, (i % 3) / 3]);
  return { train: new VectorSplit(rows, rows.map((_, i) => i % 2)), batchSize: 8 };
}

test('the trainer steps the schedule per batch, logs lr, and a resumed run continues where it stopped', async () => {
  await selectBackend('wasm');
  const model = () => {
    const m = new VectorClassifier(['a', 'b'], ['x', 'y'], { hidden: 4, optimizer: 'adam', lr: 0.01, wd: 0 });
    m.setup();
    return m;
  };
  const seen: number[] = [];
  const record = { onBatchEnd: (_c: unknown, _b: number, logs: { lr?: number }) => void seen.push(logs.lr ?? NaN) };
  const m = model();
  const full = new Trainer({ maxEpochs: 4, lrScheduler: { name: 'cosine' }, callbacks: [record] });
  const fit = await full.fit(m, toy());
  const expected = lrSchedulers.get('cosine')({ ...base, maxEpochs: 4, stepsPerEpoch: 3 });
  assert.equal(seen.length, 12);
  seen.forEach((lr, s) => close(lr, expected.at(s), `step ${s}`));
  close(fit.history[3].lr, expected.at(11), 'epoch logs carry the last step\'s lr');
  full.dispose();

  seen.length = 0;
  const resumed = new Trainer({ maxEpochs: 4, lrScheduler: { name: 'cosine' }, callbacks: [record] });
  const m2 = model();
  await resumed.fit(m2, toy(), { epoch: 2, history: fit.history.slice(0, 2) });
  m2.network().dispose();
  assert.equal(seen.length, 6);
  seen.forEach((lr, i) => close(lr, expected.at(6 + i), `resumed step ${6 + i}`));
  resumed.dispose();
  m.network().dispose();
});
