import { FlashUserError } from '../../../src/core/errors.js';
import { Random } from './random.js';

/**
 * A stratified, seeded train/val split of sample indices.
 *
 * Per class (in label order), its indices are shuffled with one seeded generator and round(n × valFraction)
 * of them go to val, clamped so that every class with at least 2 samples has at least 1 in val and at least
 * 1 in train; a class with a single sample stays in train. Both returned index lists are sorted ascending.
 * `valFraction` 0 puts everything in train.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  valFraction: number,
  seed: number,
): { train: number[]; val: number[] } {
  if (!Number.isFinite(valFraction) || valFraction < 0 || valFraction >= 1) {
    throw new FlashUserError(`val_split must be a number in [0, 1), got ${valFraction}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    let list = byClass.get(l);
    if (!list) byClass.set(l, (list = []));
    list.push(i);
  }
  const train: number[] = [];
  const val: number[] = [];
  const rng = new Random(seed);
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byClass.get(cls)!);
    const n = idx.length;
    const nVal = valFraction === 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
    val.push(...idx.slice(0, nVal));
    train.push(...idx.slice(nVal));
  }
  train.sort((a, b) => a - b);
  val.sort((a, b) => a - b);
  return { train, val };
}
