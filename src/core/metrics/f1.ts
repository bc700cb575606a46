import { macroPrf } from './prf.js';
import type { Metric } from './types.js';

/**
 * Macro F1: the unweighted mean of the per-class F1 scores (not the F1 of macro precision and macro recall),
 * as scikit-learn's `f1_score(average='macro', zero_division=0)`. See `macroPrf` in prf.ts.
 */
export const f1Macro: Metric = {
  name: 'f1_macro',
  description: 'unweighted mean over classes of per-class F1 = 2tp/(2tp+fp+fn)',
  higherIsBetter: true,
  compute: (input) => macroPrf(input, 'f1'),
};
