/**
 * What a text run's end says beyond its metrics, and writes to report.json: per class, the vocabulary words that
 * weigh most for it, and the texts of the evaluated split the best model got most confidently wrong.
 */
import * as tf from '@tensorflow/tfjs';
import { runSplit } from '../../src/core/trainer/evaluate.js';
import type { TextSplit } from './data.js';
import type { TextClassifier } from './model.js';
import { inputTensor } from './input.js';

export interface TextReport {
  split: string;
  /** Per class: the words whose own logit for the class is highest, best first. */
  top_words: Record<string, { word: string; weight: number }[]>;
  /** Single-label: wrong predictions, the most confident first. */
  confidently_wrong: { id: string; text: string; label: string; predicted: string; score: number }[];
}

/**
 * Each vocabulary word's logit contribution per class. fasttext: (E · W)[word, class], the word's own embedding row
 * through the linear layer (the bias is the same for every word; hashed subwords and bigrams have no names, so only
 * words are listed). Other backbones: the logits of a text made of that word alone, less the mean over words.
 */
export function topWords(clf: TextClassifier, n: number): TextReport['top_words'] {
  const net = clf.network();
  const v = clf.tokenizer.vocab.length;
  const k = clf.labels.length;
  const scores = net.layers.some((l) => l.name === 'embedding_bag') ? bagScores(clf, v) : aloneScores(clf, v, k);
  const out: TextReport['top_words'] = {};
  clf.labels.forEach((label, c) => {
    const rows: { word: string; weight: number }[] = [];
    for (let w = 1; w < v; w++) rows.push({ word: clf.tokenizer.vocab[w], weight: scores[w * k + c] });
    out[label] = rows.sort((a, b) => b.weight - a.weight).slice(0, n);
  });
  return out;
}

function bagScores(clf: TextClassifier, v: number): Float32Array {
  const net = clf.network();
  const bag = net.getLayer('embedding_bag').getWeights()[0];
  const linear = net.getLayer('logits').getWeights()[0];
  // The dense layout of older runs has word w at row w; the bag layout shifts every id by one (0 is padding).
  const first = clf.input.layout === 'dense' ? 0 : 1;
  return tf.tidy(() => tf.matMul(tf.slice(bag, [first, 0], [v, -1]), linear).dataSync() as Float32Array);
}

function aloneScores(clf: TextClassifier, v: number, k: number): Float32Array {
  const logitsNet = clf.trainingNetwork();
  const out = new Float32Array(v * k);
  const batch = 512;
  for (let i = 0; i < v; i += batch) {
    const m = Math.min(batch, v - i);
    const encoded = Array.from({ length: m }, (_, r) => ({ ids: new Int32Array(0), weights: new Float32Array(0), tokens: new Int32Array([i + r]), sequence: new Int32Array([i + r]), words: 1, truncated: false }));
    const x = inputTensor(clf.input, clf.tokenizer, encoded);
    const logits = tf.tidy(() => logitsNet.predict(x) as tf.Tensor);
    out.set(logits.dataSync() as Float32Array, i * k);
    tf.dispose([x, logits]);
  }
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let w = 0; w < v; w++) mean += out[w * k + c];
    mean /= v;
    for (let w = 0; w < v; w++) out[w * k + c] -= mean;
  }
  return out;
}

/** The single-label split's wrong predictions, the most confident first (at most `n`). */
export async function confidentlyWrong(clf: TextClassifier, split: TextSplit, n: number, batchSize: number): Promise<TextReport['confidently_wrong']> {
  if (clf.multiLabel) return [];
  const out = await runSplit(clf, split, batchSize, false);
  const k = clf.labels.length;
  const byId = new Map(split.ids.map((id, i) => [id, i]));
  const wrong: TextReport['confidently_wrong'] = [];
  out.ids.forEach((id, i) => {
    const p = out.probs.subarray(i * k, (i + 1) * k);
    let best = 0;
    for (let c = 1; c < k; c++) if (p[c] > p[best]) best = c;
    if (best === out.labels[i]) return;
    const j = byId.get(id)!;
    wrong.push({ id, text: split.texts?.[j] ?? '', label: clf.labels[out.labels[i]], predicted: clf.labels[best], score: p[best] });
  });
  return wrong.sort((a, b) => b.score - a.score).slice(0, n);
}
