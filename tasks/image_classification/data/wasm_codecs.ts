/**
 * JPEG and WebP decoders compiled to wasm (@jsquash/jpeg: MozJPEG, the libjpeg-turbo fork sharp's libvips is
 * built with; @jsquash/webp: libwebp). For a small image sharp's per-call cost (~1–2 ms of CPU, whatever the size)
 * dwarfs the decode itself; these take ~0.1 ms for a 28 px JPEG and give the same pixels (decode.test.ts checks
 * every case against sharp's full pipeline). Compiled once per process, on first use.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import decodeJpegWasm, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodeWebpWasm, { init as initWebp } from '@jsquash/webp/decode.js';

/** Interleaved RGBA pixels as the codec wrote them. */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const require = createRequire(import.meta.url);

async function compile(file: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await readFile(require.resolve(file)));
}

let jpegReady: Promise<void> | undefined;
let webpReady: Promise<void> | undefined;

function asArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function rgba(img: { data: Uint8ClampedArray; width: number; height: number }): RgbaImage {
  return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height };
}

/** Decodes a baseline or progressive 8-bit JPEG to RGBA (gray replicated); throws on data the codec rejects. */
export async function decodeJpegRgba(bytes: Uint8Array): Promise<RgbaImage> {
  jpegReady ??= compile('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm').then((m) => initJpeg(m));
  await jpegReady;
  // preserveOrientation: callers only come here for files without EXIF, so this is a no-op kept explicit.
  return rgba(await decodeJpegWasm(asArrayBuffer(bytes), { preserveOrientation: true }));
}

/** Decodes a lossy or lossless WebP (first frame) to RGBA; throws on data the codec rejects. */
export async function decodeWebpRgba(bytes: Uint8Array): Promise<RgbaImage> {
  webpReady ??= compile('@jsquash/webp/codec/dec/webp_dec.wasm').then((m) => initWebp(m));
  await webpReady;
  return rgba(await decodeWebpWasm(asArrayBuffer(bytes)));
}
