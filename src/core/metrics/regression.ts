import { FlashUserError } from '../errors.js';
import type { Metric, MetricInput } from './types.js';

/**
 * Regression metrics. They read the regression form of MetricInput: `values` holds the `n` true values and
 * `probs` the `n` predictions (numClasses 1), both in the target's own units. NaN when n = 0.
 */

/** The (predictions, truths) of a regression input; a user error naming the metric on classification input. */
function pairs(input: MetricInput, metric: string): { pred: Float32Array; truth: Float32Array } {
  // An empty input is NaN for every metric (the registry's convention), whatever its form.
  if (input.values === undefined && input.labels.length === 0) return { pred: new Float32Array(0), truth: new Float32Array(0) };
  if (input.values === undefined) throw new FlashUserError(`metric '${metric}' is for regression (a numeric target); this model predicts classes`);
  if (input.probs.length !== input.values.length) throw new RangeError(`probs has ${input.probs.length} values but values has ${input.values.length}`);
  return { pred: input.probs, truth: input.values! };
}

function meanOf(n: number, f: (i: number) => number): number {
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += f(i);
  return s / n;
}

export const mse: Metric = {
  name: 'mse',
  description: 'regression: mean squared error, in squared target units',
  higherIsBetter: false,
  compute(input) {
    const { pred, truth } = pairs(input, 'mse');
    return meanOf(pred.length, (i) => (pred[i] - truth[i]) ** 2);
  },
};

export const rmse: Metric = {
  name: 'rmse',
  description: 'regression: root mean squared error, in target units',
  higherIsBetter: false,
  compute(input) {
    const { pred, truth } = pairs(input, 'rmse');
    return Math.sqrt(meanOf(pred.length, (i) => (pred[i] - truth[i]) ** 2));
  },
};

export const mae: Metric = {
  name: 'mae',
  description: 'regression: mean absolute error, in target units',
  higherIsBetter: false,
  compute(input) {
    const { pred, truth } = pairs(input, 'mae');
    return meanOf(pred.length, (i) => Math.abs(pred[i] - truth[i]));
  },
};

/** 1 − SS_res/SS_tot (scikit-learn's r2_score: NaN for n < 2; a constant truth gives 1 when predicted exactly, else 0). */
export const r2: Metric = {
  name: 'r2',
  description: 'regression: coefficient of determination R² (1 = perfect, 0 = as good as predicting the mean)',
  higherIsBetter: true,
  compute(input) {
    const { pred, truth } = pairs(input, 'r2');
    const n = pred.length;
    if (n < 2) return NaN;
    const mean = meanOf(n, (i) => truth[i]);
    let res = 0;
    let tot = 0;
    for (let i = 0; i < n; i++) {
      res += (truth[i] - pred[i]) ** 2;
      tot += (truth[i] - mean) ** 2;
    }
    if (tot === 0) return res === 0 ? 1 : 0;
    return 1 - res / tot;
  },
};
