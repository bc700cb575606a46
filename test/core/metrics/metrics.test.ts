import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  argmaxRows,
  aurocMacro,
  aurocOneVsRest,
  computeMetrics,
  confusionMatrix,
  metrics,
  perClassReport,
  topKAccuracyValue,
  type MetricInput,
} from '../../../src/core/metrics/index.js';
import { FlashUserError } from '../../../src/core/errors.js';

/** Builds a MetricInput from nested rows. */
function input(rows: number[][], labels: number[], numClasses = rows[0]?.length ?? 1): MetricInput {
  const probs = new Float32Array(labels.length * numClasses);
  rows.forEach((r, i) => r.forEach((v, c) => (probs[i * numClasses + c] = v)));
  return { probs, labels: Int32Array.from(labels), numClasses };
}

function close(actual: number, expected: number, tol = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

const all = (inp: MetricInput) =>
  computeMetrics(inp, ['accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'auroc_macro']);

describe('argmaxRows', () => {
  it('picks the largest entry per row, lowest index on ties, skipping NaN', () => {
    const p = Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0, NaN, 0.2, 0.1, 0, 0, 1]);
    assert.deepEqual([...argmaxRows(p, 3)], [1, 0, 1, 2]);
  });
  it('rejects a length that is not a multiple of k', () => {
    assert.throws(() => argmaxRows(new Float32Array(5), 2), RangeError);
  });
});

describe('confusionMatrix', () => {
  it('has true classes as rows and predicted classes as columns', () => {
    const m = confusionMatrix(Int32Array.from([0, 1, 1, 1, 0, 0]), Int32Array.from([0, 0, 1, 1, 2, 2]), 3);
    assert.deepEqual(m, [
      [1, 1, 0],
      [0, 2, 0],
      [2, 0, 0],
    ]);
  });
  it('rejects out-of-range classes and mismatched lengths', () => {
    assert.throws(() => confusionMatrix(Int32Array.from([3]), Int32Array.from([0]), 3), RangeError);
    assert.throws(() => confusionMatrix(Int32Array.from([0, 1]), Int32Array.from([0]), 3), RangeError);
  });
});

describe('perfect and worst classifiers', () => {
  it('perfect: every metric is 1 and log loss 0', () => {
    const inp = input(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 1, 0],
      ],
      [0, 1, 2, 1],
    );
    const r = computeMetrics(inp, [
      'accuracy',
      'precision_macro',
      'recall_macro',
      'f1_macro',
      'auroc_macro',
      'top3_accuracy',
      'log_loss',
    ]);
    assert.deepEqual(r, {
      accuracy: 1,
      precision_macro: 1,
      recall_macro: 1,
      f1_macro: 1,
      auroc_macro: 1,
      top3_accuracy: 1,
      log_loss: 0, // −ln 1 = 0 for every row
    });
  });
  it('worst (binary, every score reversed): every metric is 0', () => {
    // class-1 scores: positives (rows 2,3) 0.1, 0.3 < negatives 0.9, 0.8 → no pair ordered right → AUROC 0.
    const inp = input(
      [
        [0.1, 0.9],
        [0.2, 0.8],
        [0.9, 0.1],
        [0.7, 0.3],
      ],
      [0, 0, 1, 1],
    );
    assert.deepEqual(all(inp), { accuracy: 0, precision_macro: 0, recall_macro: 0, f1_macro: 0, auroc_macro: 0 });
  });
  it('constant scores give AUROC 0.5 (every pair tied)', () => {
    const inp = input(
      [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      [0, 1, 1],
    );
    assert.equal(aurocMacro(inp), 0.5);
  });
});

describe('AUROC with tied scores', () => {
  it('scores [0.5,0.5,0.2,0.8], labels [1,0,0,1] → 0.875', () => {
    // Pairs (positive, negative): (0.5,0.5) tie = 1/2, (0.5,0.2) = 1, (0.8,0.5) = 1, (0.8,0.2) = 1 → 3.5 / 4 = 0.875.
    // Midranks: 0.2 → 1, the two 0.5s → (2+3)/2 = 2.5, 0.8 → 4; positives' rank sum 2.5 + 4 = 6.5;
    // U = 6.5 − P(P+1)/2 = 6.5 − 3 = 3.5; AUROC = U / (P·N) = 3.5 / 4 = 0.875 (sklearn roc_auc_score gives 0.875).
    const s = [0.5, 0.5, 0.2, 0.8];
    const inp = input(
      s.map((v) => [1 - v, v]),
      [1, 0, 0, 1],
    );
    assert.equal(aurocOneVsRest(inp, 1), 0.875);
    // Class 0 sees scores 1−s and the complementary labels: the same pairs flipped twice → also 0.875.
    assert.equal(aurocOneVsRest(inp, 0), 0.875);
    assert.equal(aurocMacro(inp), 0.875);
  });

  it('matches brute-force pair counting on random inputs with many ties', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      const k = 2 + (trial % 4);
      const n = 5 + Math.floor(rand() * 40);
      const rows = Array.from({ length: n }, () => Array.from({ length: k }, () => Math.round(rand() * 5) / 5));
      const labels = Array.from({ length: n }, () => Math.floor(rand() * k));
      const inp = input(rows, labels, k);
      for (let c = 0; c < k; c++) {
        let wins = 0;
        let pairs = 0;
        for (let i = 0; i < n; i++) {
          if (labels[i] !== c) continue;
          for (let j = 0; j < n; j++) {
            if (labels[j] === c) continue;
            const a = inp.probs[i * k + c];
            const b = inp.probs[j * k + c];
            wins += a > b ? 1 : a === b ? 0.5 : 0;
            pairs++;
          }
        }
        const got = aurocOneVsRest(inp, c);
        if (pairs === 0) assert.ok(Number.isNaN(got));
        else close(got, wins / pairs, 1e-12);
      }
    }
  });
});

describe('a class absent from the predictions', () => {
  // labels [0,0,1,1,2,2], predictions [0,1,1,1,0,0]; class 2 is never predicted.
  const rows = [
    [0.8, 0.1, 0.1],
    [0.2, 0.7, 0.1],
    [0.1, 0.8, 0.1],
    [0.3, 0.6, 0.1],
    [0.6, 0.3, 0.1],
    [0.5, 0.2, 0.3],
  ];
  const labels = [0, 0, 1, 1, 2, 2];
  // Confusion [[1,1,0],[0,2,0],[2,0,0]]; column sums (predicted) 3, 3, 0; row sums (support) 2, 2, 2.
  // precision: 1/3, 2/3, 0 (never predicted → zero_division=0) → macro (1/3 + 2/3 + 0) / 3 = 1/3
  // recall:    1/2, 2/2, 0/2                                  → macro (0.5 + 1 + 0) / 3 = 0.5
  // F1 = 2tp/(2tp+fp+fn): 2/(2+2+1) = 0.4, 4/(4+1+0) = 0.8, 0/(0+0+2) = 0 → macro 1.2 / 3 = 0.4
  // accuracy 3/6 = 0.5. sklearn: precision_score(..., average='macro', zero_division=0) = 0.3333,
  // recall_score = 0.5, f1_score = 0.4.
  it('counts it with precision 0 in the macro averages', () => {
    const r = all(input(rows, labels));
    close(r.accuracy, 0.5);
    close(r.precision_macro, 1 / 3);
    close(r.recall_macro, 0.5);
    close(r.f1_macro, 0.4);
  });
  it('a class in neither labels nor predictions is left out of every macro mean', () => {
    // Same data with a 4th class that never occurs: macro P/R/F1 unchanged (sklearn unique_labels = {0,1,2}),
    // its AUROC is undefined (no positives) and left out of the AUROC mean.
    const three = all(input(rows, labels, 3));
    const four = all(input(rows.map((r) => [...r, 0]), labels, 4));
    assert.deepEqual(four, three);
    assert.ok(Number.isNaN(aurocOneVsRest(input(rows.map((r) => [...r, 0]), labels, 4), 3)));
  });
  it('a class only predicted, never true, counts with recall 0', () => {
    // labels [0,0,1,1], predictions [0,2,1,1]: classes in labels ∪ predictions = {0,1,2}.
    // precision 1/1, 2/2, 0/1 → 2/3; recall 1/2, 2/2, 0 (no support, zero_division=0) → 0.5;
    // F1 2/(2+0+1) = 2/3, 4/4 = 1, 0/(0+1+0) = 0 → (2/3 + 1) / 3 = 5/9 (sklearn: 0.6667, 0.5, 0.5556).
    const r = all(
      input(
        [
          [0.9, 0.05, 0.05],
          [0.2, 0.2, 0.6],
          [0.1, 0.8, 0.1],
          [0.3, 0.6, 0.1],
        ],
        [0, 0, 1, 1],
      ),
    );
    close(r.precision_macro, 2 / 3);
    close(r.recall_macro, 0.5);
    close(r.f1_macro, 5 / 9);
    close(r.accuracy, 0.75);
  });
});

describe('a three-class example checked against scikit-learn by hand', () => {
  //        p0   p1   p2   true pred
  // r0 [0.7, 0.2, 0.1]   0    0
  // r1 [0.3, 0.4, 0.3]   1    1
  // r2 [0.2, 0.3, 0.5]   2    2
  // r3 [0.5, 0.1, 0.4]   2    0
  // r4 [0.1, 0.6, 0.3]   1    1
  // r5 [0.4, 0.5, 0.1]   0    1
  const inp = input(
    [
      [0.7, 0.2, 0.1],
      [0.3, 0.4, 0.3],
      [0.2, 0.3, 0.5],
      [0.5, 0.1, 0.4],
      [0.1, 0.6, 0.3],
      [0.4, 0.5, 0.1],
    ],
    [0, 1, 2, 2, 1, 0],
  );
  it('accuracy, precision, recall, F1 (sklearn average="macro")', () => {
    // Confusion [[1,1,0],[0,2,0],[1,0,1]]; predicted counts 2, 3, 1; support 2, 2, 2; tp 1, 2, 1.
    // accuracy 4/6 = 2/3
    // precision 1/2, 2/3, 1/1 → (0.5 + 0.6667 + 1)/3 = 13/18 ≈ 0.722222
    // recall    1/2, 2/2, 1/2 → 2/3
    // F1 2/(2+1+1) = 0.5, 4/(4+1+0) = 0.8, 2/(2+0+1) = 2/3 → (15+24+20)/30/3 = 59/90 ≈ 0.655556
    assert.deepEqual(confusionMatrix(argmaxRows(inp.probs, 3), inp.labels, 3), [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    const r = all(inp);
    close(r.accuracy, 2 / 3);
    close(r.precision_macro, 13 / 18);
    close(r.recall_macro, 2 / 3);
    close(r.f1_macro, 59 / 90);
  });
  it('one-vs-rest AUROC (sklearn roc_auc_score(multi_class="ovr", average="macro"))', () => {
    // class 0: positives r0 0.7, r5 0.4; negatives 0.3, 0.2, 0.5, 0.1 → 0.7 beats 4, 0.4 beats 3 → 7/8
    // class 1: positives r1 0.4, r4 0.6; negatives 0.2, 0.3, 0.1, 0.5 → 3 + 4 → 7/8
    // class 2: positives r2 0.5, r3 0.4; negatives 0.1, 0.3, 0.3, 0.1 → 4 + 4 → 8/8
    // macro (0.875 + 0.875 + 1) / 3 = 11/12 ≈ 0.916667
    assert.equal(aurocOneVsRest(inp, 0), 0.875);
    assert.equal(aurocOneVsRest(inp, 1), 0.875);
    assert.equal(aurocOneVsRest(inp, 2), 1);
    close(aurocMacro(inp), 11 / 12, 1e-12);
  });
  it('top-k accuracy and log loss', () => {
    // r3's true class 2 (0.4) is second behind 0.5; r5's true class 0 (0.4) second behind 0.5 → top-2 = 6/6.
    assert.equal(topKAccuracyValue(inp, 1), 2 / 3);
    assert.equal(topKAccuracyValue(inp, 2), 1);
    // −(ln 0.7 + ln 0.4 + ln 0.5 + ln 0.4 + ln 0.6 + ln 0.4) / 6
    //  = (0.356675 + 3·0.916291 + 0.693147 + 0.510826) / 6 = 4.309520 / 6 ≈ 0.718253
    close(computeMetrics(inp, ['log_loss']).log_loss, 0.718253, 1e-5);
  });
  it('per-class report', () => {
    const rep = perClassReport(inp, ['cat', 'dog', 'bird']);
    assert.equal(rep.length, 3);
    assert.deepEqual(
      rep.map((r) => [r.label, r.support, r.auroc]),
      [
        ['cat', 2, 0.875],
        ['dog', 2, 0.875],
        ['bird', 2, 1],
      ],
    );
    close(rep[0].precision, 0.5);
    close(rep[1].precision, 2 / 3);
    close(rep[2].recall, 0.5);
    close(rep[1].f1, 0.8);
    close(rep[2].f1, 2 / 3);
    assert.throws(() => perClassReport(inp, ['cat']), RangeError);
  });
});

describe('top-k ties', () => {
  it('breaks ties toward the lower class index, so top-1 equals accuracy', () => {
    // Row [0.4, 0.4, 0.2] with true class 1: argmax says 0 (lowest index) → top-1 miss, top-2 hit.
    // Row [0.4, 0.4, 0.2] with true class 0: top-1 hit.
    const inp = input(
      [
        [0.4, 0.4, 0.2],
        [0.4, 0.4, 0.2],
      ],
      [1, 0],
    );
    assert.equal(topKAccuracyValue(inp, 1), 0.5);
    assert.equal(topKAccuracyValue(inp, 1), accuracy.compute(inp));
    assert.equal(topKAccuracyValue(inp, 2), 1);
    assert.equal(topKAccuracyValue(inp, 10), 1);
  });
});

describe('edge cases and the registry', () => {
  it('empty input gives NaN', () => {
    const inp: MetricInput = { probs: new Float32Array(0), labels: new Int32Array(0), numClasses: 3 };
    for (const name of metrics.names()) assert.ok(Number.isNaN(metrics.get(name).compute(inp)), name);
  });
  it('AUROC is NaN when only one class occurs in the labels', () => {
    assert.ok(Number.isNaN(aurocMacro(input([[0.3, 0.7], [0.6, 0.4]], [1, 1]))));
  });
  it('rejects shape mismatches and out-of-range labels', () => {
    assert.throws(() => accuracy.compute({ probs: new Float32Array(5), labels: new Int32Array(2), numClasses: 3 }), RangeError);
    assert.throws(() => accuracy.compute(input([[0.5, 0.5]], [2], 2)), RangeError);
  });
  it('registers the expected metrics with descriptions and directions', () => {
    assert.deepEqual(metrics.names().sort(), [
      'accuracy',
      'auroc_macro',
      'f1_macro',
      'f1_micro',
      'hamming_accuracy',
      'log_loss',
      'mae',
      'mse',
      'precision_macro',
      'r2',
      'recall_macro',
      'rmse',
      'subset_accuracy',
      'top3_accuracy',
      'top5_accuracy',
    ]);
    for (const e of metrics.list()) {
      assert.ok(e.description.length > 0);
      assert.equal(e.item.name, e.name);
      assert.equal(e.item.higherIsBetter, !['log_loss', 'mse', 'rmse', 'mae'].includes(e.name));
    }
  });
  it('computeMetrics keeps the requested order and rejects unknown names with a suggestion', () => {
    const inp = input([[0.9, 0.1], [0.2, 0.8]], [0, 1]);
    assert.deepEqual(Object.keys(computeMetrics(inp, ['f1_macro', 'accuracy'])), ['f1_macro', 'accuracy']);
    assert.throws(() => computeMetrics(inp, ['acuracy']), (e: unknown) => e instanceof FlashUserError && /accuracy/.test(e.message));
  });
});
