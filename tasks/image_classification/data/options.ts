/**
 * The public options of the image data builders (DataOptions and the per-builder FolderOptions, FileOptions,
 * DatasetOptions), the samples a plan holds, and `resolveOptions`, which checks them and fills in the defaults.
 */
import type * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import { cacheDir as defaultCacheDir } from '../../../src/core/data/remote.js';
import type { Channels } from './decode.js';
import type { DecodedImage } from './tf_dataset.js';
import { resolveAugmentations } from './augment.js';
import type { SamplerMode } from './imbalance.js';
import { CACHE_MEMORY_BUDGET, type DataCache } from './cache_choice.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_SEED } from '../../../src/core/config/index.js';

/** One sample before decoding. */
export interface Sample {
  /** The file path, or `#<index>` for in-memory items. */
  id: string;
  /** A path, an encoded image, a tensor, or pixels already converted to the build's spec (tf.data elements). */
  source: string | Buffer | tf.Tensor3D | DecodedImage;
  /** Index into labels; -1 for unlabelled (multi-label: the first of `targets`, -1 for none). */
  label: number;
  /** Multi-label samples: every label index the image carries (possibly none). */
  targets?: number[];
}

/** One element of a dataset given to `fromDatasets`. */
export interface DatasetItem {
  image: string | Buffer | tf.Tensor3D;
  label: string | number;
}
/** Any iterable or async iterable of `{ image, label }` (arrays, generators, async generators, custom classes). */
export type DatasetLike = Iterable<DatasetItem> | AsyncIterable<DatasetItem>;
/** What `fromDatasets` takes per split: an iterable of `{ image, label }`, or a tf.data.Dataset of them. */
export type DatasetInput = DatasetLike | tf.data.Dataset<tf.TensorContainer>;

export interface DataOptions {
  /** Default 32. */
  batchSize?: number;
  /** Square size or [height, width]. Default DEFAULT_IMAGE_SIZE; callers normally pass the backbone's size. */
  imageSize?: number | [number, number];
  /** 'auto' (default): 1 if every train image is grayscale (with or without alpha), else 3. */
  channels?: Channels | 'auto';
  /** Default 0.2; used only when no val folder/files are given; 0 = no val. */
  valSplit?: number;
  /** Default 42. */
  seed?: number;
  /** Undecodable files: false (default) → skipped, each reported via onWarning; true → FlashUserError. */
  strict?: boolean;
  /** Default true: train batches are augmented (with `augmentations`). */
  augment?: boolean;
  /** Train-time augmentations when `augment` is on (see augment.ts); default ['hflip']. Unknown names: did-you-mean error. */
  augmentations?: string[];
  /** 'balanced': train epochs oversample so every class appears about equally often; default 'none'. */
  sampler?: SamplerMode;
  /** Default console.warn. */
  onWarning?: (message: string) => void;
  /** Progress notes (downloading or extracting a zip). Default: console.error. */
  onInfo?: (message: string) => void;
  /**
   * Decoded pixels: 'memory' (decode once, keep), 'none' (decode on the fly from the files while training, with a
   * bounded read-ahead; memory stays flat), 'disk' (decode once into `cacheDir`, then read the raw pixels back with
   * the same bounded read-ahead, in this and later runs; see disk_cache.ts) or 'auto' (default: memory when they fit
   * in CACHE_MEMORY_BUDGET, else disk). Every image is still checked at build time (decoded, or found in the disk
   * cache) to drop undecodable files. Images given as Buffers or tensors are always kept in memory. When the disk
   * cache can't be written, the build says so (onWarning) and decodes on the fly instead.
   */
  cache?: DataCache;
  /** flash's cache folder, for cache 'disk' (entries under `<cacheDir>/decoded/`). Default: FLASH_CACHE_DIR, else ~/.cache/flash. */
  cacheDir?: string;
  /** With cache 'auto': the most decoded bytes kept in memory before the disk cache is used. Default CACHE_MEMORY_BUDGET. */
  memoryBudget?: number;
  /**
   * Multi-label classification (several labels per image, sigmoid head): 'auto' (default) = when the data says so
   * (several target columns, or a delimited label column); true = treat one label column as multi-label (labels
   * separated by spaces unless ';', ',' or '|' appear); false = refuse multi-label data. Read by `from_csv`.
   */
  multiLabel?: MultiLabelMode;
}

export type MultiLabelMode = 'auto' | boolean;

export interface FolderOptions extends DataOptions {
  /** A folder of class sub-folders, or one holding train/ (and val/|valid/|validation/, test/, predict/). */
  folder?: string;
  trainFolder?: string;
  valFolder?: string;
  testFolder?: string;
  predictFolder?: string;
}

/** A file's target: a class name, or for multi-label data the list of its label names (possibly empty). */
export type FileTarget = string | readonly string[];

export interface FileOptions extends DataOptions {
  trainFiles: string[];
  /** One class name per file; a list of names per file (any of them) makes the data multi-label. */
  trainTargets: FileTarget[];
  valFiles?: string[];
  valTargets?: FileTarget[];
  testFiles?: string[];
  testTargets?: FileTarget[];
  predictFiles?: string[];
}

export interface DatasetOptions extends DataOptions {
  trainDataset: DatasetInput;
  valDataset?: DatasetInput;
  testDataset?: DatasetInput;
  /** Class names in index order; numeric labels index into it. Without it, numeric labels become '0', '1', …. */
  labels?: string[];
}

/** Image size used when `imageSize` is not given (Lightning Flash's default for image classification). */
export const DEFAULT_IMAGE_SIZE = 196;

/** DataOptions checked, with every default filled in. */
export interface Resolved {
  batchSize: number;
  height: number;
  width: number;
  channels: Channels | 'auto';
  valSplit: number;
  seed: number;
  strict: boolean;
  augment: boolean;
  augmentations: string[];
  sampler: SamplerMode;
  cache: DataCache;
  cacheDir: string;
  memoryBudget: number;
  onWarning: (message: string) => void;
}

function resolveSampler(sampler: SamplerMode | undefined): SamplerMode {
  if (sampler === undefined || sampler === 'none' || sampler === 'balanced') return sampler ?? 'none';
  throw new FlashUserError(`sampler must be 'balanced' or 'none', got ${JSON.stringify(sampler)}`);
}

/** Checks the options and fills in their defaults; every builder resolves them first, so bad options fail before any file is read. */
export function resolveOptions(opts: DataOptions): Resolved {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new FlashUserError(`batch_size must be a positive integer, got ${JSON.stringify(batchSize)}`);
  }
  const size = opts.imageSize ?? DEFAULT_IMAGE_SIZE;
  const [height, width] = Array.isArray(size) ? size : [size, size];
  for (const v of [height, width]) {
    if (!Number.isInteger(v) || v < 1 || v > 4096) {
      throw new FlashUserError(`image_size must be a positive integer (or [height, width]) up to 4096, got ${JSON.stringify(size)}`);
    }
  }
  const channels = opts.channels ?? 'auto';
  if (channels !== 1 && channels !== 3 && channels !== 'auto') {
    throw new FlashUserError(`channels must be 1, 3 or 'auto', got ${JSON.stringify(channels)}`);
  }
  const valSplit = opts.valSplit ?? 0.2;
  if (typeof valSplit !== 'number' || !Number.isFinite(valSplit) || valSplit < 0 || valSplit >= 1) {
    throw new FlashUserError(`val_split must be a number in [0, 1), got ${JSON.stringify(valSplit)}`);
  }
  const memoryBudget = opts.memoryBudget ?? CACHE_MEMORY_BUDGET;
  if (typeof memoryBudget !== 'number' || !(memoryBudget >= 0)) {
    throw new FlashUserError(`memoryBudget must be a number of bytes ≥ 0, got ${JSON.stringify(memoryBudget)}`);
  }
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new FlashUserError(`seed must be an integer, got ${JSON.stringify(seed)}`);
  const cache = opts.cache ?? 'auto';
  if (cache !== 'memory' && cache !== 'none' && cache !== 'disk' && cache !== 'auto') {
    throw new FlashUserError(`cache must be 'memory', 'none', 'disk' or 'auto', got ${JSON.stringify(cache)}`);
  }
  return {
    batchSize,
    height,
    width,
    channels,
    valSplit,
    seed,
    strict: opts.strict ?? false,
    augment: opts.augment ?? true,
    augmentations: resolveAugmentations(opts.augmentations),
    sampler: resolveSampler(opts.sampler),
    cache,
    cacheDir: opts.cacheDir ?? defaultCacheDir(),
    memoryBudget,
    onWarning: opts.onWarning ?? ((m) => console.warn(m)),
  };
}
