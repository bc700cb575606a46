import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aurocOneVsRest, computeMetrics, perClassReport, type MetricInput } from '../../../src/core/metrics/index.js';
import { FlashUserError } from '../../../src/core/errors.js';

/** A multi-label input from nested rows of probabilities and 0/1 targets. */
function ml(probs: number[][], targets: number[][], threshold?: number): MetricInput {
  const k = probs[0].length;
  const input: MetricInput = {
    probs: Float32Array.from(probs.flat()),
    labels: new Int32Array(probs.length).fill(-1),
    numClasses: k,
    targets: Uint8Array.from(targets.flat()),
  };
  if (threshold !== undefined) input.threshold = threshold;
  return input;
}

function close(actual: number, expected: number, tol = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

// 4 images × 3 labels. Predictions at 0.5:
//   img0 pred {0,1}   true {0}     → label0 tp, label1 fp
//   img1 pred {2}     true {1,2}   → label2 tp, label1 fn
//   img2 pred {}      true {}      → nothing
//   img3 pred {0,2}   true {0,1}   → label0 tp, label2 fp, label1 fn
// label0: tp 2 fp 0 fn 0 → P 1, R 1, F1 1
// label1: tp 0 fp 1 fn 2 → P 0, R 0, F1 0
// label2: tp 1 fp 1 fn 0 → P 0.5, R 1, F1 2/3
// micro: tp 3, fp 2, fn 2 → F1 = 6/10 = 0.6
// Hamming: wrong cells = img0 label1, img1 label1, img3 label1, img3 label2 = 4 of 12 → 8/12
// subset: img2 only exact → 1/4
const probs = [
  [0.9, 0.6, 0.1],
  [0.2, 0.4, 0.7],
  [0.1, 0.3, 0.2],
  [0.8, 0.45, 0.55],
];
const targets = [
  [1, 0, 0],
  [0, 1, 1],
  [0, 0, 0],
  [1, 1, 0],
];

describe('multi-label metrics', () => {
  it('match a hand computation at the default threshold 0.5', () => {
    const m = computeMetrics(ml(probs, targets), ['f1_micro', 'f1_macro', 'precision_macro', 'recall_macro', 'hamming_accuracy', 'subset_accuracy']);
    close(m.f1_micro, 0.6);
    close(m.f1_macro, (1 + 0 + 2 / 3) / 3);
    close(m.precision_macro, (1 + 0 + 0.5) / 3);
    close(m.recall_macro, (1 + 0 + 1) / 3);
    close(m.hamming_accuracy, 8 / 12);
    close(m.subset_accuracy, 1 / 4);
  });

  it('per-label report: precision/recall/F1 and support = images carrying the label', () => {
    const rows = perClassReport(ml(probs, targets), ['a', 'b', 'c']);
    assert.deepEqual(rows.map((r) => r.support), [2, 2, 1]);
    close(rows[0].f1, 1);
    close(rows[1].f1, 0);
    close(rows[2].precision, 0.5);
    close(rows[2].recall, 1);
    close(rows[2].f1, 2 / 3);
  });

  it('the threshold moves the decisions', () => {
    // At 0.42 img1 label1 (0.4) stays off but img3 label1 (0.45) turns on: label1 tp 1 fp 1 fn 1.
    const m = computeMetrics(ml(probs, targets, 0.42), ['f1_micro', 'hamming_accuracy']);
    // tp 4 (l0 2, l1 1, l2 1), fp 2 (img0 l1, img3 l2), fn 1 (img1 l1) → 8 / 11
    close(m.f1_micro, 8 / 11);
    close(m.hamming_accuracy, 9 / 12);
  });

  it('a label neither true nor predicted is left out of the macro mean', () => {
    const m = computeMetrics(ml([[0.9, 0.1], [0.2, 0.1]], [[1, 0], [0, 0]]), ['f1_macro', 'f1_micro']);
    close(m.f1_macro, 1);
    close(m.f1_micro, 1);
  });

  it('AUROC per label reads the label column of targets', () => {
    // label 2 scores: 0.1 (neg), 0.7 (pos), 0.2 (neg), 0.55 (neg) → the positive outranks all 3 negatives
    close(aurocOneVsRest(ml(probs, targets), 2), 1);
    // label 1: positives img1 0.4, img3 0.45; negatives img0 0.6, img2 0.3 → pairs won: (0.4>0.3),(0.45>0.3) = 2 of 4
    close(aurocOneVsRest(ml(probs, targets), 1), 0.5);
  });

  it('arg-max metrics refuse multi-label data with a user error naming the alternative', () => {
    for (const name of ['accuracy', 'top3_accuracy', 'log_loss']) {
      assert.throws(() => computeMetrics(ml(probs, targets), [name]), (e: unknown) => e instanceof FlashUserError && e.message.includes(`metric '${name}'`) && e.message.includes('multi-label'));
    }
  });

  it('on single-label data f1_micro and subset_accuracy equal accuracy', () => {
    const input: MetricInput = { probs: Float32Array.from([0.7, 0.3, 0.4, 0.6, 0.9, 0.1]), labels: Int32Array.from([0, 0, 1]), numClasses: 2 };
    const m = computeMetrics(input, ['accuracy', 'f1_micro', 'subset_accuracy', 'hamming_accuracy']);
    close(m.f1_micro, m.accuracy);
    close(m.subset_accuracy, m.accuracy);
    close(m.accuracy, 1 / 3);
    close(m.hamming_accuracy, 1 / 3);
  });

  it('NaN on an empty input; a targets length that does not match is a programming error', () => {
    const empty: MetricInput = { probs: new Float32Array(0), labels: new Int32Array(0), numClasses: 3, targets: new Uint8Array(0) };
    assert.ok(Number.isNaN(computeMetrics(empty, ['f1_micro']).f1_micro));
    assert.throws(() => computeMetrics({ ...ml(probs, targets), targets: new Uint8Array(3) }, ['f1_micro']), RangeError);
  });
});
