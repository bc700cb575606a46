/**
 * A small seeded pseudo-random generator (mulberry32) and the helpers the data layer needs: a Fisher–Yates
 * shuffle and a way to derive independent seeds from (seed, epoch, stream), so every run is reproducible.
 */

import { mulberry32 } from '../../../src/core/random.js';

export { mulberry32 };

/** A seeded random source. */
export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A shuffled copy of 0 … n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

/**
 * Mixes several integers into one well-spread 32-bit seed (murmur3's finaliser on a running hash), so that
 * `deriveSeed(seed, epoch)` for consecutive epochs gives unrelated streams.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
