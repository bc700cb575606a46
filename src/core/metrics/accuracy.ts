import { predictions } from './argmax.js';
import { assertSingleLabel, type Metric } from './types.js';

/** Fraction of examples whose arg-max class (lowest index on ties) is the true class; NaN when n = 0. */
export const accuracy: Metric = {
  name: 'accuracy',
  description: 'fraction of examples whose most probable class is the true class',
  higherIsBetter: true,
  compute(input) {
    assertSingleLabel(input, 'accuracy', 'subset_accuracy, hamming_accuracy or f1_micro');
    const pred = predictions(input);
    const n = pred.length;
    if (n === 0) return NaN;
    let hits = 0;
    for (let i = 0; i < n; i++) if (pred[i] === input.labels[i]) hits++;
    return hits / n;
  },
};
