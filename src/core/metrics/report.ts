import { predictions } from './argmax.js';
import { aurocOneVsRest } from './auroc.js';
import { classCounts } from './confusion.js';
import { decisions, labelCounts } from './multi_label.js';
import { perClassPrf } from './prf.js';
import type { MetricInput } from './types.js';

/** One row of `perClassReport`. */
export interface ClassReportRow {
  label: string;
  /** tp / (tp + fp); 0 when the class is never predicted. */
  precision: number;
  /** tp / (tp + fn); 0 when the class never occurs in the labels. */
  recall: number;
  /** 2tp / (2tp + fp + fn); 0 when tp + fp + fn = 0. */
  f1: number;
  /** Number of examples whose true class is this one (multi-label: that carry this label). */
  support: number;
  /** One-vs-rest AUROC; NaN when the class has no positives or no negatives. */
  auroc: number;
}

/**
 * A per-class table (one row per class, in class-index order, every class included even when absent),
 * with the same conventions as the macro metrics (scikit-learn's `classification_report`, `zero_division=0`).
 */
export function perClassReport(input: MetricInput, labelNames: string[]): ClassReportRow[] {
  const k = input.numClasses;
  if (labelNames.length !== k) {
    throw new RangeError(`labelNames has ${labelNames.length} names but numClasses = ${k}`);
  }
  const counts = input.targets !== undefined ? labelCounts(decisions(input)) : classCounts(predictions(input), input.labels, k);
  const { precision, recall, f1 } = perClassPrf(counts);
  return labelNames.map((label, c) => ({
    label,
    precision: precision[c],
    recall: recall[c],
    f1: f1[c],
    support: counts.support[c],
    auroc: aurocOneVsRest(input, c),
  }));
}
