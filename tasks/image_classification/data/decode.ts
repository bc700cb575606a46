import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { FlashUserError } from '../../../src/core/errors.js';
import { decodeJpegRgba, decodeWebpRgba } from './wasm_codecs.js';

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
 *
 * The pixels are exactly decodeImageSharp's. Small images are where the time goes (sharp costs ~1.5 ms of CPU
 * per call, whatever the size), so the common cases skip work: an 8-bit PNG already at the target size with no
 * colour profile, orientation or transparency is decoded here (zlib + unfiltering, no sharp call); a JPEG or
 * WebP already at the target size goes through sharp without the flatten and resize steps. Anything else, and
 * anything these paths are unsure of, takes the full sharp pipeline.
 */
export async function decodeImage(src: string | Buffer, spec: ImageSpec, name?: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    // Synchronous: for a small file the async read's four thread-pool round trips (open, fstat, read, close) cost
    // more than the decode; the work after it is synchronous anyway.
    bytes = typeof src === 'string' ? readFileSync(src) : src;
  } catch {
    return decodeImageSharp(src, spec, name); // (sharp words the error: "file not found")
  }
  if (bytes.length === 0) return decodeImageSharp(src, spec, name); // (as sharp words an empty file)
  let fast: Uint8Array | undefined;
  try {
    fast = await decodeFast(bytes, spec);
  } catch {
    fast = undefined; // the full pipeline decides, and reports the file's problem in sharp's words
  }
  return fast ?? decodeImageSharp(bytes, spec, name ?? (typeof src === 'string' ? src : undefined));
}

/** decodeImage through sharp's full pipeline, whatever the image (the reference the fast paths match). */
export async function decodeImageSharp(src: string | Buffer, spec: ImageSpec, name?: string): Promise<Uint8Array> {
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

/** The fast paths of decodeImage; undefined where the full pipeline must run. */
async function decodeFast(bytes: Buffer, spec: ImageSpec): Promise<Uint8Array | undefined> {
  const head = sniff(bytes);
  if (!head || head.width !== spec.width || head.height !== spec.height) return undefined;
  if (head.format === 'png') {
    const img = decodePng(bytes);
    return img && pngToSpec(img, spec);
  }
  if (head.alpha || head.oriented) return undefined;
  // JPEG / WebP at the target size, opaque, no orientation: flatten, resize and removeAlpha would be no-ops, and
  // the wasm codecs give sharp's pixels at a tenth of its cost. What they might read differently (a colour profile,
  // a file cut short, which sharp reports) goes through sharp.
  if (head.format === 'jpeg' ? plainJpeg(bytes) : plainWebp(bytes)) {
    const img = await (head.format === 'jpeg' ? decodeJpegRgba(bytes) : decodeWebpRgba(bytes));
    if (img.width !== spec.width || img.height !== spec.height) return undefined;
    const out = pngToSpec({ ...img, channels: 4 }, spec) ?? (spec.channels === 1 ? await nearNeutralGray(img.data) : undefined);
    if (out) return out; // (undefined: colour pixels wanted as gray — sharp's luminance below)
  }
  let pipeline = sharp(bytes, { failOn: 'truncated', pages: 1 });
  pipeline = spec.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width !== spec.width || info.height !== spec.height || info.channels !== spec.channels) return undefined;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A JPEG the wasm decoder reads exactly as sharp does: it ends with its EOI marker (sharp fails a truncated file;
 * the codec would pad it) and carries no ICC profile (sharp converts through it to sRGB).
 */
function plainJpeg(b: Uint8Array): boolean {
  if (b.length < 4 || b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) return false;
  for (let i = 2; i + 18 < b.length; ) {
    if (b[i] !== 0xff) return false;
    const m = b[i + 1];
    if (m === 0xff) { i++; continue; }
    if (m === 0xda) return true; // start of scan: no more header segments
    // APP2 "ICC_PROFILE"
    if (m === 0xe2 && b[i + 4] === 0x49 && b[i + 5] === 0x43 && b[i + 6] === 0x43 && b[i + 7] === 0x5f) return false;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return false;
}

/** A WebP whose RIFF size matches the file (a file cut short goes to sharp, which names the problem). */
function plainWebp(b: Uint8Array): boolean {
  const riff = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
  return riff + 8 === b.length;
}

/** What a file's header says, for the formats the fast paths handle. */
interface Header {
  format: 'png' | 'jpeg' | 'webp';
  width: number;
  height: number;
  /** Stored channels where the header says for sure (1 gray, 3 colour), else undefined. */
  channels?: number;
  /** May have transparency. */
  alpha: boolean;
  /** May carry an EXIF orientation. */
  oriented: boolean;
}

/** Reads the header of a PNG, JPEG or WebP (undefined for anything else, or a header it cannot read). */
export function sniff(b: Uint8Array): Header | undefined {
  const u32 = (i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  const u16 = (i: number) => (b[i] << 8) | b[i + 1];
  const le16 = (i: number) => b[i] | (b[i + 1] << 8);
  const le24 = (i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
  if (b.length >= 33 && u32(0) === 0x89504e47 && u32(4) === 0x0d0a1a0a && u32(12) === 0x49484452) {
    const ct = b[25];
    // Gray or RGB, unless a tRNS chunk (before the first IDAT) adds transparency; palette, alpha: sharp decides.
    let channels = ct === 0 ? 1 : ct === 2 ? 3 : undefined;
    for (let i = 33; channels !== undefined; ) {
      if (i + 8 > b.length) { channels = undefined; break; }
      const type = u32(i + 4);
      if (type === 0x74524e53) channels = undefined; // tRNS
      if (type === 0x49444154) break; // IDAT
      i += 12 + u32(i);
    }
    return { format: 'png', width: u32(16), height: u32(20), channels, alpha: ct === 3 || ct === 4 || ct === 6, oriented: false };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let i = 2, oriented = false;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const m = b[i + 1];
      if (m === 0xff) { i++; continue; }
      const len = u16(i + 2);
      if (m === 0xe1 && u32(i + 4) === 0x45786966) oriented = true; // APP1 "Exif"
      // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc): precision, height, width, components.
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        const nf = b[i + 9];
        return { format: 'jpeg', width: u16(i + 7), height: u16(i + 5), channels: nf === 1 || nf === 3 ? nf : undefined, alpha: nf !== 1 && nf !== 3, oriented };
      }
      if (m === 0xd9 || m === 0xda) return undefined;
      i += 2 + len;
    }
    return undefined;
  }
  if (b.length >= 30 && u32(0) === 0x52494646 && u32(8) === 0x57454250) {
    const chunk = u32(12);
    if (chunk === 0x56503820) { // "VP8 ": lossy, no alpha; frame tag then start code 9d 01 2a, then 14-bit sizes
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
      return { format: 'webp', width: le16(26) & 0x3fff, height: le16(28) & 0x3fff, channels: 3, alpha: false, oriented: false };
    }
    if (chunk === 0x5650384c && b[20] === 0x2f) { // "VP8L": 14-bit width-1, height-1, alpha hint
      const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
      const alpha = ((bits >>> 28) & 1) === 1;
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, channels: alpha ? undefined : 3, alpha, oriented: false };
    }
    if (chunk === 0x56503858) { // "VP8X": flags (ICC 0x20, alpha 0x10, EXIF 0x08, animation 0x02), canvas size
      const f = b[20];
      return { format: 'webp', width: le24(24) + 1, height: le24(27) + 1, alpha: (f & 0x12) !== 0, oriented: (f & 0x28) !== 0 };
    }
  }
  return undefined;
}

/** A PNG decoded as stored: 8-bit, 1 (gray), 3 (RGB) or 4 (RGBA) interleaved channels. */
interface RawImage { data: Uint8Array; width: number; height: number; channels: 1 | 3 | 4 }

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a non-interlaced 8-bit PNG (gray, gray+alpha, RGB, RGBA, palette) in JS: chunks, zlib, unfiltering.
 * Undefined for anything it leaves to sharp: other bit depths, interlacing, an ICC profile, gamma or chromaticity
 * (sharp may convert those), EXIF, gray/RGB transparency keys, a bad CRC, or data that ends early.
 */
export function decodePng(b: Uint8Array): RawImage | undefined {
  const u32 = (i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  const crc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  let i = 8, width = 0, height = 0, ct = -1, depth = 8, palette: Uint8Array | undefined, trns: Uint8Array | undefined, ended = false;
  const idat: Uint8Array[] = [];
  while (i + 12 <= b.length) {
    const len = u32(i), type = u32(i + 4), end = i + 12 + len;
    if (end > b.length) return undefined;
    const data = b.subarray(i + 8, i + 8 + len);
    if (crc32 && crc32(b.subarray(i + 4, i + 8 + len)) >>> 0 !== u32(i + 8 + len)) return undefined;
    switch (type) {
      case 0x49484452: // IHDR
        width = u32(i + 8); height = u32(i + 12); depth = data[8]; ct = data[9];
        // 8-bit, or a 1/2/4-bit palette (indices: no scaling to get wrong)
        if ((depth !== 8 && !(ct === 3 && (depth === 1 || depth === 2 || depth === 4))) || data[10] !== 0 || data[11] !== 0 || data[12] !== 0 || PNG_CHANNELS[ct] === undefined) return undefined;
        break;
      case 0x504c5445: palette = data; break; // PLTE
      case 0x74524e53: if (ct !== 3) return undefined; trns = data; break; // tRNS
      case 0x49444154: idat.push(data); break; // IDAT
      case 0x69434350: case 0x67414d41: case 0x6348524d: case 0x73524742: case 0x65584966: case 0x6163544c:
        return undefined; // iCCP, gAMA, cHRM, sRGB, eXIf, acTL (animated): left to sharp
      case 0x49454e44: ended = true; break; // IEND
      default: if ((b[i + 4] & 0x20) === 0) return undefined; // an unknown critical chunk
    }
    if (ended) break;
    i = end;
  }
  if (!ended || width === 0 || height === 0 || (ct === 3 && !palette)) return undefined;
  // n: bytes per pixel for the filters (1 for sub-byte depths); stride: bytes per row.
  const n = PNG_CHANNELS[ct], stride = depth === 8 ? width * n : Math.ceil((width * depth) / 8);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat));
  } catch {
    return undefined;
  }
  if (raw.length < height * (stride + 1)) return undefined;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], src = y * (stride + 1) + 1, row = y * stride, up = row - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x];
      const a = x >= n ? px[row + x - n] : 0;
      const c = y > 0 ? px[up + x] : 0;
      const d = x >= n && y > 0 ? px[up + x - n] : 0;
      let p: number;
      switch (f) {
        case 0: p = v; break;
        case 1: p = v + a; break;
        case 2: p = v + c; break;
        case 3: p = v + ((a + c) >> 1); break;
        case 4: {
          const q = a + c - d, pa = Math.abs(q - a), pb = Math.abs(q - c), pc = Math.abs(q - d);
          p = v + (pa <= pb && pa <= pc ? a : pb <= pc ? c : d);
          break;
        }
        default: return undefined;
      }
      px[row + x] = p & 255;
    }
  }
  if (ct === 0) return { data: px, width, height, channels: 1 };
  if (ct === 2) return { data: px, width, height, channels: 3 };
  if (ct === 6) return { data: px, width, height, channels: 4 };
  if (ct === 4) { // gray+alpha as RGBA (pngToSpec only keeps it when opaque)
    const out = new Uint8Array(width * height * 4);
    for (let k = 0; k < width * height; k++) out.fill(px[2 * k], 4 * k, 4 * k + 3), (out[4 * k + 3] = px[2 * k + 1]);
    return { data: out, width, height, channels: 4 };
  }
  // Palette: expand to RGB, or RGBA with the tRNS alphas.
  const pal = palette!, m = trns ? 4 : 3, out = new Uint8Array(width * height * m);
  const perByte = 8 / depth, mask = (1 << depth) - 1;
  for (let k = 0; k < width * height; k++) {
    const y = Math.floor(k / width), x = k - y * width;
    const e = depth === 8 ? px[k] : (px[y * stride + Math.floor(x / perByte)] >> (8 - depth * (1 + (x % perByte)))) & mask;
    if (3 * e + 2 >= pal.length) return undefined;
    out[m * k] = pal[3 * e]; out[m * k + 1] = pal[3 * e + 1]; out[m * k + 2] = pal[3 * e + 2];
    if (trns) out[m * k + 3] = e < trns.length ? trns[e] : 255;
  }
  return { data: out, width, height, channels: m as 3 | 4 };
}

/**
 * A decoded PNG as `spec` pixels, where that needs no arithmetic that could round differently from sharp:
 * opaque (alpha all 255, so flattening is the identity); gray to RGB replicates; RGB to gray only when every
 * pixel is neutral (r = g = b, where sharp's luminance gives that same level). Else undefined.
 */
function pngToSpec(img: RawImage, spec: ImageSpec): Uint8Array | undefined {
  let { data, channels } = img;
  const n = img.width * img.height;
  if (channels === 4) {
    const rgb = new Uint8Array(n * 3);
    for (let k = 0; k < n; k++) {
      if (data[4 * k + 3] !== 255) return undefined;
      rgb[3 * k] = data[4 * k]; rgb[3 * k + 1] = data[4 * k + 1]; rgb[3 * k + 2] = data[4 * k + 2];
    }
    data = rgb;
    channels = 3;
  }
  if (channels === spec.channels) return data;
  if (channels === 1) { // gray → RGB
    const out = new Uint8Array(n * 3);
    for (let k = 0; k < n; k++) out[3 * k] = out[3 * k + 1] = out[3 * k + 2] = data[k];
    return out;
  }
  const out = new Uint8Array(n); // RGB → gray, neutral pixels only
  for (let k = 0; k < n; k++) {
    const r = data[3 * k];
    if (data[3 * k + 1] !== r || data[3 * k + 2] !== r) return undefined;
    out[k] = r;
  }
  return out;
}

/** How far from neutral (|r − g|, |b − g|) a pixel may be for nearNeutralGray. */
const NEAR = 6;
let grayLut: Promise<Uint8Array> | undefined;

/**
 * Opaque RGBA pixels as sharp's gray, when every pixel is within NEAR of neutral — what a gray picture saved as
 * lossy WebP or colour JPEG decodes to (chroma rounding leaves r, g, b a step or two apart). The levels come from
 * sharp itself, once: a table of its gray for every such colour (256 × 13 × 13), so they are its pixels exactly.
 */
async function nearNeutralGray(rgba: Uint8Array): Promise<Uint8Array | undefined> {
  const n = rgba.length / 4, side = 2 * NEAR + 1;
  for (let k = 0; k < n; k++) {
    const g = rgba[4 * k + 1];
    if (rgba[4 * k + 3] !== 255 || Math.abs(rgba[4 * k] - g) > NEAR || Math.abs(rgba[4 * k + 2] - g) > NEAR) return undefined;
  }
  grayLut ??= (async () => {
    const colours = Buffer.alloc(256 * side * side * 3);
    let i = 0;
    for (let g = 0; g < 256; g++) {
      for (let dr = -NEAR; dr <= NEAR; dr++) {
        for (let db = -NEAR; db <= NEAR; db++, i += 3) {
          colours[i] = Math.max(0, Math.min(255, g + dr)); colours[i + 1] = g; colours[i + 2] = Math.max(0, Math.min(255, g + db));
        }
      }
    }
    const width = side * side;
    const gray = await sharp(colours, { raw: { width, height: 256, channels: 3 } }).grayscale().raw({ depth: 'uchar' }).toBuffer();
    return new Uint8Array(gray.buffer, gray.byteOffset, gray.byteLength);
  })();
  const lut = await grayLut;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const r = rgba[4 * k], g = rgba[4 * k + 1], b = rgba[4 * k + 2];
    out[k] = lut[(g * side + (r - g + NEAR)) * side + (b - g + NEAR)];
  }
  return out;
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
  // Gray or colour PNG, JPEG and lossy WebP headers say it outright (as sharp's metadata does); else ask sharp.
  try {
    const known = sniff(typeof src === 'string' ? readHead(src, 65536) : src)?.channels;
    if (known !== undefined) return known;
  } catch {
    // (unreadable: sharp reports it below)
  }
  try {
    const meta = await sharp(src, { pages: 1 }).metadata();
    if (meta.space === 'b-w' || meta.space === 'grey16') return meta.hasAlpha ? 2 : 1;
    return meta.channels;
  } catch {
    return undefined;
  }
}

/** The first `bytes` of a file (all of a smaller one). */
function readHead(file: string, bytes: number): Buffer {
  // Synchronous, as decodeImage reads: for a header the async calls' thread-pool round trips are the whole cost.
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
