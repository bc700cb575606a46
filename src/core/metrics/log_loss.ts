import { assertSingleLabel, validateInput, type Metric } from './types.js';

/** Probabilities are clipped to [EPS, 1] before the log, so a confident miss costs at most −ln(EPS) ≈ 16.1. */
export const LOG_LOSS_EPS = 1e-7;

/**
 * Mean categorical cross-entropy −ln p(true class), the probabilities clipped to [1e-7, 1]
 * (tf.js's epsilon; the rows are not renormalised). Lower is better; NaN when n = 0.
 */
export const logLoss: Metric = {
  name: 'log_loss',
  description: 'mean cross-entropy −ln p(true class) of the predicted probabilities (lower is better)',
  higherIsBetter: false,
  compute(input) {
    validateInput(input);
    assertSingleLabel(input, 'log_loss', 'val_loss (binary cross-entropy)');
    const { probs, labels, numClasses: k } = input;
    const n = labels.length;
    if (n === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < n; i++) sum -= Math.log(Math.min(1, Math.max(LOG_LOSS_EPS, probs[i * k + labels[i]])));
    return sum / n;
  },
};
