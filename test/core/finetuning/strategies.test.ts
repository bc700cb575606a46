import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { BackboneSpec } from '../../../backbones/types.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { PhaseOptimizer, remapOptimizerState, strategies, type StrategyOptions } from '../../../src/core/finetuning/index.js';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { makeToyData } from '../../helpers/toy_data.js';

before(async () => {
  await tf.setBackend('cpu');
});

const base: StrategyOptions = { maxEpochs: 6, unfreezeEpoch: 2, milestones: [1, 3], numLayers: 2, trainBn: true };
const schedule = (name: string, o: Partial<StrategyOptions> = {}) =>
  strategies.get(name)({ ...base, ...o }).map((p) => [p.startEpoch, p.plan.unfrozen]);

describe('strategy schedules', () => {
  it('no_freeze, freeze, freeze_unfreeze, unfreeze_milestones', () => {
    assert.deepEqual(schedule('no_freeze'), [[0, 'all']]);
    assert.deepEqual(schedule('freeze'), [[0, 0]]);
    assert.deepEqual(schedule('freeze_unfreeze'), [[0, 0], [2, 'all']]);
    assert.deepEqual(schedule('freeze_unfreeze', { unfreezeEpoch: 0 }), [[0, 'all']]);
    assert.deepEqual(schedule('freeze_unfreeze', { unfreezeEpoch: 9 }), [[0, 0]]);
    assert.deepEqual(schedule('unfreeze_milestones'), [[0, 0], [1, 2], [3, 'all']]);
    assert.deepEqual(schedule('unfreeze_milestones', { milestones: [0, 2] }), [[0, 2], [2, 'all']]);
    assert.deepEqual(schedule('unfreeze_milestones', { milestones: [2, 8] }), [[0, 0], [2, 2]]);
  });

  it('bad milestones are user errors', () => {
    assert.throws(() => schedule('unfreeze_milestones', { milestones: [1] }), FlashUserError);
    assert.throws(() => schedule('unfreeze_milestones', { milestones: [3, 1] }), /comes before/);
  });
});

/** A tiny backbone with conv → BN → dense, so BatchNorm behaviour can be checked quickly. */
const bnNet: BackboneSpec = {
  description: 'test conv+bn',
  defaultImageSize: 8,
  normalization: { mean: [0], std: [1] },
  build({ inputShape, name = 'backbone' }) {
    const input = tf.input({ shape: inputShape });
    let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: 'c1_bn', momentum: 0.5 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 6, activation: 'relu', name: 'fc' }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: x, name });
  },
};

const weightsOf = (layer: tf.layers.Layer) => layer.getWeights().map((w) => Array.from(w.dataSync()));

async function fit(model: ImageClassifier, strategy: string, o: Partial<StrategyOptions> = {}, epochs = 2) {
  const data = makeToyData({ size: 8, perClass: 8 });
  if (!model.built) model.setup(data);
  const seen: string[][] = [];
  const lines: string[] = [];
  const phases = strategies.get(strategy)({ ...base, maxEpochs: epochs, ...o, log: (l) => lines.push(l) });
  const trainer = new Trainer({
    maxEpochs: epochs,
    phases,
    log: (l) => lines.push(l),
    callbacks: [{ onEpochStart: (ctx) => void seen.push(ctx.module.trainingNetwork().trainableWeights.map((w) => w.originalName)) }],
  });
  await trainer.fit(model, data);
  return { seen, lines };
}

describe('strategies on a classifier', () => {
  it('unfreeze_milestones: which weights train at which epoch, and the run says so', async () => {
    const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2 });
    const { seen, lines } = await fit(model, 'unfreeze_milestones', { milestones: [1, 2], numLayers: 1 }, 3);
    // simple_cnn's default head is dense 128 → classes: both head layers train in every phase.
    assert.deepEqual(seen[0], ['head_hidden/kernel', 'head_hidden/bias', 'logits/kernel', 'logits/bias']);
    assert.deepEqual(seen[1], ['conv2/kernel', 'conv2/bias', 'head_hidden/kernel', 'head_hidden/bias', 'logits/kernel', 'logits/bias']);
    assert.equal(seen[2].length, 8);
    assert.ok(lines.some((l) => /trainable: head \+ 0\/2 backbone layer groups/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /trainable: head \+ 1\/2 backbone layer groups \(conv2\)/.test(l)));
    assert.ok(lines.some((l) => /phase 3\/3 from epoch 3: all layers train/.test(l)));
  });

  it('freeze keeps every backbone weight bit-identical; the head changes', async () => {
    const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2 });
    model.setup(makeToyData({ size: 8 }));
    const before = model.backbone().layers.map(weightsOf);
    const head = weightsOf(model.network().getLayer('logits'));
    await fit(model, 'freeze');
    assert.deepEqual(model.backbone().layers.map(weightsOf), before);
    assert.notDeepEqual(weightsOf(model.network().getLayer('logits')), head);
  });

  it('train_bn false: frozen BatchNorm runs in inference mode and its statistics stay put', async () => {
    const model = new ImageClassifier({ backbone: bnNet, numClasses: 2 });
    model.setup(makeToyData({ size: 8 }));
    const bn = model.backbone().getLayer('c1_bn');
    const before = weightsOf(bn);
    await fit(model, 'freeze', { trainBn: false });
    assert.deepEqual(weightsOf(bn), before);
    assert.equal(bn.trainable, false);
    const x = tf.randomUniform([4, 8, 8, 1], 0, 255);
    const a = model.trainingNetwork().apply(x, { training: true }) as tf.Tensor;
    const b = model.trainingNetwork().apply(x, { training: false }) as tf.Tensor;
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('train_bn true: BatchNorm in a frozen backbone trains (gamma/beta and moving statistics move), the conv does not', async () => {
    const model = new ImageClassifier({ backbone: bnNet, numClasses: 2 });
    model.setup(makeToyData({ size: 8 }));
    const bn = model.backbone().getLayer('c1_bn');
    const conv = model.backbone().getLayer('c1');
    const [bnBefore, convBefore] = [weightsOf(bn), weightsOf(conv)];
    const { seen } = await fit(model, 'freeze', { trainBn: true });
    assert.deepEqual(seen[0], ['c1_bn/gamma', 'c1_bn/beta', 'logits/kernel', 'logits/bias']);
    const after = weightsOf(bn);
    for (let i = 0; i < 4; i++) assert.notDeepEqual(after[i], bnBefore[i], `BN weight ${i}`);
    assert.deepEqual(weightsOf(conv), convBefore);
  });

  it('backbone_lr_mult 0 leaves an unfrozen backbone unchanged; the head still trains', async () => {
    const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2, backboneLrMult: 0 });
    model.setup(makeToyData({ size: 8 }));
    const before = model.backbone().layers.map(weightsOf);
    const head = weightsOf(model.network().getLayer('logits'));
    await fit(model, 'no_freeze', {}, 1);
    assert.deepEqual(model.backbone().layers.map(weightsOf), before);
    assert.notDeepEqual(weightsOf(model.network().getLayer('logits')), head);
  });
});

describe('PhaseOptimizer', () => {
  it('scales the updates of the listed variables by lrMult, under Adam too', () => {
    const a = tf.variable(tf.zeros([3]), true, 'lr_a');
    const b = tf.variable(tf.zeros([3]), true, 'lr_b');
    const opt = new PhaseOptimizer(tf.train.adam(0.1), { scaled: new Set(['lr_b']), lrMult: 0.25 });
    for (let i = 0; i < 3; i++) {
      const g = tf.ones([3]);
      opt.applyGradients({ lr_a: g, lr_b: g });
      g.dispose();
    }
    const [da, db] = [a.dataSync()[0], b.dataSync()[0]];
    assert.ok(Math.abs(db - 0.25 * da) < 1e-6, `${da} ${db}`);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('carries Adam state over by variable name when the trained set changes', async () => {
    const v = ['st_a', 'st_b', 'st_c'].map((n) => tf.variable(tf.zeros([2]), true, n));
    const inner = tf.train.adam(0.1);
    let kept: tf.Optimizer | undefined;
    const first = new PhaseOptimizer(inner, { handOver: (o) => ((kept = o), true) });
    const g = tf.tensor1d([1, 2]);
    first.applyGradients({ st_a: g, st_b: g });
    const m = (await first.getWeights()).find((w) => w.name === 'st_b/m');
    const mB = Array.from(m!.tensor.dataSync());
    first.dispose();
    assert.equal(kept, inner);
    const second = new PhaseOptimizer(inner);
    assert.equal(remapOptimizerState(inner, ['st_b', 'st_c']), 1);
    second.applyGradients({ st_b: tf.zerosLike(g), st_c: g });
    const w = await second.getWeights();
    assert.deepEqual(w.map((x) => x.name), ['iter', 'st_b/m', 'st_c/m', 'st_b/v', 'st_c/v']);
    // β1 = 0.9: with a zero gradient st_b's first moment decays from what it was.
    const after = Array.from(w[1].tensor.dataSync());
    after.forEach((x, i) => assert.ok(Math.abs(x - 0.9 * mB[i]) < 1e-6));
    second.dispose();
    tf.dispose([...v, g]);
  });
});

describe('feature cache', () => {
  it('a frozen backbone runs once; the head trains from cached features as it would from images', async () => {
    const data = makeToyData({ size: 8, perClass: 8, batchSize: 16 });
    const a = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2, optimizer: 'sgd' });
    a.setup(data);
    const b = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2, optimizer: 'sgd' });
    b.setup(data);
    b.loadWeightsFrom(a.network());
    const phases = () => strategies.get('freeze')({ ...base, maxEpochs: 2 });
    await new Trainer({ maxEpochs: 2, phases: phases() }).fit(a, data);
    let built = 0;
    let calls = 0;
    const train = b.withFeatureCache(data.train, () => built++);
    const featureNet = b.featureNetwork();
    const apply = featureNet.apply.bind(featureNet);
    featureNet.apply = ((x: tf.Tensor, k?: tf.serialization.ConfigDict) => (calls++, apply(x, k))) as typeof featureNet.apply;
    const fit = await new Trainer({ maxEpochs: 2, phases: phases() }).fit(b, { ...data, train });
    assert.equal(built, 1, 'features computed once');
    assert.equal(calls, 1, 'one batch of 16 through the backbone, in all');
    const [wa, wb] = [weightsOf(a.network().getLayer('logits')), weightsOf(b.network().getLayer('logits'))];
    wa.flat().forEach((v, i) => assert.ok(Math.abs(v - wb.flat()[i]) < 1e-5, `head weight ${i}: ${v} vs ${wb.flat()[i]}`));
    assert.ok(fit.history[1].val_accuracy >= 0, 'validation runs on images through the whole network');
  });

  it('validation images (never augmented) go through the frozen backbone once too, with the same val metrics', async () => {
    const data = makeToyData({ size: 8, perClass: 8, batchSize: 4 });
    assert.ok(data.val && data.val.size > 0);
    const a = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2, optimizer: 'sgd' });
    a.setup(data);
    const b = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2, optimizer: 'sgd' });
    b.setup(data);
    b.loadWeightsFrom(a.network());
    const phases = () => strategies.get('freeze')({ ...base, maxEpochs: 3 });
    const plain = await new Trainer({ maxEpochs: 3, phases: phases() }).fit(a, data);
    let calls = 0;
    const featureNet = b.featureNetwork();
    const apply = featureNet.apply.bind(featureNet);
    featureNet.apply = ((x: tf.Tensor, k?: tf.serialization.ConfigDict) => (calls++, apply(x, k))) as typeof featureNet.apply;
    const perEpoch: number[] = [];
    const cached = await new Trainer({ maxEpochs: 3, phases: phases(), callbacks: [{ onEpochEnd: () => void perEpoch.push(calls) }] })
      .fit(b, { ...data, val: b.withFeatureCache(data.val) });
    // Only val is cached here (a cached training split shuffles in its own order, so the runs would differ); the
    // feature network runs for the val cache only: over every val batch in epoch 1, never again.
    const valBatches = Math.ceil(data.val.size / 4);
    assert.deepEqual(perEpoch, [valBatches, valBatches, valBatches]);
    cached.history.forEach((h, e) => assert.ok(Math.abs(h.val_loss - plain.history[e].val_loss) < 1e-5, `epoch ${e + 1}: val_loss ${h.val_loss} vs ${plain.history[e].val_loss}`));
  });
});

describe('trainer.finetune', () => {
  it('defaults to freeze for a trained backbone and to no_freeze for one from scratch', async () => {
    const data = makeToyData({ size: 8, perClass: 4 });
    const trainable = async (model: ImageClassifier) => {
      const seen: number[] = [];
      await new Trainer({ maxEpochs: 1, callbacks: [{ onEpochStart: (ctx) => void seen.push(ctx.module.trainingNetwork().trainableWeights.length) }] }).finetune(model, data);
      return seen[0];
    };
    const scratch = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2 });
    assert.equal(await trainable(scratch), 8);
    const user = new ImageClassifier({ backbone: { model: scratch.backboneSpec.build({ inputShape: [8, 8, 1] }), numFeatures: 256 }, numClasses: 2 });
    assert.equal(await trainable(user), 2, 'only the head');
  });
});

describe('resume across a phase boundary', () => {
  it('a run resumed where freeze_unfreeze unfreezes takes the saved optimizer state and trains every layer', async () => {
    const data = makeToyData({ size: 8, perClass: 4 });
    const opts = { ...base, maxEpochs: 2, unfreezeEpoch: 1 };
    const first = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2 });
    const t1 = new Trainer({ maxEpochs: 1, phases: strategies.get('freeze_unfreeze')(opts) });
    const r1 = await t1.fit(first, data);
    const optimizerWeights = (await t1.currentOptimizer()!.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    assert.equal(optimizerWeights.length, 9, "iter + m, v of the head's hidden and logits kernels and biases");
    const second = new ImageClassifier({ backbone: 'simple_cnn', numClasses: 2 });
    second.setup(data);
    second.loadWeightsFrom(first.network());
    const seen: number[] = [];
    const t2 = new Trainer({ maxEpochs: 2, phases: strategies.get('freeze_unfreeze')(opts), callbacks: [{ onEpochStart: (ctx) => void seen.push(ctx.module.trainingNetwork().trainableWeights.length) }] });
    const r2 = await t2.fit(second, data, { epoch: 1, history: r1.history, optimizerWeights });
    assert.equal(r2.status, 'completed');
    assert.deepEqual(seen, [8]);
    const after = await t2.currentOptimizer()!.getWeights();
    assert.equal(after.length, 1 + 2 * 8, 'state for every variable now trained');
    tf.dispose(optimizerWeights.map((w) => w.tensor));
  });
});
