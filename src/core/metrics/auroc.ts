import { validateInput, type Metric, type MetricInput } from './types.js';

/**
 * One-vs-rest AUROC of class `c`: the probability that a random example of class `c` gets a higher
 * `probs[:, c]` than a random example of another class, ties counting one half. Computed exactly as the
 * Mann–Whitney U statistic with midranks (equal to the trapezoidal area under the ROC curve):
 *
 *   AUROC_c = (sum of the midranks of the positives − P(P+1)/2) / (P · N)
 *
 * where ranks are 1-based over all n scores ascending and tied scores share the mean of their ranks.
 * NaN when class `c` has no positives or no negatives (undefined), or when any score in the column is NaN.
 */
export function aurocOneVsRest(input: MetricInput, c: number): number {
  validateInput(input);
  const { probs, labels, numClasses: k } = input;
  if (!Number.isInteger(c) || c < 0 || c >= k) throw new RangeError(`class ${c} is outside [0, ${k})`);
  const n = labels.length;
  // Multi-label: positives are the examples carrying label c (targets), scored by their own sigmoid output.
  const targets = input.targets;
  const positive = targets !== undefined ? (i: number) => targets[i * k + c] === 1 : (i: number) => labels[i] === c;
  let pos = 0;
  for (let i = 0; i < n; i++) if (positive(i)) pos++;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = probs[i * k + c];
    if (Number.isNaN(s)) return NaN;
    scores[i] = s;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    // positions start..end-1 (0-based) hold a tie group; their 1-based ranks start+1..end average to:
    const midrank = (start + 1 + end) / 2;
    for (let j = start; j < end; j++) if (positive(order[j])) rankSumPos += midrank;
    start = end;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Macro one-vs-rest AUROC: the unweighted mean of `aurocOneVsRest` over the classes for which it is defined
 * (at least one positive and one negative example); classes absent from the labels are left out rather than
 * counted as 0 or 0.5. NaN when no class remains (for example n = 0 or a single class in the labels).
 * With every class present this equals scikit-learn's `roc_auc_score(multi_class='ovr', average='macro')`;
 * for two classes both per-class values equal the binary AUROC of `probs[:, 1]`.
 */
export function aurocMacro(input: MetricInput): number {
  let sum = 0;
  let count = 0;
  for (let c = 0; c < input.numClasses; c++) {
    const a = aurocOneVsRest(input, c);
    if (!Number.isNaN(a)) {
      sum += a;
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}

export const auroc: Metric = {
  name: 'auroc_macro',
  description: 'one-vs-rest area under the ROC curve, averaged over classes with both positives and negatives',
  higherIsBetter: true,
  compute: aurocMacro,
};
