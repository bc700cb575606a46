/**
 * `ImageClassificationData`, the data module of an image classification run: its `from*` builders plan the data
 * (plan.ts, csv.ts), then `build` decodes the plan (decode_files.ts) into splits in the store the cache choice
 * picked (cache_choice.ts). The option types live in options.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import type { ImageSpec } from './decode.js';
import { ImageSplit, multiHotFrom, type SplitDefaults } from './data_split.js';
import { DiskPixelCache } from './disk_cache.js';
import { stratifiedSplit } from './split.js';
import { planCsv, type CsvOptions } from './csv.js';
import { resolveOptions, type DataOptions, type DatasetOptions, type FileOptions, type FolderOptions, type Resolved } from './options.js';
import { chooseCache, diskOutcome, type CacheChoice } from './cache_choice.js';
import { decodeOptional, decodeSamples, detectChannels, type DecodeContext } from './decode_files.js';
import { assertTwoClasses, planDatasets, planFiles, planFolders, type DataPlan } from './plan.js';

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
  static planFolders(opts: FolderOptions): Promise<DataPlan> {
    return planFolders(opts);
  }

  /** From lists of image paths and their class names (Flash's from_files). */
  static async fromFiles(opts: FileOptions): Promise<ImageClassificationData> {
    return ImageClassificationData.fromPlan(await ImageClassificationData.planFiles(opts), opts);
  }

  /** The plan of `fromFiles` (files checked to exist, nothing decoded). */
  static planFiles(opts: FileOptions): Promise<DataPlan> {
    return planFiles(opts);
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
      const { plan, channels } = await planDatasets(opts, o, held);
      return await ImageClassificationData.build({ ...o, channels }, plan);
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
  private static async build(o: Resolved, plan: DataPlan): Promise<ImageClassificationData> {
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
