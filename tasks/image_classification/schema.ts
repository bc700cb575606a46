import {
  CORE_SCHEMA,
  defaultRecipe,
  mergeSchemas,
  resolveRecipe,
  type DeepPartial,
  type Recipe,
  type RecipeCheckContext,
  type RecipeOf,
  type ResolveOptions,
  type SchemaFor,
} from '../../src/core/config/index.js';
import {
  CLASSIFICATION_DATA_KEYS,
  CLASSIFICATION_MODEL_KEYS,
  type ClassificationDataRecipe,
  type ClassificationModelRecipe,
} from '../classification/schema.js';

/** image_classification's own model keys (beside the core's optimizer, learning_rate, weight_decay). */
export interface ImageModelRecipe extends ClassificationModelRecipe {
  backbone: string;
  head: string | null;
  /** Backbone layer after which it is cut (null = its own end). */
  cut: string | null;
  /** How a feature map at the cut becomes features. */
  pooling: 'avg' | 'max' | 'avgmax' | 'flatten';
  pretrained: string;
  dropout: number;
}

/** image_classification's own data keys: its builders' keys and the image pipeline's. */
export interface ImageDataRecipe extends ClassificationDataRecipe {
  folder: string | null;
  train_folder: string | null;
  val_folder: string | null;
  test_folder: string | null;
  predict_folder: string | null;
  train_files: string[] | null;
  train_targets: string[] | null;
  val_files: string[] | null;
  val_targets: string[] | null;
  test_files: string[] | null;
  test_targets: string[] | null;
  predict_files: string[] | null;
  image_size: number | null;
  channels: 'auto' | 1 | 3;
  augment: boolean;
  augmentations: string[];
  sampler: 'balanced' | 'none';
  /** Decoded pixels: kept in memory, streamed from the files (none), a disk cache, or auto (memory when they fit 512 MiB, else disk). */
  cache: 'memory' | 'none' | 'disk' | 'auto';
  min_images_per_class: number;
  train_file: string | null;
  val_file: string | null;
  test_file: string | null;
  predict_file: string | null;
  input_field: string | null;
  target_fields: string[] | null;
  images_root: string | null;
}

/** A resolved image_classification recipe. */
export type ImageRecipe = RecipeOf<ImageModelRecipe, ImageDataRecipe>;

const { multi_label, threshold } = CLASSIFICATION_MODEL_KEYS;

/** The keys image_classification adds to the core schema. */
export const IMAGE_KEYS: { model: SchemaFor<ImageModelRecipe>; data: SchemaFor<ImageDataRecipe> } = {
  model: {
    backbone: {
      type: 'string', default: 'simple_cnn', registry: 'backbones', pathOk: true, aliases: ['backbone'],
      description: 'feature extractor: a registered name, or a flash run folder (or its model.json) whose backbone is reused',
    },
    head: {
      type: 'string', nullable: true, default: null, registry: 'heads', aliases: ['head'],
      description: "classification head on top of the backbone: linear or mlp; null = the backbone's default (linear; simple_cnn: dense 128 + ReLU → classes)",
    },
    cut: {
      type: 'string', nullable: true, default: null, aliases: ['cut'],
      description:
        "cut the backbone after this layer (e.g. resnet18's conv4_block2_out) and use its output as the features: earlier layers transfer better to classes unlike the ones the weights learnt; null = the backbone's own end",
    },
    pooling: {
      type: 'enum', choices: ['avg', 'max', 'avgmax', 'flatten'], default: 'avg', aliases: ['pooling'],
      description: 'with model.cut: how the feature map there becomes features: global avg, max, both (avgmax), or flatten (keeps positions; small maps)',
    },
    pretrained: {
      type: 'string', default: 'false', boolAsString: true, aliases: ['pretrained'],
      description: "backbone weights: 'true' (the backbone's own), 'false' (from scratch), a URL or a path",
    },
    dropout: { type: 'number', default: 0, min: 0, below: 1, aliases: ['dropout'], description: 'dropout before the head' },
    multi_label,
    threshold,
  },
  data: {

    folder: {
      type: 'string', nullable: true, default: null,
      description: 'a folder of class sub-folders, or one holding train/ (val/, test/, predict/); null with no other data = the demo dataset',
    },
    train_folder: { type: 'string', nullable: true, default: null, description: 'folder of class sub-folders to train on' },
    val_folder: { type: 'string', nullable: true, default: null, description: 'folder of class sub-folders to validate on' },
    test_folder: { type: 'string', nullable: true, default: null, description: 'folder of class sub-folders to test the best model on' },
    predict_folder: { type: 'string', nullable: true, default: null, description: 'folder of images to predict after training' },
    train_files: { type: 'string[]', nullable: true, default: null, description: 'image files to train on' },
    train_targets: { type: 'string[]', nullable: true, default: null, description: 'labels of train_files, in the same order' },
    val_files: { type: 'string[]', nullable: true, default: null, description: 'image files to validate on' },
    val_targets: { type: 'string[]', nullable: true, default: null, description: 'labels of val_files, in the same order' },
    test_files: { type: 'string[]', nullable: true, default: null, description: 'image files to test on' },
    test_targets: { type: 'string[]', nullable: true, default: null, description: 'labels of test_files, in the same order' },
    predict_files: { type: 'string[]', nullable: true, default: null, description: 'image files to predict after training' },
    train_file: { type: 'string', nullable: true, default: null, description: 'CSV file of image paths and labels to train on (from_csv)' },
    val_file: { type: 'string', nullable: true, default: null, description: 'CSV file of image paths and labels to validate on' },
    test_file: { type: 'string', nullable: true, default: null, description: 'CSV file of image paths and labels to test on' },
    predict_file: { type: 'string', nullable: true, default: null, description: 'CSV file of image paths to predict after training (input_field column)' },
    input_field: { type: 'string', nullable: true, default: null, description: 'column of the CSV files holding image paths' },
    target_fields: {
      type: 'string[]', nullable: true, default: null,
      description: "the CSV's label column, or several 0/1 columns, one per label (multi-label); a label column with ';', ',' or '|'-separated labels is multi-label too",
    },
    images_root: { type: 'string', nullable: true, default: null, description: "folder the CSV's image paths are relative to; null = the CSV's own folder" },
    image_size: {
      type: 'integer', nullable: true, default: null, min: 1, aliases: ['image_size'],
      description: "side of the square model input in pixels; null = the backbone's default",
    },
    channels: {
      type: 'enum', choices: ['auto', 1, 3], default: 'auto', aliases: ['channels'],
      description: 'model input channels: 1 (grayscale), 3 (RGB) or auto (1 if every image is grayscale)',
    },
    augment: { type: 'boolean', default: true, aliases: ['augment'], description: 'train-time augmentation on/off (which ones: data.augmentations)' },
    augmentations: {
      type: 'string[]', default: ['hflip'],
      description:
        'train-time augmentations when augment is on: hflip (p=0.5, the default), random_resized_crop (80–100% of the area, resized back), rotate (±10°), color_jitter (brightness/contrast ±0.2)',
    },
    sampler: {
      type: 'enum', choices: ['none', 'balanced'], default: 'none',
      description: 'balanced: each epoch oversamples so every class appears about equally often (seeded; epoch length = train size)',
    },
    cache: {
      type: 'enum', choices: ['memory', 'none', 'disk', 'auto'], default: 'auto',
      description: 'decoded images: memory (decode once, keep), none (decode on the fly every epoch, flat memory), disk (decode once into FLASH_CACHE_DIR/decoded, read back in later epochs and runs, flat memory) or auto (memory when they fit in 512 MiB, else disk)',
    },
    min_images_per_class: {
      type: 'integer', default: 5, min: 1,
      description: 'the dataset check (--check, and in brief at the start of a run) reports classes with fewer train images',
    },
    ...CLASSIFICATION_DATA_KEYS,
  },
};

/** The task's defaults for core keys. */
export const IMAGE_DEFAULTS: DeepPartial<ImageRecipe> = { trainer: { monitor: 'val_accuracy' }, data: { builder: 'from_folders' } };

/** image_classification's whole schema: the core's keys, its own, and its defaults. */
export const IMAGE_SCHEMA = mergeSchemas(CORE_SCHEMA, IMAGE_KEYS, 'image_classification', IMAGE_DEFAULTS as DeepPartial<Recipe>);

/** The defaults of an image_classification recipe, with `over` laid on top (not validated). */
export function defaultImageRecipe(over?: DeepPartial<ImageRecipe>): ImageRecipe {
  return defaultRecipe(IMAGE_SCHEMA, 'image_classification', over as DeepPartial<Recipe>) as ImageRecipe;
}

/** `resolveRecipe` for image_classification: its schema and cross-key rules. */
export function resolveImageRecipe(
  opts: Omit<ResolveOptions, 'task' | 'schema' | 'taskDefaults'> & { task?: 'image_classification'; taskDefaults?: DeepPartial<ImageRecipe> },
): ImageRecipe {
  const { taskDefaults, ...rest } = opts;
  return resolveRecipe({
    checkRecipe: (r, ctx) => checkImageRecipe(r as ImageRecipe, ctx),
    ...rest,
    taskDefaults: taskDefaults as DeepPartial<Recipe>,
    task: 'image_classification',
    schema: IMAGE_SCHEMA,
  }) as ImageRecipe;
}

/** Cross-key rules of image_classification's data keys; every problem at once. */
export function checkImageRecipe(recipe: ImageRecipe, { at }: RecipeCheckContext): string[] {
  const problems: string[] = [];
  const d = recipe.data;
  if (d.folder !== null && d.train_folder !== null) {
    problems.push(`${at('data.train_folder')}: give data.folder or data.train_folder, not both`);
  }
  for (const split of ['train', 'val', 'test'] as const) {
    const files = d[`${split}_files`];
    const targets = d[`${split}_targets`];
    if (files !== null && targets === null) {
      problems.push(`${at(`data.${split}_files`)}: missing data.${split}_targets (--${split}_targets), one label per file`);
    } else if (files === null && targets !== null) {
      problems.push(`${at(`data.${split}_targets`)}: missing data.${split}_files (--${split}_files) for these labels`);
    } else if (files !== null && targets !== null && files.length !== targets.length) {
      problems.push(`${at(`data.${split}_targets`)}: ${targets.length} labels for ${files.length} files in data.${split}_files; give one label per file`);
    }
  }
  if (d.builder === 'from_files' && d.train_files === null) {
    problems.push(`missing required option '--train_files' (data.train_files) for the from_files builder`);
  }
  return problems;
}
