/**
 * Planning the data of a build: the class names and samples of each split, found from folders, file lists or
 * datasets before anything is decoded (from_csv's plan is in csv.ts, which uses planFiles). A plan is what
 * `ImageClassificationData.fromPlan` decodes and what the dataset check reads.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import { didYouMean } from '../../../src/core/suggest.js';
import type { Channels, ImageSpec } from './decode.js';
import { collectTfDataset, isTfDataset, tfDatasetChannels } from './tf_dataset.js';
import { assertFolder, compareNames, listImageFiles, scanClassFolders } from './scan.js';
import { detectChannels, mapLimit } from './decode_files.js';
import {
  resolveOptions,
  type DatasetInput,
  type DatasetItem,
  type DatasetLike,
  type DatasetOptions,
  type FileOptions,
  type FileTarget,
  type FolderOptions,
  type Resolved,
  type Sample,
} from './options.js';

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

const VAL_FOLDER_NAMES = ['val', 'valid', 'validation'];

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

/** Refuses fewer than 2 classes, naming where the class names came from. */
export function assertTwoClasses(labels: string[], origin: string): void {
  if (labels.length === 1) throw new FlashUserError(`found 1 class in ${origin} (${labels[0]}); need at least 2`);
  if (labels.length === 0) throw new FlashUserError(`found no classes in ${origin}; need at least 2`);
}

/** The index of class `name` in `labels`; a name not among them is a user error with a did-you-mean. */
export function labelIndex(labels: string[], name: string, where: string): number {
  const i = labels.indexOf(name);
  if (i < 0) {
    throw new FlashUserError(
      `class '${name}' in ${where} is not one of the training classes${didYouMean(name, labels)}; ` +
        `training classes: ${labels.length > 20 ? `${labels.slice(0, 20).join(', ')}, … (${labels.length} in all)` : labels.join(', ')}`,
    );
  }
  return i;
}

/** The plan of `fromFolders` (folders scanned, nothing decoded); fewer than 2 classes is left to the caller. */
export async function planFolders(opts: FolderOptions): Promise<DataPlan> {
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

/** The plan of `fromFiles` (files checked to exist, nothing decoded). */
export async function planFiles(opts: FileOptions): Promise<DataPlan> {
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
 * The plan of `fromDatasets` (every dataset read, labels mapped to indices, nothing decoded) and the channels it
 * settled on: tf.data elements are converted to the spec while read, so with a tf.data set 'auto' is resolved
 * here. Tensors cloned from an iterable are pushed onto `held`; the caller disposes them once the plan is decoded.
 */
export async function planDatasets(opts: DatasetOptions, o: Resolved, held: tf.Tensor[]): Promise<{ plan: DataPlan; channels: Channels | 'auto' }> {
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
        // Keep the data alive even if the caller disposes its tensor while iterating; ours goes on `held` for the caller to dispose.
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
  return {
    plan: {
      labels,
      train: toSamples('trainDataset', train)!,
      val: toSamples('valDataset', val),
      test: toSamples('testDataset', test),
      predictFiles: [],
      ignored: [],
      origin: 'trainDataset',
    },
    channels,
  };
}
