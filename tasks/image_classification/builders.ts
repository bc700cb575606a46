import { isAbsolute, join, resolve } from 'node:path';
import type { ImageRecipe } from './schema.js';
import { isArchiveSource, materializeDataset } from '../../src/core/data/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/package_root.js';
import { withScanOptions } from './data/scan.js';
import { Registry } from '../../src/core/registry.js';
import { ImageClassificationData, labelDelimiterOf, splitLabels, type DataOptions, type DataPlan, type FileTarget, type MultiLabelMode } from './data/index.js';

/** A way of building the task's data from the recipe's `data` section (Flash's `from_*` constructors). */
export interface DataBuilder {
  description: string;
  /** The `data.*` keys it reads (the CLI offers them after the sub-command). */
  options: string[];
  /** What the recipe's data holds, before any image is decoded (the dataset check reads this). */
  plan(data: ImageRecipe['data'], common: DataOptions, cwd: string): Promise<DataPlan>;
  build(data: ImageRecipe['data'], common: DataOptions, cwd: string): Promise<ImageClassificationData>;
}

/** A builder from its plan: `build` decodes what `plan` found. */
function builder(description: string, options: string[], plan: DataBuilder['plan']): DataBuilder {
  return {
    description,
    options,
    plan,
    build: async (d, common, cwd) => ImageClassificationData.fromPlan(await plan(d, common, cwd), { cache: d.cache, ...common }),
  };
}

const at = (cwd: string, p: string | null): string | undefined => (p == null ? undefined : isAbsolute(p) ? p : resolve(cwd, p));
const allAt = (cwd: string, ps: string[] | null): string[] | undefined => ps?.map((p) => at(cwd, p) as string);

/** The Fashion-MNIST sample that ships with flash; used when no data is given, as Flash Zero fell back to ants/bees. */
export function demoDataFolder(): string {
  return join(packageRoot(), 'data', 'demo', 'fashion_mnist');
}

/** True when the recipe names no data at all (the demo set is used then). */
export function recipeHasNoData(data: ImageRecipe['data']): boolean {
  return data.folder == null && data.train_folder == null && data.train_files == null && data.train_file == null;
}

/** A folder option: a folder, or a .zip file / http(s) URL of a zip, downloaded and extracted into the cache. */
async function folderAt(cwd: string, p: string | null, common: DataOptions): Promise<string | undefined> {
  if (p == null) return undefined;
  if (!isArchiveSource(p)) return at(cwd, p);
  return materializeDataset(p, { cwd, onProgress: (m) => (common.onInfo ?? console.error)(m) });
}

const fromFolders = builder(
  'class sub-folders; or train/, val/, test/, predict/ folders each with class sub-folders (a folder may be a .zip file or an http(s) URL of a zip)',
  ['folder', 'train_folder', 'val_folder', 'test_folder', 'predict_folder', 'val_split'],
  async (d, common, cwd) => {
    const opts = {
      ...common,
      folder: recipeHasNoData(d) ? demoDataFolder() : await folderAt(cwd, d.folder, common),
      trainFolder: await folderAt(cwd, d.train_folder, common),
      valFolder: await folderAt(cwd, d.val_folder, common),
      testFolder: await folderAt(cwd, d.test_folder, common),
      predictFolder: await folderAt(cwd, d.predict_folder, common),
    };
    // The folder scans inside take strict (an empty class folder is fatal) and report through the run's warnings.
    return withScanOptions({ strict: common.strict, onWarning: common.onWarning }, () => ImageClassificationData.planFolders(opts));
  },
);

/**
 * from_files targets as typed: plain class names, or — when a target holds ';', ',' or '|' (or multi_label is
 * true) — lists of labels split as from_csv splits a label column (a lone ';' is an image with no label). The
 * val/test targets follow the train targets' kind and separator.
 */
function fileTargets(
  targets: string[] | null,
  what: string,
  multiLabel: MultiLabelMode,
  delimiter?: string,
): { targets?: FileTarget[]; delimiter?: string } {
  if (targets == null) return {};
  const cells = targets.map((value, i) => ({ line: i + 1, value }));
  const delim = delimiter ?? labelDelimiterOf(cells, multiLabel, `${what}_targets`, 'item');
  return delim === undefined ? { targets } : { targets: targets.map((t) => splitLabels(t, delim)), delimiter: delim };
}

const fromFiles = builder(
  "lists of image paths with one target each (--train_files a.jpg b.jpg --train_targets cat dog); targets like 'cat;dog' = multi-label",
  ['train_files', 'train_targets', 'val_files', 'val_targets', 'test_files', 'test_targets', 'predict_files', 'val_split'],
  async (d, common, cwd) => {
    const mode = common.multiLabel ?? 'auto';
    const train = fileTargets(d.train_targets, 'train', mode);
    // Single-label train targets: val/test lists are refused by planFiles, with a message saying so.
    const follow = train.delimiter ? { mode: true as const, delimiter: train.delimiter } : { mode: 'auto' as const, delimiter: undefined };
    return ImageClassificationData.planFiles({
      ...common,
      trainFiles: allAt(cwd, d.train_files) ?? [],
      trainTargets: train.targets ?? [],
      valFiles: allAt(cwd, d.val_files),
      valTargets: fileTargets(d.val_targets, 'val', follow.mode, follow.delimiter).targets,
      testFiles: allAt(cwd, d.test_files),
      testTargets: fileTargets(d.test_targets, 'test', follow.mode, follow.delimiter).targets,
      predictFiles: allAt(cwd, d.predict_files),
    });
  },
);

const fromCsv = builder(
  "CSV files with an image-path column and a label column (--train_file labels.csv --input_field image --target_fields label); several 0/1 columns or ';'-separated labels = multi-label",
  ['train_file', 'val_file', 'test_file', 'predict_file', 'input_field', 'target_fields', 'images_root', 'val_split'],
  async (d, common, cwd) => {
    if (d.train_file == null) throw new FlashUserError("missing required option '--train_file' (data.train_file) for the from_csv builder: a CSV of image paths and labels");
    if (d.input_field == null) throw new FlashUserError("missing required option '--input_field' (data.input_field) for the from_csv builder: the column holding image paths");
    if (d.target_fields == null) throw new FlashUserError("missing required option '--target_fields' (data.target_fields) for the from_csv builder: the column holding labels");
    return ImageClassificationData.planCsv({
      ...common,
      trainFile: at(cwd, d.train_file)!,
      valFile: at(cwd, d.val_file),
      testFile: at(cwd, d.test_file),
      predictFile: at(cwd, d.predict_file),
      inputField: d.input_field,
      targetFields: d.target_fields,
      imagesRoot: at(cwd, d.images_root),
    });
  },
);

/** Data builders of image_classification; `data.builder` picks one. */
export const builders = new Registry<DataBuilder>('data builder');
builders.register('from_folders', fromFolders, fromFolders.description);
builders.register('from_files', fromFiles, fromFiles.description);
builders.register('from_csv', fromCsv, fromCsv.description);
