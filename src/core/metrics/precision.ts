import { macroPrf } from './prf.js';
import type { Metric } from './types.js';

/** Macro-averaged precision (see `macroPrf` in prf.ts for the averaging and zero-division conventions). */
export const precisionMacro: Metric = {
  name: 'precision_macro',
  description: 'unweighted mean over classes of precision tp/(tp+fp) (0 for a class never predicted)',
  higherIsBetter: true,
  compute: (input) => macroPrf(input, 'precision'),
};
