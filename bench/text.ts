/**
 * bench/text: flash's default text model (fasttext bag of words, subwords and bigrams) against a TF-IDF +
 * logistic-regression baseline on a labelled CSV pair (default: the bundled demo corpus), over several seeds:
 * accuracy, macro F1, training time and predict texts/s, one JSON line per (model, seed) on stdout.
 *
 *   npm run build && node dist/bench/text.js [--train_file train.csv --test_file test.csv] [--seeds 3] [--epochs 5]
 *
 * Not part of `npm test`. fastText itself (the npm package fasttext.wasm.js) is reported as skipped when it is not
 * installed; the two public corpora are not bundled (no license-clean copy offline) — pass them as CSVs.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/core/backend.js';
import { computeMetrics } from '../src/core/metrics/index.js';
import { Trainer } from '../src/core/trainer/trainer.js';
import { TextClassificationData } from '../tasks/text_classification/api.js';
import { demoCorpus } from '../tasks/text_classification/demo.js';
import { TextClassifier } from '../tasks/text_classification/model.js';
import { readCsvTexts } from '../tasks/text_classification/read.js';
import { words, type TokenizerConfig } from '../tasks/text_classification/tokenizer.js';
import { CONTENDED_CORES, cpuJiffies, HZ, intArg, log, round, runBench } from './common.js';

const { values } = parseArgs({
  options: {
    train_file: { type: 'string' },
    test_file: { type: 'string' },
    input_field: { type: 'string', default: 'text' },
    target_field: { type: 'string', default: 'label' },
    seeds: { type: 'string' },
    epochs: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    models: { type: 'string', default: 'flash_fasttext,flash_cnn,tfidf_logreg,fasttext' },
    corpus: { type: 'string' },
  },
});

/** Accuracy and macro F1 of probability rows against class indices. */
function score(probs: Float32Array, labels: number[], k: number): { accuracy: number; f1_macro: number } {
  const m = computeMetrics({ probs, labels: Int32Array.from(labels), numClasses: k }, ['accuracy', 'f1_macro']);
  return { accuracy: round(m.accuracy, 4), f1_macro: round(m.f1_macro, 4) };
}

/** TF-IDF (smooth idf, l2-normalised rows, vocabulary from train) + multinomial logistic regression, full batch. */
async function tfidfLogReg(train: { text: string; y: number }[], test: { text: string; y: number }[], k: number, seed: number) {
  const config: TokenizerConfig = { splitter: 'words', normalize: 'nfkc', lowercase: true, max_length: 512, subword_min: 0, subword_max: 0, subword_buckets: 0, bigram_buckets: 0, most_common: 1e9, min_count: 1 };
  const t0 = performance.now();
  const docs = train.map((r) => words(config, r.text).words);
  const vocab = new Map<string, number>();
  const df: number[] = [];
  for (const d of docs) for (const w of new Set(d)) {
    if (!vocab.has(w)) (vocab.set(w, vocab.size), df.push(0));
    df[vocab.get(w)!]++;
  }
  const idf = df.map((n) => Math.log((1 + docs.length) / (1 + n)) + 1);
  const vectorise = (texts: string[]) => {
    const x = new Float32Array(texts.length * vocab.size);
    texts.forEach((t, r) => {
      const counts = new Map<number, number>();
      for (const w of words(config, t).words) {
        const i = vocab.get(w);
        if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
      }
      let norm = 0;
      for (const [i, n] of counts) norm += (n * idf[i]) ** 2;
      norm = Math.sqrt(norm) || 1;
      for (const [i, n] of counts) x[r * vocab.size + i] = (n * idf[i]) / norm;
    });
    return tf.tensor2d(x, [texts.length, vocab.size]);
  };
  const x = vectorise(train.map((r) => r.text));
  const y = tf.oneHot(tf.tensor1d(train.map((r) => r.y), 'int32'), k);
  const w = tf.variable(tf.randomNormal([vocab.size, k], 0, 0.01, 'float32', seed));
  const b = tf.variable(tf.zeros([k]));
  const opt = tf.train.adam(0.1);
  // L2 of 1e-4, sklearn-like regularisation at this scale; 100 full-batch steps converge on small corpora.
  for (let i = 0; i < 100; i++) opt.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, w), b)), tf.mul(1e-4, tf.sum(tf.square(w)))) as tf.Scalar);
  const trainS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const xt = vectorise(test.map((r) => r.text));
  const probs = tf.tidy(() => tf.softmax(tf.add(tf.matMul(xt, w), b)).dataSync() as Float32Array);
  const predictS = (performance.now() - t1) / 1000;
  tf.dispose([x, y, w, b, xt]);
  opt.dispose();
  return { ...score(probs, test.map((r) => r.y), k), train_s: round(trainS, 2), predict_texts_per_s: Math.round(test.length / predictS) };
}

/** fastText itself (fasttext.wasm.js, one thread), its small-data recipe (-lr 1.0 -epoch 25 -wordNgrams 2) with flash's subwords. */
async function fastText(train: { text: string; y: number }[], test: { text: string; y: number }[], labels: string[], seed: number) {
  // Not a dependency of flash: a devDependency, loaded only here.
  const { getFastTextClass, getFastTextModule } = (await import('fasttext.wasm.js' as string)) as {
    getFastTextClass(o: { getFastTextModule: unknown }): Promise<new () => { trainSupervised(url: string, kw: Record<string, unknown>, cb: () => void): Promise<{ predict(t: string, k: number, th: number): { size(): number; get(i: number): [number, string] } }> }>;
    getFastTextModule: unknown;
  };
  const FastText = await getFastTextClass({ getFastTextModule });
  const clean = (t: string) => t.replace(/\s+/g, ' ').toLowerCase();
  const t0 = performance.now();
  const lines = train.map((r) => `__label__${labels[r.y].replace(/\s/g, '_')} ${clean(r.text)}`).join('\n') + '\n';
  // trainSupervised fetch()es its input and Node's fetch reads no file paths, so the file goes as a data: URL; the
  // package passes the string 'hs' as the loss unless one is given (an embind error), and calls the callback.
  const model = await new FastText().trainSupervised(`data:text/plain;base64,${Buffer.from(lines).toString('base64')}`, { lr: 1.0, epoch: 25, wordNgrams: 2, minn: 3, maxn: 5, dim: 64, bucket: 200000, loss: 'softmax', verbose: 0, seed }, () => undefined);
  const trainS = (performance.now() - t0) / 1000;
  const index = new Map(labels.map((l, i) => [`__label__${l.replace(/\s/g, '_')}`, i]));
  const probs = new Float32Array(test.length * labels.length);
  const t1 = performance.now();
  test.forEach((r, i) => {
    const v = model.predict(clean(r.text), -1, 0);
    for (let j = 0; j < v.size(); j++) {
      const [p, label] = v.get(j);
      const c = index.get(label);
      if (c !== undefined) probs[i * labels.length + c] = p;
    }
  });
  const predictS = (performance.now() - t1) / 1000;
  return { ...score(probs, test.map((r) => r.y), labels.length), train_s: round(trainS, 2), predict_texts_per_s: Math.round(test.length / predictS) };
}

runBench(async () => {
  const seeds = intArg('seeds', values.seeds, 3);
  const epochs = intArg('epochs', values.epochs, 5);
  const demo = demoCorpus();
  const trainFile = values.train_file ?? demo.train;
  const testFile = values.test_file ?? demo.test;
  const backend = await selectBackend(values.backend!);
  const models = values.models!.split(',');
  log(`backend ${backend.name}; train ${trainFile}; test ${testFile}; models ${models.join(', ')}`);
  const fields = { inputField: values.input_field!, targetFields: [values.target_field!] };
  const rawTest = await readCsvTexts(testFile, fields);
  const corpus = values.corpus ?? (trainFile === demo.train ? 'demo' : trainFile);
  const [cpuStart, ownStart] = cpuJiffies();
  const wallStart = performance.now();
  const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'text', corpus, ...o })}\n`);
  for (let seed = 1; seed <= seeds; seed++) {
    const data = await TextClassificationData.fromCsv({ train_file: trainFile, input_field: fields.inputField, target_fields: fields.targetFields, val_split: 0, seed, max_length: 256 });
    const texts = rawTest.map((r) => r.text);
    const y = rawTest.map((r) => data.labels.indexOf(String(r.targets[0])));
    const train = data.train.ids.map((_, i) => ({ text: data.train.texts![i], y: data.train.targets[i][0] }));
    const test = rawTest.map((r, i) => ({ text: r.text, y: y[i] }));
    for (const model of models) {
      if (model === 'tfidf_logreg') {
        line({ model, seed, ...(await tfidfLogReg(train, test, data.labels.length, seed)), backend: backend.name });
        continue;
      }
      if (model === 'fasttext') {
        line({ model, seed, ...(await fastText(train, test, data.labels, seed)), threads: 1 });
        continue;
      }
      const backbone = model.replace(/^flash_/, '');
      const t0 = performance.now();
      // The tokenizer is fitted again, inside the timed part: training from raw text is what is measured.
      const fresh = await TextClassificationData.fromCsv({ train_file: trainFile, input_field: fields.inputField, target_fields: fields.targetFields, val_split: 0, seed, max_length: 256 });
      const clf = new TextClassifier({ labels: fresh.labels, tokenizer: fresh.tokenizer, multiLabel: false, backbone, learningRate: 0.01 });
      clf.setup(fresh);
      const trainer = new Trainer({ maxEpochs: epochs, seed, log: () => undefined, warn: () => undefined });
      await trainer.fit(clf, fresh);
      trainer.dispose();
      const trainS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const preds = await clf.predict(texts, { batchSize: 256 });
      const predictS = (performance.now() - t1) / 1000;
      const probs = new Float32Array(texts.length * fresh.labels.length);
      // Same label order as data.labels (both sorted), checked rather than assumed.
      if (fresh.labels.join('\u0000') !== data.labels.join('\u0000')) throw new Error('label order differs between fits');
      preds.forEach((p, i) => probs.set(p.probs, i * fresh.labels.length));
      line({ model, seed, epochs, ...score(probs, y, fresh.labels.length), train_s: round(trainS, 2), predict_texts_per_s: Math.round(texts.length / predictS), backend: backend.name });
      clf.dispose();
    }
  }
  const [cpuEnd, ownEnd] = cpuJiffies();
  const wallS = (performance.now() - wallStart) / 1000;
  const others = (cpuEnd - cpuStart - (ownEnd - ownStart)) / HZ / wallS;
  line({ model: 'machine', other_processes_cores: round(others, 2), contended: others > CONTENDED_CORES, wall_s: round(wallS, 1), date: new Date().toISOString() });
});
