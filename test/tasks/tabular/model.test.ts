/** The tabular model registry and heads: every backbone builds, saves and reloads; regression answers in target units. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel, saveLayersModel } from '../../../src/core/io/layers_model.js';
import { classificationHead, predictRows, regressionHead, TabularModule, tabularBackbones } from '../../../tasks/tabular/model.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

const options = (backbone: string) => ({ backbone, hidden: [8, 8], dropout: 0.1, batchNorm: true, width: 5, optimizer: 'adam', learningRate: null, weightDecay: 0 });

test('every registered backbone builds under both heads, round-trips through model.json, and leaks nothing', async () => {
  const dir = await makeTempDir('flash-tabular-model-');
  const before = tf.memory().numTensors;
  try {
    const x = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i));
    for (const name of tabularBackbones.names()) {
      for (const head of [() => classificationHead(['a', 'b', 'c'], () => null), () => regressionHead(100, 20)]) {
        const m = new TabularModule(head, options(name));
        m.setup();
        const out = predictRows(m, x, 3);
        assert.equal(out.length, 3);
        assert.equal(out[0].length, m.numOutputs, name);
        await saveLayersModel(m.network(), dir);
        const again = new TabularModule(head, options(name));
        again.adopt(await loadLayersModel(dir));
        assert.deepEqual(predictRows(again, x, 3), out, `${name}: same outputs after reload`);
        m.dispose();
        again.dispose();
      }
    }
  } finally {
    await removeDir(dir);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('regression: the saved network is the training output mapped back to target units (mean + std·z)', () => {
  const m = new TabularModule(() => regressionHead(100, 20), options('linear'));
  m.setup();
  const x = tf.tensor2d([[1, 0, -1, 2, 0.5]]);
  const [z, saved, activated] = tf.tidy(() => {
    const zz = m.trainingNetwork().predict(x) as tf.Tensor;
    return [zz.dataSync()[0], (m.network().predict(x) as tf.Tensor).dataSync()[0], m.activate(zz).dataSync()[0]];
  });
  assert.ok(Math.abs(saved - (100 + 20 * z)) < 1e-3);
  assert.ok(Math.abs(activated - saved) < 1e-3);
  // The loss reads standardised targets: a prediction z for a target of 100 + 20·z costs nothing.
  const loss = tf.tidy(() => m.loss(tf.tensor1d([100 + 20 * z]), tf.tensor2d([[z]])).dataSync()[0]);
  assert.ok(loss < 1e-8);
  x.dispose();
  m.dispose();
});

test('embedding encoding: one Embedding per categorical column (width min(100, round(1.6·n^0.56))), codes in their slots, plain loadLayersModel agrees', async () => {
  const { embeddingWidth } = await import('../../../tasks/tabular/registry.js');
  assert.deepEqual([3, 5, 10, 1000, 1e6].map(embeddingWidth), [3, 4, 6, 77, 100]);
  const { TabularClassificationData, TabularClassifier, Trainer } = await import('../../../src/index.js');
  const { toyRows } = await import('./fixtures.js');
  const rows = toyRows(240, 51).map(({ x1, x2, color, cls }) => ({ x1, x2, color, cls }));
  const data = TabularClassificationData.fromRecords(rows, { target: 'cls' });
  assert.equal(data.preprocessing.categoricalEncoding, 'embedding');
  assert.deepEqual(data.preprocessing.featureNames, ['x1', 'x2', 'color']);
  const model = new TabularClassifier(data);
  const fit = await new Trainer({ maxEpochs: 10, seed: 1, log: () => undefined }).fit(model, data);
  assert.ok(fit.history.at(-1)!.val_accuracy >= 0.85, `val_accuracy ${fit.history.at(-1)!.val_accuracy}`);
  const net = model.network();
  const embed = net.getLayer('embed_1') as unknown as { getWeights(): tf.Tensor[] };
  assert.deepEqual(embed.getWeights()[0].shape, [5, embeddingWidth(5)], '3 colours + <missing> + <unknown>');
  // The saved topology reloads with stock layers only and gives the same outputs on the code vectors.
  const artifacts = await new Promise<tf.io.ModelArtifacts>((ok) => void net.save({ save: async (a) => (ok(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }) }));
  const plain = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const x = tf.tensor2d([0.5, -1, 2, -0.5, 1, 4, 0, 0, 1], [3, 3]);
  const a = net.predict(x) as tf.Tensor;
  const b = plain.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-6);
  tf.dispose([x, a, b]);
  plain.dispose();
  model.dispose();
});

test('every backbone takes the embedding layout (codes in their slots) and reloads in plain tf.loadLayersModel with the same outputs', async () => {
  const layout = { numeric: 3, codes: [{ name: 'c', slot: 3, size: 5 }, { name: 'd', slot: 4, size: 3 }] };
  const x = tf.tensor2d([0.5, -1, 2, 4, 0, -0.5, 1, 0, 1, 2, 0, 0, 1, 3, 1], [3, 5]);
  for (const name of tabularBackbones.names()) {
    const m = new TabularModule(() => classificationHead(['a', 'b', 'c'], () => null), { ...options(name), width: 5, layout });
    m.setup();
    const net = m.network();
    const artifacts = await new Promise<tf.io.ModelArtifacts>((ok) => void net.save({ save: async (a) => (ok(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }) }));
    const plain = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const a = net.predict(x) as tf.Tensor;
    const b = plain.predict(x) as tf.Tensor;
    assert.deepEqual(a.shape, [3, 3], name);
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-6, name);
    // A different code in a slot changes the output: the code is read, not ignored.
    const xOther = tf.tensor2d([0.5, -1, 2, 2, 0], [1, 5]);
    const y = net.predict(xOther) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(y, a.slice([0, 0], [1, 3])))).dataSync()[0] > 0, `${name} reads the code`);
    tf.dispose([a, b, y, xOther]);
    plain.dispose();
    m.dispose();
  }
  x.dispose();
});
