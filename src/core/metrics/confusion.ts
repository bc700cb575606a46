import { checkLabels } from './types.js';

/**
 * The `k × k` confusion matrix: `m[t][p]` counts examples whose true class is `t` and predicted class is `p`
 * (rows = true, columns = predicted, as in scikit-learn).
 */
export function confusionMatrix(pred: Int32Array, labels: Int32Array, k: number): number[][] {
  if (pred.length !== labels.length) {
    throw new RangeError(`pred has ${pred.length} entries but labels has ${labels.length}`);
  }
  checkLabels(pred, k, 'pred');
  checkLabels(labels, k, 'labels');
  const m: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][pred[i]]++;
  return m;
}

/** Per-class counts derived from predictions and labels. */
export interface ClassCounts {
  /** True positives per class: predicted `c` and truly `c`. */
  tp: number[];
  /** False positives per class: predicted `c`, truly something else. */
  fp: number[];
  /** False negatives per class: truly `c`, predicted something else. */
  fn: number[];
  /** Support per class: number of examples truly `c` (= tp + fn). */
  support: number[];
  /** Number of examples predicted `c` (= tp + fp). */
  predicted: number[];
}

/** Per-class tp / fp / fn / support counts. */
export function classCounts(pred: Int32Array, labels: Int32Array, k: number): ClassCounts {
  const tp = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0);
  const predicted = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const p = pred[i];
    support[y]++;
    predicted[p]++;
    if (p === y) tp[y]++;
  }
  const fp = predicted.map((v, c) => v - tp[c]);
  const fn = support.map((v, c) => v - tp[c]);
  return { tp, fp, fn, support, predicted };
}

/**
 * The classes a macro average runs over: those present in the labels or in the predictions (or both),
 * in increasing order. This is scikit-learn's `unique_labels(y_true, y_pred)`, the default `labels=None`.
 */
export function presentClasses(counts: ClassCounts): number[] {
  const out: number[] = [];
  for (let c = 0; c < counts.support.length; c++) {
    if (counts.support[c] > 0 || counts.predicted[c] > 0) out.push(c);
  }
  return out;
}
