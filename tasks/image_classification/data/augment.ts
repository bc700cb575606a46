/**
 * Train-time augmentations, each a named option (`--data.augmentations`), run per sample on the raw HWC pixel
 * array (0–255 values in a Float32Array) with the split's seeded random source: cheap, deterministic by seed, and
 * no tensors at all. Only train batches are augmented; val/test/predict see the plain resized pixels.
 *
 * | name                  | what it does (defaults)                                                             |
 * |-----------------------|-------------------------------------------------------------------------------------|
 * | `hflip`               | mirror left–right with probability 0.5 (Flash's default, and flash's)               |
 * | `random_resized_crop` | crop a random window of 80–100% of the area, resize it back (bilinear)              |
 * | `rotate`              | rotate by a random angle in ±10° about the centre (bilinear, edges replicated)       |
 * | `color_jitter`        | brightness ×[0.8, 1.2], then contrast ±0.2 around the mean; clamped to 0–255         |
 */

import { Registry } from '../../../src/core/registry.js';
import type { ImageSpec } from './decode.js';
import type { Random } from './random.js';

/** One augmentation: takes a sample's pixels (HWC, 0–255) and returns the augmented pixels (same length). */
export type AugmentOp = (px: Float32Array, spec: ImageSpec, rng: Random) => Float32Array;

/** The default list (Lightning Flash's image classification default: random horizontal flip only). */
export const DEFAULT_AUGMENTATIONS: readonly string[] = ['hflip'];

/** Scale range (fraction of the area) of `random_resized_crop`. */
export const CROP_SCALE: readonly [number, number] = [0.8, 1.0];
/** Largest angle of `rotate`, in degrees. */
export const MAX_ROTATION_DEG = 10;
/** Brightness and contrast range of `color_jitter` (factor in [1 - j, 1 + j]). */
export const JITTER = 0.2;

/** Mirrors left–right (always; the random choice is the caller's). */
export function flipPixels(px: Float32Array, spec: ImageSpec): Float32Array {
  const { height: h, width: w, channels: c } = spec;
  const out = new Float32Array(px.length);
  const row = w * c;
  for (let y = 0; y < h; y++) {
    const base = y * row;
    for (let x = 0; x < w; x++) {
      const from = base + (w - 1 - x) * c;
      const to = base + x * c;
      for (let k = 0; k < c; k++) out[to + k] = px[from + k];
    }
  }
  return out;
}

/** Bilinear sample of channel k at real coordinates (fy, fx), clamped to the image (edges replicated). */
function bilinear(px: Float32Array, spec: ImageSpec, fy: number, fx: number, k: number): number {
  const { height: h, width: w, channels: c } = spec;
  const y = Math.min(Math.max(fy, 0), h - 1);
  const x = Math.min(Math.max(fx, 0), w - 1);
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const y1 = Math.min(y0 + 1, h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const dy = y - y0;
  const dx = x - x0;
  const a = px[(y0 * w + x0) * c + k];
  const b = px[(y0 * w + x1) * c + k];
  const d = px[(y1 * w + x0) * c + k];
  const e = px[(y1 * w + x1) * c + k];
  return (a * (1 - dx) + b * dx) * (1 - dy) + (d * (1 - dx) + e * dx) * dy;
}

/** Crops the window (top, left, ch, cw) and resizes it back to the full size with bilinear sampling (align corners off). */
export function cropResize(px: Float32Array, spec: ImageSpec, top: number, left: number, ch: number, cw: number): Float32Array {
  const { height: h, width: w, channels: c } = spec;
  const out = new Float32Array(px.length);
  const sy = ch / h;
  const sx = cw / w;
  for (let y = 0; y < h; y++) {
    const fy = top + (y + 0.5) * sy - 0.5;
    for (let x = 0; x < w; x++) {
      const fx = left + (x + 0.5) * sx - 0.5;
      const o = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = bilinear(px, spec, fy, fx, k);
    }
  }
  return out;
}

/** Rotates by `deg` degrees about the centre (bilinear; pixels from outside take the nearest edge value). */
export function rotatePixels(px: Float32Array, spec: ImageSpec, deg: number): Float32Array {
  const { height: h, width: w, channels: c } = spec;
  const out = new Float32Array(px.length);
  const t = (deg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse mapping: where in the source this output pixel comes from.
      const dx = x - cx;
      const dy = y - cy;
      const fx = cos * dx + sin * dy + cx;
      const fy = -sin * dx + cos * dy + cy;
      const o = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = bilinear(px, spec, fy, fx, k);
    }
  }
  return out;
}

/** Brightness factor `b` then contrast factor `k` around the (post-brightness) mean, clamped to 0–255. */
export function jitterPixels(px: Float32Array, brightness: number, contrast: number): Float32Array {
  const out = new Float32Array(px.length);
  let sum = 0;
  for (let i = 0; i < px.length; i++) sum += px[i] * brightness;
  const mean = px.length > 0 ? sum / px.length : 0;
  for (let i = 0; i < px.length; i++) {
    const v = (px[i] * brightness - mean) * contrast + mean;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Registered augmentations; `augmentations.get(name)` gives a did-you-mean error for an unknown name. */
export const augmentations = new Registry<AugmentOp>('augmentation')
  .register('hflip', (px, spec, rng) => (rng.float() < 0.5 ? flipPixels(px, spec) : px), 'random horizontal flip (p=0.5)')
  .register(
    'random_resized_crop',
    (px, spec, rng) => {
      const scale = CROP_SCALE[0] + rng.float() * (CROP_SCALE[1] - CROP_SCALE[0]);
      const side = Math.sqrt(scale);
      // A sub-pixel window (bilinear handles fractional edges), so even small images really get cropped.
      const ch = spec.height * side;
      const cw = spec.width * side;
      const top = rng.float() * (spec.height - ch);
      const left = rng.float() * (spec.width - cw);
      return cropResize(px, spec, top, left, ch, cw);
    },
    `random crop of ${CROP_SCALE[0] * 100}–${CROP_SCALE[1] * 100}% of the area, resized back (bilinear)`,
  )
  .register(
    'rotate',
    (px, spec, rng) => rotatePixels(px, spec, (rng.float() * 2 - 1) * MAX_ROTATION_DEG),
    `random rotation within ±${MAX_ROTATION_DEG}°`,
  )
  .register(
    'color_jitter',
    (px, _spec, rng) => {
      const b = 1 + (rng.float() * 2 - 1) * JITTER;
      const k = 1 + (rng.float() * 2 - 1) * JITTER;
      return jitterPixels(px, b, k);
    },
    `brightness and contrast ±${JITTER}`,
  );

/** Checks a list of names (did-you-mean error on an unknown one) and returns it without duplicates. */
export function resolveAugmentations(names: readonly string[] | undefined): string[] {
  const list = [...new Set(names ?? DEFAULT_AUGMENTATIONS)];
  for (const n of list) augmentations.get(n);
  return list;
}

/** Applies `names` in order to one sample's raw pixels and returns a fresh Float32Array (the input is not changed). */
export function augmentSample(src: ArrayLike<number>, spec: ImageSpec, names: readonly string[], rng: Random): Float32Array {
  let px: Float32Array = Float32Array.from(src);
  for (const n of names) px = augmentations.get(n)(px, spec, rng);
  return px;
}
