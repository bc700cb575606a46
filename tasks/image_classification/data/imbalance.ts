/**
 * Class imbalance: inverse-frequency class weights for the loss (`--data.class_weights auto|none`) and a balanced
 * (oversampling) order for train epochs (`--data.sampler balanced|none`).
 */

import { deriveSeed, Random } from './random.js';

export { chooseClassWeights, IMBALANCE_RATIO, imbalanceRatio, inverseFrequencyWeights, type ClassWeightsChoice, type ClassWeightsMode } from '../../classification/class_weights.js';
export type SamplerMode = 'balanced' | 'none';

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
