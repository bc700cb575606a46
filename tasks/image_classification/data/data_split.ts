import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import type { Batch as CoreBatch, BatchOptions as CoreBatchOptions, DataSplit as CoreDataSplit } from '../../../src/core/trainer/types.js';
import type { ImageSpec } from './decode.js';
import { augmentSample, DEFAULT_AUGMENTATIONS, resolveAugmentations } from './augment.js';
import { balancedOrder, type SamplerMode } from './imbalance.js';
import { deriveSeed, Random } from './random.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_SEED } from '../../../src/core/config/index.js';

/**
 * One batch (the core Batch, narrowed): raw 0–255 float32 pixels [b, h, w, c], the targets and the sample ids.
 * Targets are int32 label indices [b], or for a multi-label split float32 0/1 rows [b, numLabels] (what binary
 * cross-entropy reads).
 */
export interface Batch extends CoreBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D | tf.Tensor2D;
}

/**
 * Options for reading an image split: the core BatchOptions, every one optional (batchSize defaults to the data
 * module's batch size, seed to its seed, epoch to 0, shuffle to false; the order and augmentation of an epoch
 * derive from (seed, epoch)), plus the image-only augmentation and sampler options.
 */
export interface BatchOptions extends Partial<CoreBatchOptions> {
  /**
   * Train-time augmentation on/off. Defaults to true for the train split (unless turned off) and false otherwise.
   * Declared here rather than inherited: augmentation is the image task's, not the core's.
   */
  augment?: boolean;
  /** Which augmentations run when `augment` is on (names of `augmentations` in augment.ts). Defaults to the split's (['hflip']). */
  augmentations?: readonly string[];
  /**
   * 'balanced': with `shuffle`, each epoch draws `size` indices so every class appears about equally often
   * (oversampling, seeded by (seed, epoch)). Defaults to the split's ('none'; the train split takes --data.sampler).
   */
  sampler?: SamplerMode;
}

/** One image split: the core DataSplit with image batches and options, plus its ids, labels and multi-label targets. */
export interface DataSplit extends CoreDataSplit {
  /**
   * Yields batches; the consumer disposes x and y. Shuffling uses a seed derived from (seed, epoch) so runs are
   * reproducible; augment applies train-time augmentation (the split's augmentations; random horizontal flip by default).
   */
  batches(opts: BatchOptions): AsyncIterable<Batch>;
  readonly ids: string[];
  readonly labels: Int32Array;
  /** Multi-label splits: the 0/1 targets (see MultiHot). */
  readonly multiHot?: MultiHot;
}

/**
 * Multi-label targets of a split: `hot[i * numLabels + c]` is 1 when sample i carries label c. A sample may carry
 * none. The split's `labels` then hold each sample's first label (-1 for none), which only steers the stratified
 * val split; counts, batches and metrics read `hot`.
 */
export interface MultiHot {
  numLabels: number;
  hot: Uint8Array;
}

/** MultiHot rows from each sample's label indices; `labels` = the first label of each (-1 for none). */
export function multiHotFrom(targets: readonly (readonly number[])[], numLabels: number): { multiHot: MultiHot; labels: Int32Array } {
  const hot = new Uint8Array(targets.length * numLabels);
  const labels = new Int32Array(targets.length).fill(-1);
  targets.forEach((t, i) => {
    for (const c of t) {
      if (!Number.isInteger(c) || c < 0 || c >= numLabels) throw new Error(`sample ${i}: label ${c} is outside [0, ${numLabels})`);
      hot[i * numLabels + c] = 1;
    }
    if (t.length > 0) labels[i] = Math.min(...t);
  });
  return { multiHot: { numLabels, hot }, labels };
}

/**
 * Where a split's pixels come from, one sample at a time (raw HWC uint8 of the split's spec). Today a memory
 * cache of decoded images; a streaming store (decode on the fly, disk cache) can sit behind the same interface.
 */
export interface PixelStore {
  readonly size: number;
  get(index: number): Uint8Array | Promise<Uint8Array>;
  /** Optional hint: the order the next `get` calls will follow (one epoch), so a streaming store can read ahead. */
  prefetch?(indices: number[]): void;
}

/** Decoded pixels kept in memory, one Uint8Array per sample. */
export class MemoryPixelStore implements PixelStore {
  constructor(private readonly pixels: Uint8Array[]) {}
  get size(): number {
    return this.pixels.length;
  }
  get(index: number): Uint8Array {
    return this.pixels[index];
  }
  /** Bytes held. */
  get bytes(): number {
    return this.pixels.reduce((n, p) => n + p.byteLength, 0);
  }
}

/** Defaults a split applies when `batches()` is called without them. */
export interface SplitDefaults {
  batchSize: number;
  seed: number;
  augment: boolean;
  /** Augmentations applied when `augment` is on; default ['hflip']. */
  augmentations?: readonly string[];
  /** Order of shuffled epochs; default 'none' (a plain permutation). */
  sampler?: SamplerMode;
}

/** Seed streams derived from (seed, epoch, stream): one for the order, one for augmentation. */
const ORDER_STREAM = 1;
const AUGMENT_STREAM = 2;

/** Copies `src` (h×w×c) into `dst` at `offset`, mirrored left–right when `flip`. */
function copyPixels(dst: Float32Array, offset: number, src: Uint8Array, spec: ImageSpec, flip: boolean): void {
  const { height: h, width: w, channels: c } = spec;
  if (!flip) {
    for (let i = 0; i < src.length; i++) dst[offset + i] = src[i];
    return;
  }
  const row = w * c;
  for (let y = 0; y < h; y++) {
    const base = y * row;
    for (let x = 0; x < w; x++) {
      const from = base + (w - 1 - x) * c;
      const to = offset + base + x * c;
      for (let k = 0; k < c; k++) dst[to + k] = src[from + k];
    }
  }
}

/** A split of images: ids, labels and a pixel store. Holds no tensors; tensors exist only inside yielded batches. */
export class ImageSplit implements DataSplit {
  readonly labels: Int32Array;

  constructor(
    readonly spec: ImageSpec,
    readonly ids: string[],
    labels: ArrayLike<number>,
    private readonly store: PixelStore,
    private readonly defaults: SplitDefaults = { batchSize: DEFAULT_BATCH_SIZE, seed: DEFAULT_SEED, augment: false },
    /** Multi-label targets (one row per sample); undefined for single-label splits. */
    readonly multiHot?: MultiHot,
  ) {
    if (ids.length !== labels.length || ids.length !== store.size) {
      throw new Error(`ImageSplit: ${ids.length} ids, ${labels.length} labels and ${store.size} images must match`);
    }
    if (multiHot && multiHot.hot.length !== ids.length * multiHot.numLabels) {
      throw new Error(`ImageSplit: ${multiHot.hot.length} multi-label targets for ${ids.length} samples × ${multiHot.numLabels} labels`);
    }
    if (multiHot && (defaults.sampler ?? 'none') === 'balanced') {
      throw new FlashUserError('--data.sampler balanced draws by class and multi-label images have several; use --data.sampler none');
    }
    this.labels = Int32Array.from(labels);
    resolveAugmentations(defaults.augmentations);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Samples per label index (labels < 0, i.e. unlabelled, are not counted); multi-label: samples carrying each label. */
  classCounts(numClasses: number): number[] {
    const counts = new Array<number>(numClasses).fill(0);
    if (this.multiHot) {
      const { numLabels: k, hot } = this.multiHot;
      for (let i = 0; i < hot.length; i++) if (hot[i] && i % k < numClasses) counts[i % k]++;
      return counts;
    }
    for (const l of this.labels) if (l >= 0 && l < numClasses) counts[l]++;
    return counts;
  }

  /** The raw HWC uint8 pixels of sample `index`. */
  pixels(index: number): Promise<Uint8Array> {
    return Promise.resolve(this.store.get(index));
  }

  /** The visiting order for an epoch: identity, or a permutation seeded by (seed, epoch). */
  order(opts: BatchOptions = {}): number[] {
    const n = this.size;
    if (!opts.shuffle) return Array.from({ length: n }, (_, i) => i);
    const seed = opts.seed ?? this.defaults.seed;
    if ((opts.sampler ?? this.defaults.sampler ?? 'none') === 'balanced') return balancedOrder(this.labels, seed, opts.epoch ?? 0);
    return new Random(deriveSeed(seed, opts.epoch ?? 0, ORDER_STREAM)).permutation(n);
  }

  async *batches(opts: BatchOptions = {}): AsyncGenerator<Batch> {
    const batchSize = opts.batchSize ?? this.defaults.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new FlashUserError(`batch_size must be a positive integer, got ${batchSize}`);
    }
    // `deterministic` (the core's evaluation and feature-cache reads) turns augmentation off whatever the defaults.
    const augment = opts.deterministic ? false : (opts.augment ?? this.defaults.augment);
    const seed = opts.seed ?? this.defaults.seed;
    const augRng = new Random(deriveSeed(seed, opts.epoch ?? 0, AUGMENT_STREAM));
    const names = augment ? resolveAugmentations(opts.augmentations ?? this.defaults.augmentations ?? DEFAULT_AUGMENTATIONS) : [];
    // The default (flip only) keeps its cheap copy path; any other list runs the per-sample ops of augment.ts.
    const flipOnly = names.length === 1 && names[0] === 'hflip';
    const order = this.order({ ...opts, seed });
    this.store.prefetch?.(order);
    const { height, width, channels } = this.spec;
    const per = height * width * channels;
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const b = idx.length;
      const xs = new Float32Array(b * per);
      const ys = new Int32Array(b);
      const k = this.multiHot?.numLabels ?? 0;
      const hot = this.multiHot ? new Float32Array(b * k) : undefined;
      const ids: string[] = [];
      for (let j = 0; j < b; j++) {
        const i = idx[j];
        const px = await this.store.get(i);
        if (names.length === 0) copyPixels(xs, j * per, px, this.spec, false);
        else if (flipOnly) copyPixels(xs, j * per, px, this.spec, augRng.float() < 0.5);
        else xs.set(augmentSample(px, this.spec, names, augRng), j * per);
        ys[j] = this.labels[i];
        if (hot) for (let c = 0; c < k; c++) hot[j * k + c] = this.multiHot!.hot[i * k + c];
        ids.push(this.ids[i]);
      }
      const y = hot ? tf.tensor2d(hot, [b, k], 'float32') : tf.tensor1d(ys, 'int32');
      yield { x: tf.tensor4d(xs, [b, height, width, channels]), y, ids };
    }
  }

  /** A split holding the given samples of this one (same store entries, no copy of pixels). */
  subset(indices: number[], defaults: SplitDefaults = this.defaults): ImageSplit {
    const store = this.store;
    const view: PixelStore = {
      size: indices.length,
      get: (i) => store.get(indices[i]),
      prefetch: store.prefetch && ((order) => store.prefetch!(order.map((i) => indices[i]))),
    };
    const mh = this.multiHot;
    const k = mh?.numLabels ?? 0;
    return new ImageSplit(
      this.spec,
      indices.map((i) => this.ids[i]),
      indices.map((i) => this.labels[i]),
      view,
      defaults,
      mh && { numLabels: k, hot: Uint8Array.from(indices.flatMap((i) => Array.from(mh.hot.subarray(i * k, (i + 1) * k)))) },
    );
  }
}

/**
 * Builds an in-memory split from already decoded pixels (raw HWC uint8 of `spec`) — also handy for tests of code
 * that consumes a DataSplit.
 */
export function splitFromPixels(
  spec: ImageSpec,
  items: { id: string; pixels: Uint8Array; label: number }[],
  defaults?: Partial<SplitDefaults>,
  multiHot?: MultiHot,
): ImageSplit {
  const per = spec.height * spec.width * spec.channels;
  for (const it of items) {
    if (it.pixels.length !== per) {
      throw new Error(`sample ${it.id}: ${it.pixels.length} pixels, expected ${per} for ${spec.height}×${spec.width}×${spec.channels}`);
    }
  }
  return new ImageSplit(
    spec,
    items.map((it) => it.id),
    items.map((it) => it.label),
    new MemoryPixelStore(items.map((it) => it.pixels)),
    { batchSize: DEFAULT_BATCH_SIZE, seed: DEFAULT_SEED, augment: false, ...defaults },
    multiHot,
  );
}
