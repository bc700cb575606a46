import { predictions } from './argmax.js';
import { classCounts, presentClasses, type ClassCounts } from './confusion.js';
import { decisions, labelCounts } from './multi_label.js';
import type { MetricInput } from './types.js';

/**
 * Per-class precision, recall and F1, with scikit-learn's `zero_division=0`:
 *
 * - precision_c = tp / (tp + fp), and 0 when class c is never predicted;
 * - recall_c    = tp / (tp + fn), and 0 when class c never occurs in the labels;
 * - f1_c        = 2·tp / (2·tp + fp + fn) (the harmonic mean of the two), and 0 when tp + fp + fn = 0.
 */
export function perClassPrf(counts: ClassCounts): { precision: number[]; recall: number[]; f1: number[] } {
  const k = counts.tp.length;
  const precision = new Array<number>(k);
  const recall = new Array<number>(k);
  const f1 = new Array<number>(k);
  for (let c = 0; c < k; c++) {
    const { tp, fp, fn } = { tp: counts.tp[c], fp: counts.fp[c], fn: counts.fn[c] };
    precision[c] = tp + fp > 0 ? tp / (tp + fp) : 0;
    recall[c] = tp + fn > 0 ? tp / (tp + fn) : 0;
    f1[c] = 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  }
  return { precision, recall, f1 };
}

/**
 * The macro average of one per-class quantity, over the classes present in the labels or the predictions
 * (scikit-learn's `average='macro'` with `labels=None`): a class that appears in neither does not count,
 * a class that appears only in the predictions counts with recall 0, one only in the labels with precision 0.
 * NaN when there are no examples. Multi-label input (`targets`) counts each label's thresholded decisions.
 */
export function macroPrf(input: MetricInput, which: 'precision' | 'recall' | 'f1'): number {
  // Multi-label: per-label counts of the thresholded decisions (multi_label.ts), same averaging rule.
  const counts = input.targets !== undefined ? labelCounts(decisions(input)) : classCounts(predictions(input), input.labels, input.numClasses);
  const classes = presentClasses(counts);
  if (classes.length === 0) return NaN;
  const values = perClassPrf(counts)[which];
  let sum = 0;
  for (const c of classes) sum += values[c];
  return sum / classes.length;
}
