import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { loadLayersModel, saveLayersModel } from '../../../src/core/io/layers_model.js';
import { DEFAULT_METRICS, ImageClassifier, readFlashJson } from '../../../tasks/image_classification/model.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { makeToyData } from '../../helpers/toy_data.js';
import { promises as fs } from 'node:fs';

let tmp: string;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

test('constructor defaults and option checks', () => {
  const m = new ImageClassifier();
  assert.equal(m.backboneName, 'simple_cnn');
  assert.equal(m.built, false);
  assert.deepEqual(m.options, { head: 'mlp', optimizer: 'adam', learningRate: null, weightDecay: 0, dropout: 0 });
  assert.deepEqual(m.metricNames, DEFAULT_METRICS);
  assert.deepEqual(DEFAULT_METRICS, ['accuracy', 'f1_macro', 'auroc_macro']);
  assert.deepEqual(new ImageClassifier({ numClasses: 3 }).labels, ['0', '1', '2']);
  assert.throws(() => new ImageClassifier({ backbone: 'simple_cn' }), (e: unknown) => e instanceof FlashUserError && /unknown backbone 'simple_cn' \(did you mean 'simple_cnn'\?\)/.test(e.message));
  assert.throws(() => new ImageClassifier({ head: 'mlp2' }), (e: unknown) => e instanceof FlashUserError && /unknown head/.test(e.message));
  assert.throws(() => new ImageClassifier({ numClasses: 3, labels: ['a', 'b'] }), (e: unknown) => e instanceof FlashUserError && /numClasses 3 does not match 2 labels/.test(e.message));
  assert.throws(() => m.network(), /not built/);
  assert.throws(() => new ImageClassifier({ labels: ['only'] }).build({ height: 8, width: 8, channels: 3 }), (e: unknown) => e instanceof FlashUserError && /at least 2 classes/.test(e.message));
});

test('setup takes the class names from the data and refuses a class-count mismatch', () => {
  const data = makeToyData({ perClass: 2 });
  const m = new ImageClassifier({ numClasses: 2 });
  m.setup(data);
  assert.equal(m.built, true);
  assert.deepEqual(m.labels, ['bright', 'dark']);
  assert.equal(m.numOutputs, 2);
  assert.deepEqual(m.spec, data.spec);
  assert.throws(() => new ImageClassifier({ labels: ['a', 'b', 'c'] }).setup(data), (e: unknown) => e instanceof FlashUserError && /the model has 3 classes but the data has 2/.test(e.message));
  // numClasses alone only names placeholder labels: setup replaces them with the data's, whatever their number.
  const placeholder = new ImageClassifier({ numClasses: 3 });
  placeholder.setup(data);
  assert.deepEqual(placeholder.labels, ['bright', 'dark']);
  placeholder.network().dispose();
  // Explicit labels are kept when they match in number.
  const named = new ImageClassifier({ labels: ['light', 'shade'] });
  named.setup(data);
  assert.deepEqual(named.labels, ['light', 'shade']);
  m.network().dispose();
  named.network().dispose();
});

test('the network takes raw 0–255 pixels, outputs probabilities, and shares weights with the logits network', async () => {
  const data = makeToyData({ perClass: 2, size: 12, channels: 3 });
  const m = new ImageClassifier({ numClasses: 2 });
  m.setup(data);
  const net = m.network();
  assert.deepEqual(net.inputs[0].shape, [null, 12, 12, 3]);
  assert.deepEqual(net.outputs[0].shape, [null, 2]);
  assert.equal(net.getLayer('scale_0_1').getClassName(), 'Rescaling');
  assert.deepEqual((net.getUserDefinedMetadata() as { flash: { labels: string[] } }).flash.labels, ['bright', 'dark']);
  const x = tf.randomUniform([3, 12, 12, 3], 0, 255, 'float32', 2);
  const probs = net.predict(x) as tf.Tensor;
  const logits = m.trainingNetwork().predict(x) as tf.Tensor;
  const activated = m.activate(logits);
  const p = await probs.data();
  const a = await activated.data();
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - a[i]) < 1e-6);
  for (let r = 0; r < 3; r++) assert.ok(Math.abs(p[2 * r] + p[2 * r + 1] - 1) < 1e-5);
  assert.equal(m.trainingNetwork().getWeights().length, net.getWeights().length);

  // loss is softmax cross-entropy on integer targets; trainStat counts correct argmaxes.
  const y = tf.tensor1d([0, 1, 1], 'int32');
  const loss = m.loss(y, logits);
  const manual = tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(tf.oneHot(y, 2), tf.logSoftmax(logits)), 1))));
  assert.ok(Math.abs((await loss.data())[0] - (await manual.data())[0]) < 1e-5);
  const correct = m.trainStat.sum(y, logits);
  const argmax = Array.from(await tf.argMax(logits, 1).data());
  assert.equal((await correct.data())[0], argmax.filter((c, i) => c === [0, 1, 1][i]).length);
  tf.dispose([x, probs, logits, activated, y, loss, manual, correct]);
  m.network().dispose();
});

test('createOptimizer follows the options (null learning rate = the optimizer default)', () => {
  const data = makeToyData({ perClass: 2 });
  // The optimizer may be wrapped (finetuning phases); the learning rate lives on the plain tfjs one.
  const innerLr = (o: tf.Optimizer) => ((o as unknown as { inner?: tf.Optimizer }).inner ?? o) as unknown as { learningRate: number };
  const m = new ImageClassifier({ numClasses: 2, optimizer: 'sgd' });
  m.setup(data);
  const opt = m.createOptimizer();
  assert.equal(opt.getClassName(), 'Momentum');
  assert.equal(innerLr(opt).learningRate, 1e-2);
  opt.dispose();
  const n = new ImageClassifier({ numClasses: 2, learningRate: 0.5 });
  n.setup(data);
  const lr = n.createOptimizer();
  assert.equal(lr.getClassName(), 'Adam');
  assert.equal(innerLr(lr).learningRate, 0.5);
  lr.dispose();
  m.network().dispose();
  n.network().dispose();
});

test('ImageClassifier.load reads flash.json and the model; a folder without flash.json is a user error', async () => {
  const data = makeToyData({ perClass: 2, size: 8, channels: 1 });
  const m = new ImageClassifier({ numClasses: 2 });
  m.setup(data);
  const dir = path.join(tmp, 'run');
  await saveLayersModel(m.network(), dir);
  await assert.rejects(ImageClassifier.load(dir), (e: unknown) => e instanceof FlashUserError && /is not a flash run folder \(no flash\.json\)/.test(e.message));
  await fs.writeFile(path.join(dir, 'flash.json'), '{oops');
  await assert.rejects(readFlashJson(dir), (e: unknown) => e instanceof FlashUserError && /is not valid JSON/.test(e.message));
  await fs.writeFile(
    path.join(dir, 'flash.json'),
    JSON.stringify({ task: 'image_classification', labels: ['bright', 'dark'], input: { height: 8, width: 8, channels: 1 }, backbone: 'simple_cnn' }),
  );
  const loaded = await ImageClassifier.load(dir);
  assert.equal(loaded.built, true);
  assert.deepEqual(loaded.labels, ['bright', 'dark']);
  assert.deepEqual(loaded.spec, { height: 8, width: 8, channels: 1 });
  const x = tf.randomUniform([4, 8, 8, 1], 0, 255, 'float32', 9);
  const [a, b] = [m.network(), loaded.network()].map((n) => n.predict(x) as tf.Tensor);
  assert.deepEqual(await b.data(), await a.data());
  // loadWeightsFrom copies another network's weights.
  const fresh = new ImageClassifier({ numClasses: 2 });
  fresh.setup(data);
  const plain = await loadLayersModel(dir);
  fresh.loadWeightsFrom(plain);
  const c = fresh.network().predict(x) as tf.Tensor;
  assert.deepEqual(await c.data(), await a.data());
  tf.dispose([x, a, b, c]);
  for (const n of [m.network(), loaded.network(), fresh.network(), plain]) n.dispose();
});
