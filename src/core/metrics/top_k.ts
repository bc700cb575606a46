import { assertSingleLabel, validateInput, type Metric, type MetricInput } from './types.js';

/**
 * Fraction of examples whose true class is among the `topK` most probable classes. The rank of the true class
 * is 1 + (classes with a strictly higher probability) + (classes with an equal probability and a lower index),
 * the same tie rule as `argmaxRows`, so top-1 accuracy equals `accuracy`. Equals 1 when topK ≥ numClasses
 * (and n > 0); NaN when n = 0.
 */
export function topKAccuracyValue(input: MetricInput, topK: number): number {
  validateInput(input);
  assertSingleLabel(input, `top${topK}_accuracy`, 'f1_micro or f1_macro');
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`topK must be a positive integer, got ${topK}`);
  const { probs, labels, numClasses: k } = input;
  const n = labels.length;
  if (n === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    const y = labels[i];
    const s = probs[base + y];
    let above = 0;
    for (let c = 0; c < k && above < topK; c++) {
      const v = probs[base + c];
      if (v > s || (v === s && c < y) || Number.isNaN(s)) above++;
    }
    if (above < topK) hits++;
  }
  return hits / n;
}

/** A top-k accuracy metric named `top<k>_accuracy`. */
export function topKAccuracy(topK: number): Metric {
  return {
    name: `top${topK}_accuracy`,
    description: `fraction of examples whose true class is among the ${topK} most probable classes`,
    higherIsBetter: true,
    compute: (input) => topKAccuracyValue(input, topK),
  };
}
