/**
 * What a text run's end says beyond its metrics, and writes to report.json: per class, the vocabulary words that
 * weigh most for it, and the texts of the evaluated split the best model got most confidently wrong.
 */
import * as tf from '@tensorflow/tfjs';
import { runSplit } from '../../src/core/trainer/evaluate.js';
import type { TextSplit } from './data.js';
import type { TextClassifier } from './model.js';

export interface TextReport {
  split: string;
  /** Per class: the words whose own logit for the class is highest, best first. */
  top_words: Record<string, { word: string; weight: number }[]>;
  /** Single-label: wrong predictions, the most confident first. */
  confidently_wrong: { id: string; text: string; label: string; predicted: string; score: number }[];
}

/**
 * Each vocabulary word's logit contribution per class, a text made of that word alone: (E · W)[word, class]
 * (the bias is the same for every word). Hashed subwords and bigrams have no names, so only words are listed.
 */
export function topWords(clf: TextClassifier, n: number): TextReport['top_words'] {
  const net = clf.network();
  const bag = net.getLayer('embedding_bag').getWeights()[0];
  const linear = net.getLayer('logits').getWeights()[0];
  const v = clf.tokenizer.vocab.length;
  const k = clf.labels.length;
  const scores = tf.tidy(() => tf.matMul(tf.slice(bag, [0, 0], [v, -1]), linear).dataSync() as Float32Array);
  const out: TextReport['top_words'] = {};
  clf.labels.forEach((label, c) => {
    const rows: { word: string; weight: number }[] = [];
    for (let w = 1; w < v; w++) rows.push({ word: clf.tokenizer.vocab[w], weight: scores[w * k + c] });
    out[label] = rows.sort((a, b) => b.weight - a.weight).slice(0, n);
  });
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
