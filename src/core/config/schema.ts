/**
 * The recipe: every setting of a run, in sections `trainer`, `model`, `data` and `finetune` plus the top-level
 * `task`, spelled Flash's way (snake_case). The schema below is the one place a key is declared: its type,
 * default, aliases, limits and the line `--help` prints. Flags, recipe files, validation, `--help` and
 * `--print_config` are all generated from it.
 */

/** The sections of a recipe, in the order they are printed. */
export const SECTIONS = ['trainer', 'model', 'data', 'finetune'] as const;
export type Section = (typeof SECTIONS)[number];

export interface TrainerRecipe {
  max_epochs: number;
  seed: number;
  monitor: string;
  monitor_mode: 'auto' | 'max' | 'min';
  early_stopping_patience: number | null;
  backend: string;
  output_dir: string | null;
  logger: string[];
  threads: number | null;
  quiet: boolean;
  strict: boolean;
}

export interface ModelRecipe {
  backbone: string;
  head: string | null;
  /** Backbone layer after which it is cut (null = its own end). */
  cut: string | null;
  /** How a feature map at the cut becomes features. */
  pooling: 'avg' | 'max' | 'avgmax' | 'flatten';
  optimizer: string;
  learning_rate: number | null;
  weight_decay: number;
  pretrained: string;
  dropout: number;
  /** auto = from the data (several target columns or delimited labels); 'true'/'false' force it. */
  multi_label: 'auto' | 'true' | 'false';
  /** Multi-label: probability from which a label counts as predicted (metrics; predict/serve default). */
  threshold: number;
}

export interface DataRecipe {
  builder: string;
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
  batch_size: number;
  image_size: number | null;
  channels: 'auto' | 1 | 3;
  val_split: number;
  augment: boolean;
  augmentations: string[];
  class_weights: 'auto' | 'none';
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

export interface FinetuneRecipe {
  /** null = `freeze` for a pretrained or saved backbone, else `no_freeze`. */
  strategy: string | null;
  unfreeze_epoch: number;
  milestones: number[];
  num_layers: number;
  train_bn: boolean;
  backbone_lr_mult: number;
}

/** A fully resolved recipe: every key present, every value valid. */
export interface Recipe {
  task: string;
  trainer: TrainerRecipe;
  model: ModelRecipe;
  data: DataRecipe;
  finetune: FinetuneRecipe;
}

/** Recursively optional (arrays are replaced whole, never merged). */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The value types a key can have. `nullable` adds `null` to any of them. */
export type ValueType = 'number' | 'integer' | 'boolean' | 'string' | 'string[]' | 'number[]' | 'enum';

/** Registries whose names a key's value must be one of (the injected registries are looked up by this name). */
export type RegistryName = 'backbones' | 'optimizers' | 'strategies' | 'loggers' | 'backends';

/** Declaration of one recipe key. */
export interface KeySpec {
  type: ValueType;
  /** `null` is a valid value (written `null` in a file or on the command line). */
  nullable?: boolean;
  default: unknown;
  /** For `enum`: the allowed values (a flag's string '1' matches the number 1). */
  choices?: readonly (string | number)[];
  /** Inclusive lower bound for numbers (and for every element of `number[]`). */
  min?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** The value (each element, for arrays) must be a name in this registry. */
  registry?: RegistryName;
  /** Names accepted besides the registry's (e.g. 'auto' for the backend). */
  extraNames?: readonly string[];
  /** With `registry`: a value that looks like a path (has a / or \\, or ends in .json) is accepted too. */
  pathOk?: boolean;
  /** A string key that also takes a boolean from a file (`pretrained: true` → 'true'). */
  boolAsString?: boolean;
  /** Short flags (`--max_epochs` for `--trainer.max_epochs`), without dashes. */
  aliases?: readonly string[];
  /** One line for `--help` and the `--print_config` comments. */
  description: string;
}

/** The schema: one `KeySpec` per key of every section (the compiler checks it covers `Recipe` exactly). */
export type RecipeSchema = { [S in Section]: { [K in keyof Recipe[S]]-?: KeySpec } };

export const SCHEMA: RecipeSchema = {
  trainer: {
    max_epochs: { type: 'integer', default: 5, min: 1, aliases: ['max_epochs'], description: 'number of training epochs' },
    seed: { type: 'integer', default: 42, min: 0, aliases: ['seed'], description: 'random seed for weight init, the validation split, shuffling and augmentation (dropout masks are not seeded)' },
    monitor: { type: 'string', default: 'val_accuracy', aliases: ['monitor'], description: 'metric that picks the best checkpoint and drives early stopping (multi-label runs use val_f1_macro in place of val_accuracy)' },
    monitor_mode: {
      type: 'enum', choices: ['auto', 'max', 'min'], default: 'auto',
      description: "whether the monitored metric should go up or down; auto = min for *loss, else max",
    },
    early_stopping_patience: {
      type: 'integer', nullable: true, default: null, min: 0, aliases: ['patience'],
      description: 'stop after this many epochs without improvement; null = never stop early',
    },
    backend: {
      type: 'string', default: 'auto', registry: 'backends', extraNames: ['auto'], aliases: ['backend'],
      description: 'TensorFlow.js backend; auto = fastest one that can train the model',
    },
    output_dir: {
      type: 'string', nullable: true, default: null, aliases: ['output_dir'],
      description: 'run folder; null = runs/<task>-<timestamp>',
    },
    logger: {
      type: 'string[]', default: ['csv'], registry: 'loggers', aliases: ['logger'],
      description: 'loggers that record the metrics (names separated by spaces or commas)',
    },
    threads: {
      type: 'integer', nullable: true, default: null, min: 1, aliases: ['threads'],
      description: 'CPU threads for the backend; null = all cores',
    },
    quiet: { type: 'boolean', default: false, aliases: ['quiet'], description: 'plain one-line-per-epoch logs, no progress bar' },
    strict: { type: 'boolean', default: false, aliases: ['strict'], description: 'make undecodable images fatal instead of skipping them' },
  },
  model: {
    backbone: {
      type: 'string', default: 'simple_cnn', registry: 'backbones', pathOk: true, aliases: ['backbone'],
      description: 'feature extractor: a registered name, or a flash run folder (or its model.json) whose backbone is reused',
    },
    head: {
      type: 'string', nullable: true, default: null, aliases: ['head'],
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
    optimizer: { type: 'string', default: 'adam', registry: 'optimizers', aliases: ['optimizer'], description: 'optimizer' },
    learning_rate: {
      type: 'number', nullable: true, default: null, above: 0, aliases: ['learning_rate', 'lr'],
      description: "learning rate; null = the optimizer's default",
    },
    weight_decay: { type: 'number', default: 0, min: 0, aliases: ['weight_decay'], description: 'L2 weight decay' },
    pretrained: {
      type: 'string', default: 'false', boolAsString: true, aliases: ['pretrained'],
      description: "backbone weights: 'true' (the backbone's own), 'false' (from scratch), a URL or a path",
    },
    dropout: { type: 'number', default: 0, min: 0, below: 1, aliases: ['dropout'], description: 'dropout before the head' },
    multi_label: {
      type: 'enum', choices: ['auto', 'true', 'false'], default: 'auto', boolAsString: true, aliases: ['multi_label'],
      description:
        "several labels per image (sigmoid head, binary cross-entropy, per-label F1): auto = when the data has several target columns or ';' ',' '|'-separated labels; true also splits one label column on spaces; false refuses multi-label data",
    },
    threshold: {
      type: 'number', default: 0.5, above: 0, below: 1, aliases: ['threshold'],
      description: 'multi-label: a label is predicted when its probability is at least this (metrics; the default of predict and serve)',
    },
  },
  data: {
    builder: { type: 'string', default: 'from_folders', description: 'how the data is given: one of the builders of the task (its sub-commands)' },
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
    batch_size: { type: 'integer', default: 32, min: 1, aliases: ['batch_size'], description: 'images per batch' },
    image_size: {
      type: 'integer', nullable: true, default: null, min: 1, aliases: ['image_size'],
      description: "side of the square model input in pixels; null = the backbone's default",
    },
    channels: {
      type: 'enum', choices: ['auto', 1, 3], default: 'auto', aliases: ['channels'],
      description: 'model input channels: 1 (grayscale), 3 (RGB) or auto (1 if every image is grayscale)',
    },
    val_split: {
      type: 'number', default: 0.2, min: 0, below: 1, aliases: ['val_split'],
      description: 'fraction of the training images held out (stratified, seeded) when no validation data is given',
    },
    augment: { type: 'boolean', default: true, aliases: ['augment'], description: 'train-time augmentation on/off (which ones: data.augmentations)' },
    augmentations: {
      type: 'string[]', default: ['hflip'],
      description:
        'train-time augmentations when augment is on: hflip (p=0.5, the default), random_resized_crop (80–100% of the area, resized back), rotate (±10°), color_jitter (brightness/contrast ±0.2)',
    },
    class_weights: {
      type: 'enum', choices: ['auto', 'none'], default: 'auto',
      description: 'auto: weight the loss by inverse class frequency (mean 1) when the largest train class has more than 3x the images of the smallest; none: never',
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
  },
  finetune: {
    strategy: {
      type: 'string', nullable: true, default: null, registry: 'strategies', aliases: ['strategy'],
      description: 'finetuning strategy (which backbone layers train when); null = freeze for a pretrained or saved backbone, else no_freeze',
    },
    unfreeze_epoch: { type: 'integer', default: 1, min: 0, description: 'epoch at which freeze_unfreeze unfreezes the backbone' },
    milestones: { type: 'number[]', default: [2, 4], min: 0, description: 'epochs at which unfreeze_milestones unfreezes more layers (numbers separated by spaces or commas)' },
    num_layers: { type: 'integer', default: 2, min: 0, description: 'layers unfrozen at the first milestone' },
    train_bn: { type: 'boolean', default: true, description: 'keep batch-norm layers trainable while the backbone is frozen' },
    backbone_lr_mult: { type: 'number', default: 1, min: 0, description: "multiplier of the learning rate for the backbone's unfrozen layers (their updates are scaled)" },
  },
};

/** One key of the schema with its place. */
export interface SchemaKey {
  section: Section;
  key: string;
  /** `section.key` */
  path: string;
  spec: KeySpec;
}

/** Every key, in schema order. */
export function schemaKeys(): SchemaKey[] {
  const out: SchemaKey[] = [];
  for (const section of SECTIONS) {
    for (const [key, spec] of Object.entries(SCHEMA[section]) as [string, KeySpec][]) {
      out.push({ section, key, path: `${section}.${key}`, spec });
    }
  }
  return out;
}

/** The spec of `section.key`, or undefined. */
export function keySpec(section: string, key: string): KeySpec | undefined {
  if (!(SECTIONS as readonly string[]).includes(section)) return undefined;
  const sec = SCHEMA[section as Section] as Record<string, KeySpec>;
  return Object.prototype.hasOwnProperty.call(sec, key) ? sec[key] : undefined;
}

/** Human name of a key's type, for messages and `--help` ("an integer", "a list of strings", …). */
export function describeType(spec: KeySpec): string {
  let t: string;
  switch (spec.type) {
    case 'number': t = 'a number'; break;
    case 'integer': t = 'an integer'; break;
    case 'boolean': t = 'true or false'; break;
    case 'string': t = 'a string'; break;
    case 'string[]': t = 'a list of strings'; break;
    case 'number[]': t = 'a list of numbers'; break;
    case 'enum': t = `one of ${(spec.choices ?? []).join(', ')}`; break;
  }
  return spec.nullable ? `${t} or null` : t;
}

/** 'min' or 'max' for a monitor and its `monitor_mode` ('auto' = min for metrics ending in loss, else max). */
export function monitorDirection(monitor: string, mode: 'auto' | 'max' | 'min'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /loss$/i.test(monitor) ? 'min' : 'max';
}
