import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';

export type Channels = 1 | 3;

/** The model input: every image is resized to height×width and converted to `channels`. */
export interface ImageSpec {
  height: number;
  width: number;
  channels: Channels;
}

/** File extensions flash treats as images: exactly the formats the installed sharp decodes (no BMP). */
export const IMAGE_EXTENSIONS: string[] = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff'];

const EXTENSION_SET = new Set(IMAGE_EXTENSIONS);

/** True when the file name has an image extension (case-insensitive). */
export function isImageFile(file: string): boolean {
  return EXTENSION_SET.has(path.extname(file).toLowerCase());
}

/** Bytes per sample for a spec (height × width × channels). */
export function pixelCount(spec: ImageSpec): number {
  return spec.height * spec.width * spec.channels;
}

/** A file that could not be decoded; a user error (one line) that also carries the file and the reason. */
export class ImageDecodeError extends FlashUserError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot decode image '${file}': ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

function describe(src: string | Buffer, name?: string): string {
  return name ?? (typeof src === 'string' ? src : 'image buffer');
}

/** Shortens sharp/libvips messages to one line ("VipsJpeg: premature end of JPEG image"). */
function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split('\n')[0].trim();
  if (/unsupported image format/i.test(line)) return 'not a supported image (JPEG, PNG, WebP, GIF or TIFF)';
  if (/Input file is missing/i.test(line)) return 'file not found';
  return line || 'cannot be decoded';
}

/**
 * Decodes any sharp-supported image (JPEG, PNG, WebP, GIF first frame, TIFF; gray/RGB/RGBA; any size, any bit
 * depth) from a path or Buffer: applies EXIF orientation, flattens alpha onto white, converts to `spec.channels`,
 * resizes to exactly height×width (fit 'fill': squash, like Flash's Resize) and returns raw HWC uint8 pixels.
 * Truncated or corrupt files throw a FlashUserError naming the file (`name`, else the path).
 */
export async function decodeImage(src: string | Buffer, spec: ImageSpec, name?: string): Promise<Uint8Array> {
  try {
    let pipeline = sharp(src, { failOn: 'truncated', autoOrient: true, pages: 1 }).flatten({ background: '#ffffff' });
    pipeline = spec.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline
      .resize(spec.width, spec.height, { fit: 'fill' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.width !== spec.width || info.height !== spec.height) {
      throw new Error(`decoded to ${info.width}×${info.height}, expected ${spec.width}×${spec.height}`);
    }
    return convertChannels(pixels, info.channels, spec.channels, spec.height * spec.width);
  } catch (err) {
    throw new ImageDecodeError(describe(src, name), reason(err));
  }
}

/** Converts interleaved pixels between channel counts (safety net; sharp normally outputs the right count). */
function convertChannels(pixels: Uint8Array, from: number, to: Channels, n: number): Uint8Array {
  if (from === to) return pixels;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) {
    if (to === 3) {
      const v = pixels[i * from];
      out[i * 3] = v;
      out[i * 3 + 1] = from >= 3 ? pixels[i * from + 1] : v;
      out[i * 3 + 2] = from >= 3 ? pixels[i * from + 2] : v;
    } else {
      const r = pixels[i * from];
      const g = from >= 3 ? pixels[i * from + 1] : r;
      const b = from >= 3 ? pixels[i * from + 2] : r;
      out[i] = Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
    }
  }
  return out;
}

/**
 * Reads only the header to learn the stored channel count: 1 for grayscale, 2 for gray+alpha, 3 or 4 for colour.
 * Returns undefined when the header can't be read (decoding will report that file).
 */
export async function imageChannels(src: string | Buffer): Promise<number | undefined> {
  try {
    const meta = await sharp(src, { pages: 1 }).metadata();
    if (meta.space === 'b-w' || meta.space === 'grey16') return meta.hasAlpha ? 2 : 1;
    return meta.channels;
  } catch {
    return undefined;
  }
}

/**
 * Converts a caller's [h, w, c] tensor (values 0–255, c = 1, 3 or 4) to raw HWC uint8 pixels of `spec`:
 * alpha is flattened onto white, channels converted, size changed with bilinear resize if it differs.
 * The caller's tensor is not disposed; no tensor is left behind.
 */
export function tensorToPixels(t: tf.Tensor, spec: ImageSpec, name = 'tensor'): Uint8Array {
  if (t.rank !== 3 || ![1, 3, 4].includes(t.shape[2]!)) {
    throw new FlashUserError(
      `image ${name} must be a tf.Tensor3D of shape [height, width, 1|3|4], got shape [${t.shape.join(', ')}]`,
    );
  }
  const out = tf.tidy(() => {
    let x = tf.cast(t as tf.Tensor3D, 'float32');
    const c = x.shape[2];
    if (c === 4) {
      const [rgb, alpha] = tf.split(x, [3, 1], 2) as [tf.Tensor3D, tf.Tensor3D];
      const a = tf.div(alpha, 255);
      x = tf.add(tf.mul(rgb, a), tf.mul(tf.sub(1, a), 255));
    }
    if (x.shape[2] === 1 && spec.channels === 3) x = tf.tile(x, [1, 1, 3]);
    if (x.shape[2] === 3 && spec.channels === 1) {
      x = tf.sum(tf.mul(x, tf.tensor1d([0.2126, 0.7152, 0.0722])), 2, true);
    }
    if (x.shape[0] !== spec.height || x.shape[1] !== spec.width) {
      x = tf.image.resizeBilinear(x, [spec.height, spec.width]);
    }
    return tf.round(tf.clipByValue(x, 0, 255));
  });
  try {
    return Uint8Array.from(out.dataSync());
  } finally {
    out.dispose();
  }
}
