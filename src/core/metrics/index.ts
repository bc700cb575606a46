/**
 * Classification (and regression: regression.ts) metrics on plain arrays, and the `metrics` registry the trainer, the CLI and `flash list` read.
 *
 * Conventions (shared by every metric; each file documents its own details):
 * - Predicted class = arg-max of the row, ties to the lowest class index (`argmaxRows`).
 * - Macro precision / recall / F1 average over the classes present in the labels OR the predictions — exactly
 *   scikit-learn's `average='macro'` with `labels=None` (`unique_labels(y_true, y_pred)`) and `zero_division=0`:
 *   a class never predicted has precision 0, a class never true has recall 0, F1 = 2tp/(2tp+fp+fn) or 0.
 *   A class in neither is left out of the mean. Macro F1 is the mean of per-class F1 scores.
 * - AUROC is one-vs-rest on `probs[:, c]`, computed exactly with midranks for ties (= trapezoidal ROC area);
 *   a class with no positives or no negatives is left out of the macro mean; NaN when none remains.
 * - Multi-label input (`targets`, sigmoid probabilities): a label is predicted at probability >= `threshold`; the
 *   macro metrics, per-class report and AUROC run per label; `f1_micro`, `hamming_accuracy` and `subset_accuracy`
 *   are the multi-label scores (multi_label.ts); arg-max metrics (accuracy, top-k, log_loss) refuse it.
 * - Every metric is NaN on an empty input (n = 0). Shape mismatches and out-of-range labels throw RangeError.
 */
import { Registry } from '../registry.js';
import { accuracy } from './accuracy.js';
import { auroc } from './auroc.js';
import { f1Macro } from './f1.js';
import { logLoss } from './log_loss.js';
import { f1Micro, hammingAccuracy, subsetAccuracy } from './multi_label.js';
import { precisionMacro } from './precision.js';
import { recallMacro } from './recall.js';
import { mae, mse, r2, rmse } from './regression.js';
import { topKAccuracy } from './top_k.js';
import type { Metric, MetricInput } from './types.js';

export type { Metric, MetricInput } from './types.js';
export { validateInput, DEFAULT_THRESHOLD } from './types.js';
export { decisions, labelCounts, f1MicroValue, hammingAccuracyValue, subsetAccuracyValue, type Decisions } from './multi_label.js';
export { argmaxRows } from './argmax.js';
export { confusionMatrix, classCounts, presentClasses, type ClassCounts } from './confusion.js';
export { perClassPrf, macroPrf } from './prf.js';
export { aurocOneVsRest, aurocMacro } from './auroc.js';
export { topKAccuracy, topKAccuracyValue } from './top_k.js';
export { perClassReport, type ClassReportRow } from './report.js';
export { accuracy, precisionMacro, recallMacro, f1Macro, auroc, logLoss, mse, rmse, mae, r2 };

/** Every metric flash can report. One file per metric, one `register` line here. */
export const metrics = new Registry<Metric>('metric');
for (const m of [accuracy, f1Macro, precisionMacro, recallMacro, auroc, topKAccuracy(3), topKAccuracy(5), logLoss, f1Micro, hammingAccuracy, subsetAccuracy, mse, rmse, mae, r2]) {
  metrics.register(m.name, m, m.description);
}

/**
 * The named metrics on one input, as `{ name: value }` in the order given.
 * An unknown name throws the registry's user error (with a "did you mean" suggestion).
 */
export function computeMetrics(input: MetricInput, names: string[]): Record<string, number> {
  const selected = names.map((name) => [name, metrics.get(name)] as const);
  const out: Record<string, number> = {};
  for (const [name, metric] of selected) out[name] = metric.compute(input);
  return out;
}
