import { macroPrf } from './prf.js';
import type { Metric } from './types.js';

/**
 * Macro-averaged recall (see `macroPrf` in prf.ts). When every class occurs in the labels this is
 * balanced accuracy; a class only ever predicted, never true, counts with recall 0 (scikit-learn's convention).
 */
export const recallMacro: Metric = {
  name: 'recall_macro',
  description: 'unweighted mean over classes of recall tp/(tp+fn) (balanced accuracy when every class occurs)',
  higherIsBetter: true,
  compute: (input) => macroPrf(input, 'recall'),
};
