/**
 * The text models: fasttext's Embedding bag is the mean of its non-pad tokens' embeddings, predictions do not depend
 * on what a text is batched with, a saved network runs under plain tf.loadLayersModel, cnn trains on wasm, and
 * runs saved with the older dense input still predict.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { TextClassificationData } from '../../../tasks/text_classification/api.js';
import { TextClassifier, textModels } from '../../../tasks/text_classification/model.js';
import { encode, fitTokenizer, type TokenizerConfig } from '../../../tasks/text_classification/tokenizer.js';
import { topicTexts } from '../../helpers/texts.js';

const CONFIG: TokenizerConfig = { splitter: 'words', normalize: 'nfkc', lowercase: true, max_length: 64, subword_min: 3, subword_max: 4, subword_buckets: 64, bigram_buckets: 32, most_common: 1000, min_count: 1 };
const rows = topicTexts(6, 3);
const tokenizer = fitTokenizer(CONFIG, rows.map((r) => r.text));
const SHORT = 'goal';
const LONG = 'the football match goal was great and the oven soup was hot, my laptop battery died again today '.repeat(3);

before(async () => {
  await selectBackend('wasm');
});

function classifier(backbone: string): TextClassifier {
  const clf = new TextClassifier({ labels: ['food', 'sport', 'tech'], tokenizer, multiLabel: false, backbone, embeddingDim: 8 });
  clf.setup();
  return clf;
}

test('fasttext: the bag vector is the mean of the non-pad tokens\' embedding rows (repeats counted)', () => {
  const clf = classifier('fasttext');
  const net = clf.network();
  const bag = tf.model({ inputs: net.inputs, outputs: net.getLayer('bag').output as tf.SymbolicTensor });
  const table = net.getLayer('embedding_bag').getWeights()[0].arraySync() as number[][];
  const e = [encode(tokenizer, SHORT), encode(tokenizer, LONG)];
  const ids = [e[0].tokens, e[1].tokens].map((t) => Array.from(t, (id) => id + 1));
  const L = ids[1].length;
  const x = tf.tensor2d(ids.flatMap((r) => [...r, ...Array(L - r.length).fill(0)]), [2, L], 'int32');
  const got = tf.tidy(() => bag.predict(x) as tf.Tensor).arraySync() as number[][];
  ids.forEach((r, i) => {
    const want = table[0].map((_, j) => r.reduce((s, id) => s + table[id][j], 0) / r.length);
    want.forEach((v, j) => assert.ok(Math.abs(got[i][j] - v) < 1e-6, `text ${i} dim ${j}: ${got[i][j]} vs ${v}`));
  });
  assert.ok(ids[0].length > 1 && ids[1].length > 20 && new Set(ids[1]).size < ids[1].length, 'the long text repeats tokens');
  x.dispose();
  clf.dispose();
});

for (const backbone of ['fasttext', 'cnn']) {
  test(`${backbone}: a text's probabilities do not depend on its batch, and plain tf.loadLayersModel reproduces them`, async () => {
    const clf = classifier(backbone);
    const alone = (await clf.predict([SHORT]))[0].probs;
    const batched = (await clf.predict([LONG, SHORT, 'x'], { batchSize: 3 }))[1].probs;
    alone.forEach((p, c) => assert.ok(Math.abs(p - batched[c]) < 1e-6, `class ${c}: ${p} alone vs ${batched[c]} batched`));
    let artifacts: tf.io.ModelArtifacts | undefined;
    await clf.network().save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const probe = [LONG, SHORT];
    const viaLoaded = new TextClassifier({ labels: clf.labels, tokenizer, multiLabel: false, backbone });
    viaLoaded.adopt(loaded);
    const a = await clf.predict(probe), b = await viaLoaded.predict(probe);
    a.forEach((p, i) => p.probs.forEach((v, c) => assert.ok(Math.abs(v - b[i].probs[c]) < 1e-6, `text ${i} class ${c}`)));
    assert.ok(a[0].probs.some((v) => Math.abs(v - 1 / 3) > 1e-4) || backbone === 'cnn', 'an untrained bag still gives distinct probabilities');
    clf.dispose();
    viaLoaded.dispose();
  });
}

test('cnn trains on wasm (Embedding gradients through the engine\'s UnsortedSegmentSum)', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const lists = (n: number, seed: number) => {
    const r = topicTexts(n, seed);
    return { texts: r.map((x) => x.text), targets: r.map((x) => x.label) };
  };
  const data = await TextClassificationData.fromLists({ train: lists(20, 1), val: lists(6, 2) }, { batch_size: 8 });
  const clf = new TextClassifier({ labels: data.labels, tokenizer: data.tokenizer, multiLabel: false, backbone: 'cnn', embeddingDim: 16, learningRate: 0.01 });
  clf.setup(data);
  assert.equal(data.train.input.layout, 'sequence');
  const trainer = new Trainer({ maxEpochs: 4, seed: 1, log: () => undefined, warn: () => undefined });
  const fit = await trainer.fit(clf, data);
  trainer.dispose();
  assert.ok(fit.history.at(-1)!.train_loss < fit.history[0].train_loss * 0.5, JSON.stringify(fit.history.map((h) => h.train_loss)));
  assert.ok(fit.history.at(-1)!.val_accuracy >= 0.8, JSON.stringify(fit.history.at(-1)));
  clf.dispose();
});

test('a run saved with the older dense input ([features] float) still predicts, in that layout', async () => {
  const clf = new TextClassifier({ labels: ['food', 'sport', 'tech'], tokenizer, multiLabel: false });
  const input = tf.input({ shape: [clf.inputDim], name: 'features' });
  const h = tf.layers.dense({ units: 4, useBias: false, name: 'embedding_bag' }).apply(input) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 3, name: 'logits' }).apply(h) as tf.SymbolicTensor;
  clf.adopt(tf.model({ inputs: input, outputs: tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor }));
  assert.deepEqual(clf.input, { layout: 'dense' });
  const [p] = await clf.predict([SHORT]);
  assert.equal(p.probs.length, 3);
  assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  clf.dispose();
});

test('the model registry has fasttext (bag) and cnn (sequence)', () => {
  assert.equal(textModels.get('fasttext').input.layout, 'bag');
  assert.equal(textModels.get('cnn').input.layout, 'sequence');
});
