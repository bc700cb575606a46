/**
 * Class imbalance: inverse-frequency class weights for the loss (`--data.class_weights auto|none`) and a balanced
 * (oversampling) order for train epochs (`--data.sampler balanced|none`).
 */

import { deriveSeed, Random } from './random.js';

export type ClassWeightsMode = 'auto' | 'none';
export type SamplerMode = 'balanced' | 'none';

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
export function chooseClassWeights(mode: ClassWeightsMode, counts: readonly number[], labels?: readonly string[]): ClassWeightsChoice {
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
    message: `class weights: auto, on — the largest train class has ${r}x the images of the smallest (more than ${IMBALANCE_RATIO}x); weights ${shown}`,
  };
}

/** Seed stream of the balanced sampler (the split uses 1 for the order, 2 for augmentation). */
const SAMPLER_STREAM = 3;

/**
 * An epoch's order for the balanced sampler: `labels.length` indices in which every class present appears about
 * equally often (counts differ by at most one). Each class's samples are drawn without replacement in a seeded
 * permutation, cycling when a small class must be repeated (oversampling). Seeded by (seed, epoch).
 * Unlabelled samples (label < 0) are never drawn.
 */
export function balancedOrder(labels: ArrayLike<number>, seed: number, epoch: number): number[] {
  const n = labels.length;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l < 0) continue;
    let list = byClass.get(l);
    if (!list) byClass.set(l, (list = []));
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  if (classes.length === 0) return [];
  const rng = new Random(deriveSeed(seed, epoch, SAMPLER_STREAM));
  const k = classes.length;
  const base = Math.floor(n / k);
  // The remainder goes to randomly chosen classes.
  const extra = new Set(rng.permutation(k).slice(0, n - base * k));
  const out: number[] = [];
  classes.forEach((cls, ci) => {
    const pool = byClass.get(cls)!;
    const want = base + (extra.has(ci) ? 1 : 0);
    let perm = rng.permutation(pool.length);
    for (let j = 0, p = 0; j < want; j++, p++) {
      if (p === perm.length) {
        perm = rng.permutation(pool.length);
        p = 0;
      }
      out.push(pool[perm[p]]);
    }
  });
  return rng.shuffle(out);
}
