/**
 * Inverse-frequency class weights for the loss (`--data.class_weights auto|none`), shared by every single-label
 * `*_classification` task (moved here from image_classification's data layer, which re-exports it).
 */

export type ClassWeightsMode = 'auto' | 'none';

/** `auto` turns class weights on when the largest train class has more than this many times the smallest. */
export const IMBALANCE_RATIO = 3;

/** Largest over smallest count among classes that have samples (1 with fewer than two such classes). */
export function imbalanceRatio(counts: readonly number[]): number {
  const present = counts.filter((n) => n > 0);
  if (present.length < 2) return 1;
  return Math.max(...present) / Math.min(...present);
}

/**
 * Inverse-frequency weights normalised to mean 1 over the classes that have samples: w_c = (1/n_c) / mean(1/n).
 * A class with no train samples gets weight 1 (it never appears in the train loss).
 */
export function inverseFrequencyWeights(counts: readonly number[]): number[] {
  const inv = counts.map((n) => (n > 0 ? 1 / n : 0));
  const present = counts.filter((n) => n > 0).length;
  if (present === 0) return counts.map(() => 1);
  const mean = inv.reduce((a, b) => a + b, 0) / present;
  return counts.map((n, c) => (n > 0 ? inv[c] / mean : 1));
}

export interface ClassWeightsChoice {
  /** The weights per class index, or null when the loss stays unweighted. */
  weights: number[] | null;
  /** Largest over smallest train class. */
  ratio: number;
  /** One line for the run's output (always set: says whether weights are used and why). */
  message: string;
}

/** Decides whether the loss is class-weighted: `auto` = when the ratio exceeds IMBALANCE_RATIO, `none` = never. */
export function chooseClassWeights(mode: ClassWeightsMode, counts: readonly number[], labels?: readonly string[], unit = 'images'): ClassWeightsChoice {
  const ratio = imbalanceRatio(counts);
  const r = ratio.toFixed(1);
  if (mode === 'none') return { weights: null, ratio, message: `class weights: off (--data.class_weights none; largest/smallest train class ${r}x)` };
  if (ratio <= IMBALANCE_RATIO) {
    return { weights: null, ratio, message: `class weights: off (largest/smallest train class ${r}x, at most ${IMBALANCE_RATIO}x)` };
  }
  const weights = inverseFrequencyWeights(counts);
  const shown = weights.map((w, c) => `${labels?.[c] ?? c}=${w.toFixed(3)}`).join(', ');
  return {
    weights,
    ratio,
    message: `class weights: auto, on — the largest train class has ${r}x the ${unit} of the smallest (more than ${IMBALANCE_RATIO}x); weights ${shown}`,
  };
}
