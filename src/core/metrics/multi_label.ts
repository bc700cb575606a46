/**
 * Multi-label metrics: each example has any number of true labels (`targets`, 0/1 per label) and the model
 * predicts every label whose sigmoid probability is at least `threshold` (default 0.5). Conventions follow
 * scikit-learn's multilabel `precision_recall_fscore_support` with `zero_division=0`:
 *
 * - per label c: tp/fp/fn count the examples where c is predicted and/or true;
 * - micro F1 = 2·Σtp / (2·Σtp + Σfp + Σfn) over all (example, label) cells;
 * - macro F1 = mean of per-label F1 over the labels true or predicted somewhere (as the single-label macro
 *   metrics do: a label absent from both is left out rather than counted as 0);
 * - Hamming accuracy = fraction of (example, label) cells decided right; subset accuracy = fraction of examples
 *   whose predicted label set equals the true one exactly (scikit-learn's `accuracy_score` on multilabel data).
 *
 * On single-label input the same functions read the arg-max as the one predicted label and the true class as the
 * one true label, so `f1_micro` equals accuracy there and the metrics can be listed for either kind of data.
 */
import { argmaxRows } from './argmax.js';
import type { ClassCounts } from './confusion.js';
import { DEFAULT_THRESHOLD, validateInput, type Metric, type MetricInput } from './types.js';

/** Predicted and true 0/1 decisions, `[n * k]` row-major each. */
export interface Decisions {
  pred: Uint8Array;
  truth: Uint8Array;
  n: number;
  k: number;
}

/** The 0/1 decisions of an input: thresholded probabilities (multi-label) or one-hot arg-max (single-label). */
export function decisions(input: MetricInput): Decisions {
  validateInput(input);
  const { probs, labels, numClasses: k } = input;
  const n = labels.length;
  const pred = new Uint8Array(n * k);
  if (input.targets !== undefined) {
    const t = input.threshold ?? DEFAULT_THRESHOLD;
    for (let i = 0; i < n * k; i++) pred[i] = probs[i] >= t ? 1 : 0;
    return { pred, truth: input.targets, n, k };
  }
  const truth = new Uint8Array(n * k);
  const top = argmaxRows(probs, k);
  for (let i = 0; i < n; i++) {
    pred[i * k + top[i]] = 1;
    truth[i * k + labels[i]] = 1;
  }
  return { pred, truth, n, k };
}

/** Per-label tp/fp/fn counts of 0/1 decisions (`support` = examples where the label is true). */
export function labelCounts(d: Decisions): ClassCounts {
  const { pred, truth, n, k } = d;
  const tp = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0);
  const predicted = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const p = pred[i * k + c];
      const y = truth[i * k + c];
      support[c] += y;
      predicted[c] += p;
      tp[c] += p & y;
    }
  }
  return { tp, fp: predicted.map((v, c) => v - tp[c]), fn: support.map((v, c) => v - tp[c]), support, predicted };
}

/** Micro-averaged F1 over every (example, label) cell; NaN on an empty input, 0 when nothing is true or predicted. */
export function f1MicroValue(input: MetricInput): number {
  const d = decisions(input);
  if (d.n === 0) return NaN;
  const c = labelCounts(d);
  const tp = c.tp.reduce((a, b) => a + b, 0);
  const fp = c.fp.reduce((a, b) => a + b, 0);
  const fn = c.fn.reduce((a, b) => a + b, 0);
  return 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/** Fraction of (example, label) cells decided right. */
export function hammingAccuracyValue(input: MetricInput): number {
  const d = decisions(input);
  if (d.n === 0) return NaN;
  let right = 0;
  for (let i = 0; i < d.pred.length; i++) if (d.pred[i] === d.truth[i]) right++;
  return right / d.pred.length;
}

/** Fraction of examples whose predicted label set is exactly the true one. */
export function subsetAccuracyValue(input: MetricInput): number {
  const d = decisions(input);
  if (d.n === 0) return NaN;
  let exact = 0;
  for (let i = 0; i < d.n; i++) {
    let same = true;
    for (let c = 0; c < d.k && same; c++) same = d.pred[i * d.k + c] === d.truth[i * d.k + c];
    if (same) exact++;
  }
  return exact / d.n;
}

export const f1Micro: Metric = {
  name: 'f1_micro',
  description: 'F1 over all (sample, label) decisions pooled: 2Σtp/(2Σtp+Σfp+Σfn) (multi-label; equals accuracy for single-label)',
  higherIsBetter: true,
  compute: f1MicroValue,
};

export const hammingAccuracy: Metric = {
  name: 'hamming_accuracy',
  description: 'fraction of (sample, label) yes/no decisions that are right (multi-label)',
  higherIsBetter: true,
  compute: hammingAccuracyValue,
};

export const subsetAccuracy: Metric = {
  name: 'subset_accuracy',
  description: "fraction of samples whose predicted label set is exactly the true one (multi-label; equals accuracy for single-label)",
  higherIsBetter: true,
  compute: subsetAccuracyValue,
};
