/** mulberry32: a small, fast seeded PRNG shared by the data layer and the trainer's caches. */

/** Returns a function yielding floats in [0, 1), fully determined by `seed` (any number; only 32 bits are used). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the synchronous `fn` with `Math.random` replaced by a PRNG seeded with `seed`, then restores it.
 * tfjs draws the seed of every unseeded random op (weight initializers included) from `Math.random`, so building
 * a model inside this makes its initial weights a function of `seed` — tfjs has no global seed of its own. Only
 * the synchronous part of `fn` is covered: work after its first `await` sees the real `Math.random`.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const real = Math.random;
  Math.random = mulberry32(seed ^ 0x5eed);
  try {
    return fn();
  } finally {
    Math.random = real;
  }
}

/**
 * The seed of one training step: a function of the run's seed, the epoch and the batch index, so dropout masks
 * (and any other unseeded random op inside a step) repeat across runs with one seed and carry on exactly after a
 * resume, while still differing from step to step.
 */
export function stepSeed(seed: number, epoch: number, step: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [epoch, step]) h = Math.imul(h ^ (v + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
