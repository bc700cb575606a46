import { validateInput } from './types.js';

/**
 * The predicted class of each row of a row-major `[n * k]` probability matrix.
 * Ties go to the lowest class index (as `tf.argMax` and `numpy.argmax` do); NaN entries are skipped,
 * and a row that is all NaN predicts class 0.
 */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (probs.length % k !== 0) throw new RangeError(`probs.length ${probs.length} is not a multiple of k = ${k}`);
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let best = 0;
    let bestVal = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = probs[base + c];
      if (v > bestVal) {
        bestVal = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** `argmaxRows` of a validated metric input. */
export function predictions(input: { probs: Float32Array; labels: Int32Array; numClasses: number }): Int32Array {
  validateInput(input);
  return argmaxRows(input.probs, input.numClasses);
}
