import { FlashUserError } from '../errors.js';

/**
 * Metric types shared by every metric file.
 *
 * Metrics are pure TypeScript on plain typed arrays (no tensors), so a trainer can accumulate an epoch's
 * predictions on the CPU and compute everything once at the end.
 */

/** What every metric reads: the model's softmax output and the true labels of `n` examples. */
export interface MetricInput {
  /** `[n * numClasses]` row-major class probabilities (softmax output); row `i` is example `i`. */
  probs: Float32Array;
  /** `[n]` true class indices in `[0, numClasses)`. */
  labels: Int32Array;
  /** Number of classes `k`; `probs.length` must be `labels.length * numClasses`. */
  numClasses: number;
  /**
   * Multi-label data: `[n * numClasses]` row-major 0/1 targets (sigmoid outputs in `probs`). `labels` then only
   * gives `n` (its values are not read). Metrics that only make sense for one class per example refuse it.
   */
  targets?: Uint8Array;
  /** Multi-label: a label is predicted when its probability is at least this. Default 0.5. */
  threshold?: number;
  /**
   * Regression data: `[n]` true values; `probs` then holds the `n` predictions (numClasses 1) and `labels` only
   * gives `n`. Only the regression metrics (mse, rmse, mae, r2) read it; they refuse input without it.
   */
  values?: Float32Array;
}

/** The default decision threshold of multi-label predictions. */
export const DEFAULT_THRESHOLD = 0.5;

/** One named metric. Adding one is one file plus one `register` line in `index.ts`. */
export interface Metric {
  name: string;
  /** One line, shown by `flash list` and `--help`. */
  description: string;
  /** True for scores (accuracy, F1, AUROC), false for losses; used to pick the best checkpoint. */
  higherIsBetter: boolean;
  /** The metric over all `n` examples; NaN where it is undefined (for example `n = 0`). */
  compute(input: MetricInput): number;
}

/**
 * Throws (a programming error, not a user error) when the arrays disagree in shape or a label is out of range.
 * Every exported function calls it first.
 */
export function validateInput(input: MetricInput): void {
  const { probs, labels, numClasses: k } = input;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`numClasses must be a positive integer, got ${k}`);
  if (probs.length !== labels.length * k) {
    throw new RangeError(
      `probs has ${probs.length} values but labels.length * numClasses = ${labels.length} * ${k} = ${labels.length * k}`,
    );
  }
  if (input.targets !== undefined) {
    if (input.targets.length !== labels.length * k) {
      throw new RangeError(`targets has ${input.targets.length} values but labels.length * numClasses = ${labels.length * k}`);
    }
    return;
  }
  checkLabels(labels, k, 'labels');
}

/** Refuses multi-label input for a metric defined by one true class per example (a user error naming it). */
export function assertSingleLabel(input: MetricInput, metric: string, instead: string): void {
  if (input.targets !== undefined) {
    throw new FlashUserError(`metric '${metric}' needs one class per sample, but the data is multi-label; use ${instead}`);
  }
}

/** Throws when some entry of `arr` is outside `[0, k)`. */
export function checkLabels(arr: Int32Array, k: number, what: string): void {
  for (let i = 0; i < arr.length; i++) {
    const y = arr[i];
    if (y < 0 || y >= k) throw new RangeError(`${what}[${i}] = ${y} is outside [0, ${k})`);
  }
}
