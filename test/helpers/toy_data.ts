/**
 * A tiny in-memory data module for trainer tests: two classes, dark vs bright images with per-pixel noise,
 * built with `splitFromPixels` (no files, no decoding). A small CNN learns it in a couple of epochs.
 */
import { mulberry32 } from '../../tasks/image_classification/data/random.js';
import { splitFromPixels, type ImageSplit } from '../../tasks/image_classification/data/index.js';
import type { ImageSpec } from '../../tasks/image_classification/data/index.js';

export interface ToyData {
  readonly labels: string[];
  readonly numClasses: number;
  readonly spec: ImageSpec;
  readonly batchSize: number;
  readonly train: ImageSplit;
  readonly val?: ImageSplit;
  readonly test?: ImageSplit;
}

export interface ToyOptions {
  /** Side of the square images (default 8). */
  size?: number;
  channels?: 1 | 3;
  /** Train images per class (default 24); val and test get a third of that each. */
  perClass?: number;
  batchSize?: number;
  seed?: number;
  /** Include a val split (default true). */
  val?: boolean;
  test?: boolean;
}

export const TOY_LABELS = ['bright', 'dark'];

/** Pixels of one toy image: label 0 ('bright') around 190, label 1 ('dark') around 60, ±50 noise. */
export function toyPixels(spec: ImageSpec, label: number, rand: () => number): Uint8Array {
  const n = spec.height * spec.width * spec.channels;
  const base = label === 0 ? 190 : 60;
  return Uint8Array.from({ length: n }, () => Math.max(0, Math.min(255, Math.round(base + (rand() - 0.5) * 100))));
}

function makeSplit(spec: ImageSpec, perClass: number, prefix: string, rand: () => number): ImageSplit {
  const items: { id: string; pixels: Uint8Array; label: number }[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const label of [0, 1]) items.push({ id: `${prefix}/${TOY_LABELS[label]}_${i}`, pixels: toyPixels(spec, label, rand), label });
  }
  return splitFromPixels(spec, items);
}

export function makeToyData(options: ToyOptions = {}): ToyData {
  const size = options.size ?? 8;
  const spec: ImageSpec = { height: size, width: size, channels: options.channels ?? 1 };
  const perClass = options.perClass ?? 24;
  const rand = mulberry32(options.seed ?? 3);
  const small = Math.max(2, Math.round(perClass / 3));
  return {
    labels: TOY_LABELS,
    numClasses: 2,
    spec,
    batchSize: options.batchSize ?? 8,
    train: makeSplit(spec, perClass, 'train', rand),
    val: options.val === false ? undefined : makeSplit(spec, small, 'val', rand),
    test: options.test ? makeSplit(spec, small, 'test', rand) : undefined,
  };
}
