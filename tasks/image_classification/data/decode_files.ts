/**
 * Decoding a list of samples into a pixel store: kept in memory, streamed from the files, or read back from the
 * disk cache (as the build's cache choice says), with undecodable files skipped or fatal.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeImage, ImageDecodeError, imageChannels, type Channels, type ImageSpec } from './decode.js';
import { tensorToPixels } from './tensor_pixels.js';
import { ImageSplit, MemoryPixelStore, multiHotFrom, type PixelStore, type SplitDefaults } from './data_split.js';
import { StreamingPixelStore } from './streaming_store.js';
import { DiskPixelStore, type DiskPixelCache } from './disk_cache.js';
import { DecodedImage } from './tf_dataset.js';
import type { Sample } from './options.js';

/** How many images sharp decodes at a time. */
const DECODE_CONCURRENCY = 4;

/** Runs `fn` over items with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** 1 when every train image is stored single-channel (gray, or gray + alpha), else 3. */
export async function detectChannels(samples: Pick<Sample, 'source'>[]): Promise<Channels> {
  if (samples.length === 0) return 3;
  const counts = await mapLimit(samples, DECODE_CONCURRENCY * 2, async (s) =>
    s.source instanceof tf.Tensor ? s.source.shape[2] : s.source instanceof DecodedImage ? s.source.spec.channels : imageChannels(s.source),
  );
  // Unreadable headers (undefined) don't vote: those files are reported when decoding.
  const known = counts.filter((c): c is number => c !== undefined);
  return known.length > 0 && known.every((c) => c === 1 || c === 2) ? 1 : 3;
}

/** How decodeSamples decodes and where it keeps the pixels; `skipped` collects the undecodable files. */
export interface DecodeContext {
  spec: ImageSpec;
  strict: boolean;
  onWarning: (message: string) => void;
  skipped: { file: string; reason: string }[];
  /** Keep only the file paths and decode again on the fly (a StreamingPixelStore); needs every source to be a path. */
  stream?: boolean;
  /** Keep only the file paths and read the pixels back from this disk cache (decoding and writing what it lacks). */
  disk?: DiskPixelCache;
}

/** Decodes every sample once (at most DECODE_CONCURRENCY at a time); undecodable ones are skipped or fatal. */
export async function decodeSamples(
  samples: Sample[],
  ctx: DecodeContext,
): Promise<{ ids: string[]; labels: number[]; targets: number[][]; store: PixelStore }> {
  const empty = new Uint8Array(0);
  const pixels = await mapLimit(samples, DECODE_CONCURRENCY, async (s) => {
    try {
      if (s.source instanceof tf.Tensor) return tensorToPixels(s.source, ctx.spec, s.id);
      if (s.source instanceof DecodedImage) return s.source.pixels;
      // Disk: an entry found means the file decoded before (same path, size and times); else decode and write it.
      if (ctx.disk && typeof s.source === 'string') {
        await ctx.disk.load(s.source);
        return empty;
      }
      const px = await decodeImage(s.source, ctx.spec, s.id);
      // Streaming: the decode only checks the file (dropped here, decoded again when a batch needs it).
      return ctx.stream ? empty : px;
    } catch (err) {
      if (!(err instanceof ImageDecodeError) || ctx.strict) throw err;
      return err;
    }
  });
  const ids: string[] = [];
  const labels: number[] = [];
  const targets: number[][] = [];
  const kept: Uint8Array[] = [];
  const files: string[] = [];
  pixels.forEach((p, i) => {
    if (p instanceof ImageDecodeError) {
      ctx.skipped.push({ file: p.file, reason: p.reason });
      ctx.onWarning(`skipping '${p.file}': ${p.reason}`);
      return;
    }
    ids.push(samples[i].id);
    labels.push(samples[i].label);
    targets.push(samples[i].targets ?? []);
    kept.push(p);
    if (ctx.stream || ctx.disk) files.push(samples[i].source as string);
  });
  const store = ctx.disk
    ? new DiskPixelStore(files, ctx.disk)
    : ctx.stream
      ? new StreamingPixelStore(files, ctx.spec)
      : new MemoryPixelStore(kept);
  return { ids, labels, targets, store };
}

/**
 * Decodes images to `spec` (at most 4 at a time, order kept) for predict/evaluate: files that can't be decoded are
 * skipped, each reported via onWarning ("skipping 'x': reason") and listed in `skipped`; `strict` makes the first
 * one a FlashUserError naming the file. Items may carry a label (-1 when unlabelled).
 */
export async function decodeFiles(
  items: (string | { file: string; label?: number })[],
  spec: ImageSpec,
  opts: { strict?: boolean; onWarning?: (message: string) => void } = {},
): Promise<{ items: { id: string; pixels: Uint8Array; label: number }[]; skipped: { file: string; reason: string }[] }> {
  const samples: Sample[] = items.map((it) =>
    typeof it === 'string' ? { id: it, source: it, label: -1 } : { id: it.file, source: it.file, label: it.label ?? -1 },
  );
  const skipped: { file: string; reason: string }[] = [];
  const ctx: DecodeContext = { spec, strict: opts.strict ?? false, onWarning: opts.onWarning ?? ((m) => console.warn(m)), skipped };
  const d = await decodeSamples(samples, ctx);
  return {
    items: d.ids.map((id, i) => ({ id, pixels: (d.store as MemoryPixelStore).get(i), label: d.labels[i] })),
    skipped,
  };
}

/** A val or test split decoded from its samples; undefined (with a warning) when none of them decodes. */
export async function decodeOptional(
  samples: Sample[],
  ctx: DecodeContext,
  defaults: SplitDefaults,
  what: string,
  onWarning: (m: string) => void,
  /** Multi-label: the number of labels (targets become MultiHot rows). */
  numLabels?: number,
): Promise<ImageSplit | undefined> {
  const d = await decodeSamples(samples, ctx);
  if (d.ids.length === 0) {
    onWarning(`no ${what} image could be decoded; running without a ${what} split`);
    return undefined;
  }
  return new ImageSplit(ctx.spec, d.ids, d.labels, d.store, defaults, numLabels === undefined ? undefined : multiHotFrom(d.targets, numLabels).multiHot);
}
