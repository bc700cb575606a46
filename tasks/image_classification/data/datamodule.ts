import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import { didYouMean } from '../../../src/core/suggest.js';
import {
  decodeImage,
  ImageDecodeError,
  imageChannels,
  tensorToPixels,
  type Channels,
  type ImageSpec,
} from './decode.js';
import { ImageSplit, MemoryPixelStore, multiHotFrom, type DataSplit, type PixelStore, type SplitDefaults } from './data_split.js';
import { StreamingPixelStore } from './streaming_store.js';
import { DiskPixelCache, DiskPixelStore, type DiskCacheStats } from './disk_cache.js';
import { collectTfDataset, DecodedImage, isTfDataset, tfDatasetChannels } from './tf_dataset.js';
import { cacheDir as defaultCacheDir } from '../../../src/core/data/remote.js';
import { resolveAugmentations } from './augment.js';
import type { SamplerMode } from './imbalance.js';
import { assertFolder, compareNames, listImageFiles, scanClassFolders } from './scan.js';
import { stratifiedSplit } from './split.js';
import { planCsv, type CsvOptions } from './csv.js';

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

export type DataCache = 'memory' | 'none' | 'disk' | 'auto';

/** With cache 'auto', decoded pixels up to this many bytes are kept in memory (512 MiB). */
export const CACHE_MEMORY_BUDGET = 512 * 1024 * 1024;

/** Which pixel store a data module chose and why (printed in its summary). */
export interface CacheChoice {
  mode: 'memory' | 'none' | 'disk';
  reason: string;
  /** With 'disk': entries reused, images decoded and entries written while building (the epochs add to them). */
  disk?: DiskCacheStats;
}

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
/** How many images sharp decodes at a time. */
const DECODE_CONCURRENCY = 4;
const VAL_FOLDER_NAMES = ['val', 'valid', 'validation'];

interface Resolved {
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

function resolveOptions(opts: DataOptions): Resolved {
  const batchSize = opts.batchSize ?? 32;
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
  const seed = opts.seed ?? 42;
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

/** Runs `fn` over items with at most `limit` in flight; results keep the input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
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

async function isFolder(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** True when a folder holds nothing but hidden entries. */
async function isEmptyFolder(p: string): Promise<boolean> {
  return (await fs.readdir(p)).every((name) => name.startsWith('.'));
}

/** 1 when every train image is stored single-channel (gray, or gray + alpha), else 3. */
async function detectChannels(samples: Pick<Sample, 'source'>[]): Promise<Channels> {
  if (samples.length === 0) return 3;
  const counts = await mapLimit(samples, DECODE_CONCURRENCY * 2, async (s) =>
    s.source instanceof tf.Tensor ? s.source.shape[2] : s.source instanceof DecodedImage ? s.source.spec.channels : imageChannels(s.source),
  );
  // Unreadable headers (undefined) don't vote: those files are reported when decoding.
  const known = counts.filter((c): c is number => c !== undefined);
  return known.length > 0 && known.every((c) => c === 1 || c === 2) ? 1 : 3;
}

interface DecodeContext {
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
async function decodeSamples(
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

/**
 * What a builder found before any image is decoded: class names, the samples of each split, the files to predict
 * and the non-image files left out. `ImageClassificationData.plan*` make one; `fromPlan` decodes it; the dataset
 * check (check.ts) reads it without decoding into memory.
 */
export interface DataPlan {
  labels: string[];
  train: Sample[];
  /** Undefined: take a stratified split of train (valSplit). */
  val?: Sample[];
  test?: Sample[];
  predictFiles: string[];
  ignored: string[];
  /** Where the training data came from, for messages ("'data/train'", "trainFiles"). */
  origin: string;
  /** Where the class names came from, for the "need at least 2 classes" message (default: origin). */
  labelOrigin?: string;
  /** Multi-label: every sample has `targets` (sigmoid head, binary cross-entropy). */
  multiLabel?: boolean;
}
type Plan = DataPlan;

function assertTwoClasses(labels: string[], origin: string): void {
  if (labels.length === 1) throw new FlashUserError(`found 1 class in ${origin} (${labels[0]}); need at least 2`);
  if (labels.length === 0) throw new FlashUserError(`found no classes in ${origin}; need at least 2`);
}

function labelIndex(labels: string[], name: string, where: string): number {
  const i = labels.indexOf(name);
  if (i < 0) {
    throw new FlashUserError(
      `class '${name}' in ${where} is not one of the training classes${didYouMean(name, labels)}; ` +
        `training classes: ${labels.length > 20 ? `${labels.slice(0, 20).join(', ')}, … (${labels.length} in all)` : labels.join(', ')}`,
    );
  }
  return i;
}

/**
 * The data of an image classification run: class names, the resolved input spec and the train/val/test splits
 * (decoded once, kept in memory) plus the files to predict. Build it with `fromFolders`, `fromFiles` or
 * `fromDatasets` — Lightning Flash's `ImageClassificationData.from_*`.
 */
export class ImageClassificationData {
  private constructor(
    readonly labels: string[],
    readonly spec: ImageSpec,
    readonly batchSize: number,
    readonly seed: number,
    readonly train: ImageSplit,
    readonly val: ImageSplit | undefined,
    readonly test: ImageSplit | undefined,
    readonly predictFiles: string[],
    readonly skipped: { file: string; reason: string }[],
    /** Non-image files found in the folders and left out (the caller reports them). */
    readonly ignored: string[],
    /** Whether train batches are augmented by default (DataOptions.augment). */
    readonly augment: boolean,
    /** The validation fraction used, or 0 when val came from its own folder/files or was turned off. */
    readonly valSplit: number,
    /** Which pixel store was chosen (DataOptions.cache) and why. */
    readonly cache: CacheChoice = { mode: 'memory', reason: 'default' },
  ) {}

  get numClasses(): number {
    return this.labels.length;
  }

  /** True when images carry any number of labels (from_csv with several target columns or delimited labels). */
  get multiLabel(): boolean {
    return this.train.multiHot !== undefined;
  }

  /**
   * From folders of class sub-folders. `folder` is either a folder of class sub-folders (a stratified, seeded val
   * split is taken) or one holding `train/` and optionally `val/` (or `valid/`, `validation/`), `test/` and
   * `predict/`. `trainFolder`/`valFolder`/`testFolder`/`predictFolder` name them explicitly.
   */
  static async fromFolders(opts: FolderOptions): Promise<ImageClassificationData> {
    return ImageClassificationData.fromPlan(await ImageClassificationData.planFolders(opts), opts);
  }

  /** The plan of `fromFolders` (folders scanned, nothing decoded); fewer than 2 classes is left to the caller. */
  static async planFolders(opts: FolderOptions): Promise<DataPlan> {
    const o = resolveOptions(opts);
    let { trainFolder, valFolder, testFolder, predictFolder } = opts;
    if (opts.folder !== undefined) {
      if (trainFolder !== undefined) {
        throw new FlashUserError(`give either a folder ('${opts.folder}') or a train folder ('${trainFolder}'), not both`);
      }
      await assertFolder(opts.folder);
      const sub = (name: string) => path.join(opts.folder!, name);
      if (await isFolder(sub('train'))) {
        trainFolder = sub('train');
        // Found by name, an empty val/, test/ or predict/ is left out with a warning rather than stopping the run.
        const found = async (name: string): Promise<string | undefined> => {
          if (!(await isFolder(sub(name)))) return undefined;
          if (await isEmptyFolder(sub(name))) {
            o.onWarning(`ignoring empty folder '${sub(name)}'`);
            return undefined;
          }
          return sub(name);
        };
        if (valFolder === undefined) {
          for (const name of VAL_FOLDER_NAMES) {
            if ((valFolder = await found(name)) !== undefined) break;
          }
        }
        testFolder ??= await found('test');
        predictFolder ??= await found('predict');
      } else {
        trainFolder = opts.folder;
      }
    }
    if (trainFolder === undefined) {
      throw new FlashUserError('no training data: give a folder of class sub-folders (folder or trainFolder)');
    }
    const train = await scanClassFolders(trainFolder);
    const ignored = [...train.ignored];
    const labelled = async (folder: string | undefined): Promise<Sample[] | undefined> => {
      if (folder === undefined) return undefined;
      const scan = await scanClassFolders(folder);
      ignored.push(...scan.ignored);
      const map = scan.labels.map((name) => labelIndex(train.labels, name, `'${folder}'`));
      return scan.samples.map((s) => ({ id: s.file, source: s.file, label: map[s.label] }));
    };
    return {
      labels: train.labels,
      train: train.samples.map((s) => ({ id: s.file, source: s.file, label: s.label })),
      val: await labelled(valFolder),
      test: await labelled(testFolder),
      predictFiles: predictFolder === undefined ? [] : await listImageFiles(predictFolder),
      ignored,
      origin: `'${trainFolder}'`,
    };
  }

  /** From lists of image paths and their class names (Flash's from_files). */
  static async fromFiles(opts: FileOptions): Promise<ImageClassificationData> {
    return ImageClassificationData.fromPlan(await ImageClassificationData.planFiles(opts), opts);
  }

  /** The plan of `fromFiles` (files checked to exist, nothing decoded). */
  static async planFiles(opts: FileOptions): Promise<DataPlan> {
    resolveOptions(opts);
    const pairs = async (
      what: string,
      files: string[] | undefined,
      targets: FileTarget[] | undefined,
    ): Promise<{ file: string; target: FileTarget }[] | undefined> => {
      if (files === undefined && targets === undefined) return undefined;
      if (files === undefined || targets === undefined) {
        throw new FlashUserError(`${what}_files and ${what}_targets must be given together`);
      }
      if (files.length !== targets.length) {
        throw new FlashUserError(
          `${what}_files has ${files.length} entries but ${what}_targets has ${targets.length}; they must match`,
        );
      }
      await mapLimit(files, 16, async (file) => {
        let ok = false;
        try {
          ok = (await fs.stat(file)).isFile();
        } catch {
          throw new FlashUserError(`file '${file}' does not exist`);
        }
        if (!ok) throw new FlashUserError(`'${file}' is not a file`);
      });
      return files.map((file, i) => {
        const t = targets[i];
        return { file, target: Array.isArray(t) ? [...new Set(t.map((n) => String(n).normalize('NFC')))] : String(t).normalize('NFC') };
      });
    };
    const train = (await pairs('train', opts.trainFiles ?? [], opts.trainTargets ?? []))!;
    if (train.length === 0) throw new FlashUserError('train_files is empty: give at least one image per class');
    // Multi-label when any train target is a list of names (a plain name then counts as a list of one).
    const multiLabel = train.some((p) => Array.isArray(p.target));
    if (multiLabel && opts.multiLabel === false) throw new FlashUserError('train_targets gives lists of labels, but multiLabel is false');
    const names = (t: FileTarget): readonly string[] => (Array.isArray(t) ? t : [t as string]);
    const labels = [...new Set(train.flatMap((p) => (multiLabel ? names(p.target) : [p.target as string])))].sort(compareNames);
    const toSamples = (list: { file: string; target: FileTarget }[] | undefined, what: string): Sample[] | undefined =>
      list?.map((p) => {
        if (!multiLabel) {
          if (Array.isArray(p.target)) throw new FlashUserError(`${what}_targets gives a list of labels for '${p.file}', but train_targets has one class per file`);
          return { id: p.file, source: p.file, label: labelIndex(labels, p.target as string, `${what}_targets`) };
        }
        const targets = names(p.target).map((n) => labelIndex(labels, n, `${what}_targets`)).sort((a, b) => a - b);
        return { id: p.file, source: p.file, label: targets.length ? targets[0] : -1, targets };
      });
    const val = await pairs('val', opts.valFiles, opts.valTargets);
    const test = await pairs('test', opts.testFiles, opts.testTargets);
    return {
      labels,
      train: toSamples(train, 'train')!,
      val: toSamples(val, 'val'),
      test: toSamples(test, 'test'),
      predictFiles: [...(opts.predictFiles ?? [])],
      ignored: [],
      origin: 'train_files',
      labelOrigin: 'train_targets',
      ...(multiLabel ? { multiLabel: true } : {}),
    };
  }

  /**
   * From CSV files with an image-path column (`inputField`) and one label column (`targetFields`), paths relative
   * to `imagesRoot` (default: the CSV's folder) — Flash's from_csv. Single-label for now.
   */
  static async fromCsv(opts: CsvOptions): Promise<ImageClassificationData> {
    return ImageClassificationData.fromPlan(await planCsv(opts), opts);
  }

  /** The plan of `fromCsv` (CSVs read, image files checked to exist, nothing decoded). */
  static planCsv(opts: CsvOptions): Promise<DataPlan> {
    return planCsv(opts);
  }

  /** Decodes a plan (from `plan*`, or made by hand) into a data module; needs at least 2 classes. */
  static async fromPlan(plan: DataPlan, opts: DataOptions = {}): Promise<ImageClassificationData> {
    const o = resolveOptions(opts);
    assertTwoClasses(plan.labels, plan.labelOrigin ?? plan.origin);
    return ImageClassificationData.build(o, plan);
  }

  /**
   * From any iterable or async iterable of `{ image, label }` where image is a path, an encoded image Buffer or a
   * tf.Tensor3D of 0–255 values (Flash's from_datasets), or a `tf.data.Dataset` of such elements. String labels
   * are class names; numeric labels index into `labels`, or become '0', '1', … without it. Tensors of an iterable
   * are read at build time and never disposed here. A tf.data.Dataset is read element by element, each tensor
   * image converted to the model's input pixels as it arrives and the element's tensors then disposed (as
   * model.fitDataset does); with `channels: 'auto'` a tf.data train set is read twice (first to see the channels).
   * The converted pixels are kept in memory, since epochs visit samples in a seeded random order (see tf_dataset.ts).
   */
  static async fromDatasets(opts: DatasetOptions): Promise<ImageClassificationData> {
    const o = resolveOptions(opts);
    if (opts.trainDataset === undefined) throw new FlashUserError('fromDatasets needs a trainDataset');
    const held: tf.Tensor[] = [];
    try {
      type Item = { id: string; source: Sample['source']; label: string | number };
      const collectIterable = async (what: string, ds: DatasetLike | undefined): Promise<Item[] | undefined> => {
        if (ds === undefined) return undefined;
        const it = ds as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
        if (!it || (typeof it[Symbol.asyncIterator] !== 'function' && typeof it[Symbol.iterator] !== 'function')) {
          throw new FlashUserError(`${what} must be an iterable or async iterable of { image, label }`);
        }
        const items: Item[] = [];
        for await (const item of ds as AsyncIterable<DatasetItem>) {
          const i = items.length;
          if (item === null || typeof item !== 'object' || !('image' in item) || !('label' in item)) {
            throw new FlashUserError(`${what} item ${i} must be an object { image, label }`);
          }
          const { label } = item;
          const image: unknown = item.image;
          let source: Sample['source'];
          if (typeof image === 'string' || Buffer.isBuffer(image)) source = image;
          else if (image instanceof tf.Tensor) {
            // Keep the data alive even if the caller disposes its tensor while iterating; ours is disposed below.
            source = tf.clone(image) as tf.Tensor3D;
            held.push(source);
          } else if (image instanceof Uint8Array) source = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
          else throw new FlashUserError(`${what} item ${i}: image must be a file path, a Buffer or a tf.Tensor3D`);
          if (typeof label !== 'string' && !(typeof label === 'number' && Number.isInteger(label))) {
            throw new FlashUserError(`${what} item ${i}: label must be a class name or an integer index, got ${JSON.stringify(label)}`);
          }
          items.push({ id: typeof source === 'string' ? source : `#${i}`, source, label: typeof label === 'string' ? label.normalize('NFC') : label });
        }
        return items;
      };
      // tf.data elements are converted to the spec while read, so the channels must be known first.
      let channels = o.channels;
      const anyTf = [opts.trainDataset, opts.valDataset, opts.testDataset].some(isTfDataset);
      const spec = (): ImageSpec => ({ height: o.height, width: o.width, channels: channels as Channels });
      let train: Item[];
      if (isTfDataset(opts.trainDataset)) {
        if (channels === 'auto') channels = await tfDatasetChannels(opts.trainDataset, 'trainDataset');
        train = await collectTfDataset(opts.trainDataset, 'trainDataset', spec());
      } else {
        train = (await collectIterable('trainDataset', opts.trainDataset))!;
        if (channels === 'auto' && anyTf) channels = await detectChannels(train);
      }
      const collect = async (what: string, ds: DatasetInput | undefined): Promise<Item[] | undefined> =>
        isTfDataset(ds) ? collectTfDataset(ds, what, spec()) : collectIterable(what, ds);
      const val = await collect('valDataset', opts.valDataset);
      const test = await collect('testDataset', opts.testDataset);
      if (train.length === 0) throw new FlashUserError('trainDataset is empty');
      const numeric = train.some((it) => typeof it.label === 'number');
      if (numeric && train.some((it) => typeof it.label === 'string')) {
        throw new FlashUserError('trainDataset mixes class names and numeric labels; use one kind');
      }
      let labels: string[];
      if (opts.labels !== undefined) {
        labels = opts.labels.map((l) => String(l).normalize('NFC'));
        if (new Set(labels).size !== labels.length) throw new FlashUserError(`labels has duplicate names: ${labels.join(', ')}`);
      } else if (numeric) {
        const max = Math.max(...train.map((it) => it.label as number));
        labels = Array.from({ length: max + 1 }, (_, i) => String(i));
      } else {
        labels = [...new Set(train.map((it) => it.label as string))].sort(compareNames);
      }
      assertTwoClasses(labels, 'trainDataset');
      const toSamples = (what: string, items: typeof train | undefined): Sample[] | undefined =>
        items?.map((it, i) => {
          let label: number;
          if (typeof it.label === 'number') {
            if (it.label < 0 || it.label >= labels.length) {
              throw new FlashUserError(
                `${what} item ${i}: label ${it.label} is out of range for ${labels.length} classes (0–${labels.length - 1})`,
              );
            }
            label = it.label;
          } else {
            label = labelIndex(labels, it.label, what);
          }
          return { id: it.id, source: it.source, label };
        });
      return await ImageClassificationData.build({ ...o, channels }, {
        labels,
        train: toSamples('trainDataset', train)!,
        val: toSamples('valDataset', val),
        test: toSamples('testDataset', test),
        predictFiles: [],
        ignored: [],
        origin: 'trainDataset',
      });
    } finally {
      for (const t of held) t.dispose();
    }
  }

  /** Brief counts for the run log: "train 96 (circle 32, …) · val 24 · test 30 · 3 classes · 28×28×3". */
  summary(): string {
    const counts = this.train.classCounts(this.numClasses);
    const perClass = this.labels.map((name, i) => `${name} ${counts[i]}`).join(', ');
    const parts = [`train ${this.train.size} (${perClass})`];
    parts.push(this.val ? `val ${this.val.size}` : 'no val');
    if (this.test) parts.push(`test ${this.test.size}`);
    if (this.predictFiles.length > 0) parts.push(`predict ${this.predictFiles.length}`);
    parts.push(this.multiLabel ? `${this.numClasses} labels (multi-label; train counts = images carrying each)` : `${this.numClasses} classes`);
    parts.push(`${this.spec.height}×${this.spec.width}×${this.spec.channels}`);
    if (this.skipped.length > 0) parts.push(`${this.skipped.length} undecodable skipped`);
    if (this.ignored.length > 0) parts.push(`${this.ignored.length} non-image ignored`);
    parts.push(`cache ${this.cache.mode} (${this.cache.reason})`);
    return parts.join(' · ');
  }

  /** Assembles the data module from a builder's plan: channels, decoding, val split, checks. */
  private static async build(o: Resolved, plan: Plan): Promise<ImageClassificationData> {
    const channels = o.channels === 'auto' ? await detectChannels(plan.train) : o.channels;
    const spec: ImageSpec = { height: o.height, width: o.width, channels };
    const skipped: { file: string; reason: string }[] = [];
    let cache = chooseCache(o.cache, plan, spec, o.memoryBudget);
    let disk: DiskPixelCache | undefined;
    if (cache.mode === 'disk') {
      const opened = await DiskPixelCache.open({ root: o.cacheDir, spec, onWriteFailure: (m) => o.onWarning(`disk cache: ${m}; decoding on the fly instead`) });
      if (typeof opened === 'string') {
        o.onWarning(`disk cache: ${opened}; decoding on the fly instead`);
        cache = { mode: 'none', reason: `disk cache unusable: ${opened}; decoded on the fly` };
      } else disk = opened;
    }
    const ctx: DecodeContext = { spec, strict: o.strict, onWarning: o.onWarning, skipped, stream: cache.mode === 'none', disk };
    const trainDefaults: SplitDefaults = { batchSize: o.batchSize, seed: o.seed, augment: o.augment, augmentations: o.augmentations, sampler: o.sampler };
    const evalDefaults: SplitDefaults = { ...trainDefaults, augment: false, sampler: 'none' };

    const decoded = await decodeSamples(plan.train, ctx);
    if (decoded.ids.length === 0) {
      throw new FlashUserError(`no image in ${plan.origin} could be decoded (${skipped.length} skipped)`);
    }
    const k = plan.labels.length;
    const multiHot = (d: { targets: number[][] }) => (plan.multiLabel ? multiHotFrom(d.targets, k).multiHot : undefined);
    let train = new ImageSplit(spec, decoded.ids, decoded.labels, decoded.store, trainDefaults, multiHot(decoded));
    let val: ImageSplit | undefined;
    if (plan.val === undefined) {
      if (o.valSplit > 0) {
        const parts = stratifiedSplit(train.labels, o.valSplit, o.seed);
        if (parts.val.length === 0) {
          o.onWarning(`too few images per class for a validation split of ${o.valSplit}; training without validation`);
        } else {
          val = train.subset(parts.val, evalDefaults);
          train = train.subset(parts.train, trainDefaults);
        }
      }
    } else {
      val = await decodeOptional(plan.val, ctx, evalDefaults, 'val', o.onWarning, plan.multiLabel ? k : undefined);
    }
    const test = plan.test && (await decodeOptional(plan.test, ctx, evalDefaults, 'test', o.onWarning, plan.multiLabel ? k : undefined));
    const counts = train.classCounts(plan.labels.length);
    const missing = plan.labels.filter((_, i) => counts[i] === 0);
    if (missing.length > 0) {
      o.onWarning(`no training images for class${missing.length > 1 ? 'es' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`);
    }
    if (disk) cache = diskOutcome(cache, disk);
    return new ImageClassificationData(
      plan.labels,
      spec,
      o.batchSize,
      o.seed,
      train,
      val,
      test,
      plan.predictFiles,
      skipped,
      plan.ignored,
      o.augment,
      plan.val === undefined && val !== undefined ? o.valSplit : 0,
      cache,
    );
  }
}

/** MiB with one decimal place at most ("12.3 MiB"); KiB below 1 MiB. */
function mib(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** The disk cache's part of the summary: what the build reused and wrote, or why writing stopped. */
function diskOutcome(cache: CacheChoice, disk: DiskPixelCache): CacheChoice {
  const { hits, decoded, written } = disk.stats;
  const did = `${hits} reused, ${decoded} decoded, ${written} written in '${disk.dir}'`;
  if (disk.writeFailure !== undefined) {
    return { mode: 'none', reason: `disk cache failed (${disk.writeFailure}); ${did}; images without an entry are decoded on the fly`, disk: disk.stats };
  }
  return { ...cache, reason: `${cache.reason}; ${did}`, disk: disk.stats };
}

/**
 * The pixel store for a build: memory, none (streaming from the files) or disk as asked; 'auto' keeps pixels in
 * memory when all splits' decoded pixels fit in CACHE_MEMORY_BUDGET, else uses the disk cache. Streaming and the
 * disk cache need every image to be a file path.
 */
function chooseCache(asked: DataCache, plan: Plan, spec: ImageSpec, budget: number): CacheChoice {
  const all = [...plan.train, ...(plan.val ?? []), ...(plan.test ?? [])];
  const bytes = all.length * spec.height * spec.width * spec.channels;
  const size = `${all.length} images × ${spec.height}×${spec.width}×${spec.channels} = ${mib(bytes)}`;
  const paths = all.every((s) => typeof s.source === 'string');
  if (asked === 'memory') return { mode: 'memory', reason: `asked; ${size}` };
  if (!paths) {
    const but = asked === 'none' || asked === 'disk' ? `'${asked}' asked, but ` : '';
    return { mode: 'memory', reason: `${but}some images are buffers or tensors, not files; ${size}` };
  }
  if (asked === 'none') return { mode: 'none', reason: `asked; decoded on the fly instead of ${size}` };
  if (asked === 'disk') return { mode: 'disk', reason: `asked; ${size} decoded once, read back from disk` };
  return bytes <= budget
    ? { mode: 'memory', reason: `auto: ${size} fits the ${mib(budget)} budget` }
    : { mode: 'disk', reason: `auto: ${size} is over the ${mib(budget)} budget; decoded once, read back from disk` };
}

async function decodeOptional(
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
