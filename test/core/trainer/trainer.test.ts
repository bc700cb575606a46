import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { EarlyStopping } from '../../../src/core/callbacks/index.js';
import { runSplit } from '../../../src/core/trainer/evaluate.js';
import { Trainer, type ResumeState } from '../../../src/core/trainer/trainer.js';
import type { Callback, EpochLogs, FitContext } from '../../../src/core/trainer/types.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { makeToyData, type ToyData } from '../../helpers/toy_data.js';

before(async () => {
  await selectBackend('wasm');
});

/** A classifier built for the toy data (outside a Trainer, so its init is unseeded), optionally with the weights of another. */
function toyModel(data: ToyData, from?: ImageClassifier): ImageClassifier {
  const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: data.numClasses, learningRate: 0.003 });
  model.setup(data);
  if (from) model.loadWeightsFrom(from.network());
  return model;
}

/** Records the logs and tensor count at every epoch end. */
class Recorder implements Callback {
  readonly logs: EpochLogs[] = [];
  readonly tensors: number[] = [];
  readonly epochs: number[] = [];
  onEpochEnd(ctx: FitContext, logs: EpochLogs): void {
    this.logs.push(logs);
    this.epochs.push(ctx.epoch);
    this.tensors.push(tf.memory().numTensors);
  }
}

test('fit learns the toy set well above chance, with one history entry per epoch', async () => {
  const data = makeToyData();
  const model = toyModel(data);
  const recorder = new Recorder();
  const trainer = new Trainer({ maxEpochs: 4, seed: 1, callbacks: [recorder] });
  const result = await trainer.fit(model, data);
  assert.equal(result.status, 'completed');
  assert.equal(result.epochs, 4);
  assert.equal(result.history.length, 4);
  result.history.forEach((logs, i) => {
    assert.equal(logs.epoch, i + 1);
    for (const key of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_f1_macro', 'val_auroc_macro']) {
      assert.equal(typeof logs[key], 'number', `epoch ${i + 1} lacks ${key}`);
      assert.ok(Number.isFinite(logs[key]), `epoch ${i + 1}: ${key} = ${logs[key]}`);
    }
  });
  assert.deepEqual(recorder.epochs, [0, 1, 2, 3]);
  const last = result.history[3];
  assert.ok(last.val_accuracy >= 0.9, `val_accuracy ${last.val_accuracy}`);
  assert.ok(last.train_loss < result.history[0].train_loss, 'train loss went down');
  const test = await trainer.test(model, data);
  assert.ok('val_accuracy' in test, 'test() falls back to val when there is no test split');
  model.network().dispose();
});

test('tf.memory().numTensors is flat across epochs, runSplit calls and predict calls', async () => {
  const data = makeToyData({ perClass: 12 });
  const model = toyModel(data);
  const recorder = new Recorder();
  const trainer = new Trainer({ maxEpochs: 3, callbacks: [recorder] });
  await trainer.fit(model, data);
  // Epoch 1 creates the optimizer's moments; after that nothing may accumulate.
  assert.equal(recorder.tensors[1], recorder.tensors[0], `epoch 1: ${recorder.tensors[0]}, epoch 2: ${recorder.tensors[1]}`);
  assert.equal(recorder.tensors[2], recorder.tensors[1]);

  const first = await runSplit(model, data.val!, 5);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const again = await runSplit(model, data.val!, 5);
    assert.deepEqual(again.probs, first.probs, 'inference is deterministic');
    await trainer.outputs(model, data.train, 7);
    await trainer.validate(model, data);
    await trainer.test(model, data);
  }
  assert.equal(tf.memory().numTensors, before);
  model.network().dispose();
});

test('EarlyStopping inside fit stops on a scripted metric sequence at the right epoch', async () => {
  const data = makeToyData({ perClass: 4, val: false });
  const model = toyModel(data);
  // The "score" improves at epochs 1, 2 and 4, then never: with patience 2 the run stops after epoch 6.
  const script = [0.5, 0.6, 0.55, 0.7, 0.65, 0.69, 0.9, 0.9];
  const inject: Callback = {
    onEpochEnd(ctx, logs) {
      logs.score = script[ctx.epoch];
    },
  };
  const stopper = new EarlyStopping({ monitor: 'score', patience: 2 });
  const trainer = new Trainer({ maxEpochs: 8, callbacks: [inject, stopper] });
  const result = await trainer.fit(model, data);
  assert.equal(result.status, 'stopped');
  assert.equal(result.epochs, 6);
  assert.equal(result.history.length, 6);
  assert.match(result.reason ?? '', /early stopping: score did not improve for 2 epochs/);
  model.network().dispose();
});

test('interrupt() stops after the current batch with status interrupted', async () => {
  const data = makeToyData({ perClass: 8 });
  const model = toyModel(data);
  let batches = 0;
  let trainer!: Trainer;
  const interrupter: Callback = {
    onBatchEnd(ctx) {
      batches++;
      if (ctx.epoch === 1 && batches > 0) trainer.interrupt();
    },
  };
  trainer = new Trainer({ maxEpochs: 5, callbacks: [interrupter] });
  const result = await trainer.fit(model, data);
  assert.equal(result.status, 'interrupted');
  assert.equal(result.history.length, 1, 'only the completed epoch is in the history');
  assert.equal(batches, 2 + 1, 'epoch 1 ran its 2 batches, epoch 2 stopped after its first');

  // Interrupting from onEpochEnd keeps that epoch.
  const atEnd = new Trainer({ maxEpochs: 5, callbacks: [{ onEpochEnd: () => atEnd.interrupt() }] });
  const r2 = await atEnd.fit(model, data);
  assert.equal(r2.status, 'interrupted');
  assert.equal(r2.epochs, 1);
  assert.equal(r2.history.length, 1);
  model.network().dispose();
});

/**
 * An uninterrupted 4-epoch run and a run interrupted after 2 epochs and resumed (weights, optimizer state and
 * history kept, as ModelCheckpoint's last/ does), from the same initial weights and seed. Run once, shared by
 * the two tests below.
 */
async function resumeScenario() {
  const data = makeToyData({ perClass: 8 });
  const base = toyModel(data);

  const full = toyModel(data, base);
  const fullRun = await new Trainer({ maxEpochs: 4, seed: 7 }).fit(full, data);

  const part = toyModel(data, base);
  const firstTrainer = new Trainer({ maxEpochs: 2, seed: 7 });
  const firstRun = await firstTrainer.fit(part, data);
  const optimizerWeights = (await firstTrainer.currentOptimizer()!.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
  const resume: ResumeState = { epoch: firstRun.epochs, history: firstRun.history, optimizerWeights };

  // A fresh model gets the saved weights. Its variables have new names (conv1/kernel_1, …), as in `flash
  // --resume`, where the checkpoint's network is loaded before the model is built.
  const resumed = toyModel(data, part);
  const recorder = new Recorder();
  const secondRun = await new Trainer({ maxEpochs: 4, seed: 7, callbacks: [recorder] }).fit(resumed, data, resume);
  tf.dispose(optimizerWeights.map((w) => w.tensor));

  const a = full.network().getWeights();
  const b = resumed.network().getWeights();
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a[i], b[i]))).dataSync()[0]);
    maxDiff = Math.max(maxDiff, d);
  }
  for (const m of [base, full, part, resumed]) m.network().dispose();
  return { fullRun, secondRun, recorder, maxDiff };
}
let scenario: ReturnType<typeof resumeScenario> | undefined;
const runResumeScenario = () => (scenario ??= resumeScenario());

test('resume continues at the saved epoch with the saved history', async () => {
  const { secondRun, recorder } = await runResumeScenario();
  assert.equal(secondRun.status, 'completed');
  assert.equal(secondRun.epochs, 4);
  assert.deepEqual(recorder.epochs, [2, 3], 'only epochs 3 and 4 ran');
  assert.deepEqual(secondRun.history.map((h) => h.epoch), [1, 2, 3, 4]);
});

// Shuffle order and augmentation derive from (seed, epoch), so the resumed epochs see the same batches. The one
// thing a resume cannot promise bit for bit is Adam's bias correction: setWeights restores the step count and
// recomputes β1^t, β2^t as pow(β, t), where the uninterrupted run multiplied them up step by step, and in
// float32 the two differ in the last bit at many t (for β2 = 0.999 already at t = 3). With the committed
// trainer the weights come out identical on this toy run, but that is not guaranteed, so this asserts closeness.
//
// Resume restores Adam's state positionally (the reloaded model's variables have new names; see
// adoptOptimizerState in src/core/finetuning/optimizer.ts).
test('a resumed run yields the same weights as an uninterrupted one with the same seed', async () => {
  const { fullRun, secondRun, maxDiff } = await runResumeScenario();
  assert.ok(maxDiff < 1e-5, `resumed weights differ from the uninterrupted run by ${maxDiff}`);
  for (let e = 2; e < 4; e++) {
    assert.ok(Math.abs(secondRun.history[e].train_loss - fullRun.history[e].train_loss) < 1e-4, `epoch ${e + 1} train_loss`);
  }
});

test('predict needs a built module; test() needs a test or val split', async () => {
  const trainer = new Trainer();
  const model = new ImageClassifier({ numClasses: 2 });
  await assert.rejects(trainer.predict(model, ['x.png']), /predict needs a built module/);
  const data = makeToyData({ perClass: 2, val: false });
  await assert.rejects(trainer.test(model, data), /neither a test nor a val split/);
  await assert.rejects(trainer.validate(model, data), /no val split/);
  model.network().dispose();
});

test('weight init follows trainer.seed: same seed, same initial weights; another seed, others; Math.random restored', async () => {
  const data = makeToyData();
  const initial = async (seed: number) => {
    const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: data.numClasses });
    await new Trainer({ maxEpochs: 1, seed }).validate(model, data);
    const w = model.network().getWeights().map((t) => Array.from(t.dataSync()));
    model.network().dispose();
    return w;
  };
  const real = Math.random;
  const [a, b, c] = [await initial(7), await initial(7), await initial(8)];
  assert.equal(Math.random, real);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], c[0]);
});

test('training follows trainer.seed: dropout masks repeat, so two runs with one seed give identical weights', async () => {
  const data = makeToyData();
  const trained = async (seed: number) => {
    // The mlp head has dropout 0.2 in training; its masks come from Math.random inside each step.
    const model = new ImageClassifier({ backbone: 'simple_cnn', head: 'mlp', numClasses: data.numClasses, learningRate: 0.003 });
    await new Trainer({ maxEpochs: 2, seed }).fit(model, data);
    const w = model.network().getWeights().map((t) => Array.from(t.dataSync()));
    model.network().dispose();
    return w;
  };
  const [a, b, c] = [await trained(5), await trained(5), await trained(6)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});
