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
}

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
  checkLabels(labels, k, 'labels');
}

/** Throws when some entry of `arr` is outside `[0, k)`. */
export function checkLabels(arr: Int32Array, k: number, what: string): void {
  for (let i = 0; i < arr.length; i++) {
    const y = arr[i];
    if (y < 0 || y >= k) throw new RangeError(`${what}[${i}] = ${y} is outside [0, ${k})`);
  }
}
