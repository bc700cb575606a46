/** One-vs-rest precision-recall and ROC curves per class, from row-major class probabilities. */

export interface CurvePoint {
  x: number;
  y: number;
}

export interface ClassCurves {
  label: string;
  /** Number of examples of this class. */
  positives: number;
  /** Precision (y) against recall (x), from recall 0 (precision 1) to recall 1; empty without positives. */
  pr: CurvePoint[];
  /** Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over thresholds (scikit-learn's `average_precision_score`); NaN without positives. */
  ap: number;
  /** True-positive rate (y) against false-positive rate (x), (0,0) → (1,1); empty without positives or negatives. */
  roc: CurvePoint[];
  /** Trapezoidal area under `roc` (equals the midrank AUROC); NaN when undefined. */
  auc: number;
}

/**
 * Curves of class `c` against the rest. Thresholds are the distinct scores, highest first, so tied scores move
 * the curve in one step (as scikit-learn's `precision_recall_curve` / `roc_curve` do). With multi-label
 * `targets` ([n × k] 0/1), an example is a positive of label `c` when its target is 1 (`labels` gives only n).
 */
export function classCurves(probs: Float32Array, labels: Int32Array, k: number, c: number, label = String(c), targets?: Uint8Array): ClassCurves {
  const n = labels.length;
  const isPositive = targets ? (i: number) => targets[i * k + c] === 1 : (i: number) => labels[i] === c;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b * k + c] - probs[a * k + c]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (isPositive(i)) positives++;
  const negatives = n - positives;
  const pr: CurvePoint[] = [];
  const roc: CurvePoint[] = [];
  let ap = 0;
  let auc = 0;
  if (positives > 0) pr.push({ x: 0, y: 1 });
  if (positives > 0 && negatives > 0) roc.push({ x: 0, y: 0 });
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; ) {
    const s = probs[order[i] * k + c];
    while (i < n && probs[order[i] * k + c] === s) {
      if (isPositive(order[i])) tp++;
      else fp++;
      i++;
    }
    if (positives > 0) {
      const recall = tp / positives;
      const precision = tp / (tp + fp);
      ap += (recall - pr[pr.length - 1].x) * precision;
      pr.push({ x: recall, y: precision });
    }
    if (positives > 0 && negatives > 0) {
      const prev = roc[roc.length - 1];
      const pt = { x: fp / negatives, y: tp / positives };
      auc += ((pt.x - prev.x) * (pt.y + prev.y)) / 2;
      roc.push(pt);
    }
  }
  return {
    label,
    positives,
    pr,
    ap: positives > 0 ? ap : NaN,
    roc,
    auc: positives > 0 && negatives > 0 ? auc : NaN,
  };
}

/** Curves for every class, in class-index order. */
export function allClassCurves(probs: Float32Array, labels: Int32Array, names: string[], targets?: Uint8Array): ClassCurves[] {
  return names.map((name, c) => classCurves(probs, labels, names.length, c, name, targets));
}

/**
 * Keeps at most `max` points of a curve for plotting (first and last always kept, evenly spaced in between);
 * the areas are computed on the full curve first.
 */
export function thin(points: CurvePoint[], max = 200): CurvePoint[] {
  if (points.length <= max) return points;
  const out: CurvePoint[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let j = 0; j < max; j++) out.push(points[Math.round(j * step)]);
  return out;
}
