/**
 * The recipe: every setting of a run, in sections `trainer`, `model`, `data` and `finetune` plus the top-level
 * `task`, spelled Flash's way (snake_case). A schema is the one place a key is declared: its type, default,
 * aliases, limits and the line `--help` prints. The core declares the keys every task shares (below); each task
 * declares its own in its folder, and a run uses the two merged (`mergeSchemas`). Flags, recipe files,
 * validation, `--help` and `--print_config` are all generated from the merged schema.
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

/** The model keys every task has (a task adds its own: backbone, head, …). */
export interface ModelRecipe {
  optimizer: string;
  /** null = the optimizer's default; 'auto' = the LR finder's suggestion, found at the start of the run. */
  learning_rate: number | null | 'auto';
  weight_decay: number;
  /** How the learning rate changes over the run (a name in the lr scheduler registry). */
  lr_scheduler: string;
  /** Epochs of linear warmup from 0 (constant, cosine, step, plateau). */
  warmup_epochs: number;
}

/** The data keys every task has (a task adds its builders' keys). */
export interface DataRecipe {
  builder: string;
  batch_size: number;
  val_split: number;
}

export interface FinetuneRecipe {
  /** null = `freeze` for a pretrained or saved backbone, else `no_freeze`. */
  strategy: string | null;
  unfreeze_epoch: number;
  milestones: number[];
  num_layers: number;
  /** null = false for a pretrained or saved backbone frozen for the whole run, else true (finetuneDefaults). */
  train_bn: boolean | null;
  backbone_lr_mult: number;
}

/** A fully resolved recipe: every key present, every value valid. A task's recipe is a `RecipeOf` its own keys. */
export interface Recipe {
  task: string;
  trainer: TrainerRecipe;
  model: ModelRecipe;
  data: DataRecipe;
  finetune: FinetuneRecipe;
}

/** A task's recipe type: the core keys plus the task's own `model` and `data` keys. */
export type RecipeOf<M extends object, D extends object> = Omit<Recipe, 'model' | 'data'> & { model: ModelRecipe & M; data: DataRecipe & D };

/** Recursively optional (arrays are replaced whole, never merged). */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The value types a key can have. `nullable` adds `null` to any of them. */
export type ValueType = 'number' | 'integer' | 'boolean' | 'string' | 'string[]' | 'number[]' | 'enum';

/**
 * Registries whose names a key's value must be one of, looked up by this name among the core's registries
 * (optimizers, strategies, loggers, backends) and the task's own (image_classification: backbones).
 */
export type RegistryName = string;

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
  /** The word `auto` is a value too: flash works it out (`model.learning_rate: auto` runs the LR finder). */
  autoOk?: boolean;
  /** Short flags (`--max_epochs` for `--trainer.max_epochs`), without dashes. */
  aliases?: readonly string[];
  /** One line for `--help` and the `--print_config` comments. */
  description: string;
}

/** Key declarations of one section. */
export type SectionSchema = Record<string, KeySpec>;
/** A merged schema: every key of every section (the core's and one task's). */
export type Schema = { [S in Section]: SectionSchema };
/** A task's own keys, by section (most tasks add to `model` and `data`). */
export type TaskSchema = Partial<Record<Section, SectionSchema>>;
/** A schema section typed to cover a recipe section exactly (the compiler checks no key is missing). */
export type SchemaFor<T> = { [K in keyof T]-?: KeySpec };

/** Defaults used outside a recipe too (the programmatic API, commands on a saved run): one home each. */
export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_SEED = 42;

/** The core's keys: what every task's recipe has. */
export const CORE_SCHEMA: { [S in Section]: SchemaFor<Recipe[S]> } = {
  trainer: {
    max_epochs: { type: 'integer', default: 5, min: 1, aliases: ['max_epochs'], description: 'number of training epochs' },
    seed: { type: 'integer', default: DEFAULT_SEED, min: 0, aliases: ['seed'], description: 'random seed for weight init, the validation split, shuffling and random transforms of the training data (dropout masks are not seeded)' },
    monitor: { type: 'string', default: 'val_loss', aliases: ['monitor'], description: "metric that picks the best checkpoint and drives early stopping: train_ or val_ followed by loss or a metric name (the task sets the default)" },
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
    strict: { type: 'boolean', default: false, aliases: ['strict'], description: 'make unreadable samples (an undecodable file, a malformed row) fatal instead of skipping them' },
  },
  model: {
    optimizer: { type: 'string', default: 'adam', registry: 'optimizers', aliases: ['optimizer'], description: 'optimizer' },
    learning_rate: {
      type: 'number', nullable: true, default: null, above: 0, autoOk: true, aliases: ['learning_rate', 'lr'],
      description: "learning rate; null = the optimizer's default (with adam, 0.01 for the head of a pretrained or saved backbone frozen for the whole run); auto = the LR finder's suggestion (flash lr_find), found at the start of the run",
    },
    weight_decay: { type: 'number', default: 0, min: 0, aliases: ['weight_decay'], description: 'L2 weight decay' },
    lr_scheduler: {
      type: 'string', default: 'constant', registry: 'lr_schedulers', aliases: ['lr_scheduler'],
      description: 'how the learning rate changes over the run: constant, cosine, onecycle, step or plateau (per optimizer step; restored on --resume)',
    },
    warmup_epochs: {
      type: 'number', default: 0, min: 0, aliases: ['warmup_epochs'],
      description: 'epochs of linear learning-rate warmup from 0 (fractions allowed; onecycle has its own)',
    },
  },
  data: {
    builder: { type: 'string', default: '', description: 'how the data is given: one of the builders of the task (its sub-commands)' },
    batch_size: { type: 'integer', default: DEFAULT_BATCH_SIZE, min: 1, aliases: ['batch_size'], description: 'samples per batch' },
    val_split: {
      type: 'number', default: 0.2, min: 0, below: 1, aliases: ['val_split'],
      description: 'fraction of the training samples held out (stratified for classes, seeded) when no validation data is given',
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
    train_bn: {
      type: 'boolean', nullable: true, default: null,
      description: "keep batch-norm layers training while the backbone is frozen; null = false for a pretrained or saved backbone frozen for the whole run (inference mode, as Keras; the feature cache can apply), else true (Lightning's default)",
    },
    backbone_lr_mult: { type: 'number', default: 1, min: 0, description: "multiplier of the learning rate for the backbone's unfrozen layers (their updates are scaled)" },
  },
};

/**
 * A recipe's learning rate once the run has worked `auto` out (trainRun runs the LR finder first and writes the
 * number into the recipe, so a module never sees `auto`).
 */
export function fixedLearningRate(lr: number | null | 'auto'): number | null {
  if (lr === 'auto') throw new Error("learning_rate 'auto' reached a module: the run resolves it first");
  return lr;
}

/** One key of the schema with its place. */
export interface SchemaKey {
  section: Section;
  key: string;
  /** `section.key` */
  path: string;
  spec: KeySpec;
}

/** Every key of a schema, in schema order. */
export function schemaKeys(schema: Schema): SchemaKey[] {
  const out: SchemaKey[] = [];
  for (const section of SECTIONS) {
    for (const [key, spec] of Object.entries(schema[section])) out.push({ section, key, path: `${section}.${key}`, spec });
  }
  return out;
}

/** The spec of `section.key` in a schema, or undefined. */
export function keySpec(schema: Schema, section: string, key: string): KeySpec | undefined {
  if (!(SECTIONS as readonly string[]).includes(section)) return undefined;
  const sec = schema[section as Section];
  return Object.prototype.hasOwnProperty.call(sec, key) ? sec[key] : undefined;
}

/**
 * The core schema with a task's own keys added, section by section (a task's model keys come first: they say
 * what the model is). A task declaring a core key again is a programming error: a key has one home.
 */
export function mergeSchemas(core: Schema, task: TaskSchema, taskName: string, defaults: DeepPartial<Recipe> = {}): Schema {
  const merged = {} as Schema;
  for (const section of SECTIONS) {
    const own = task[section] ?? {};
    for (const key of Object.keys(own)) {
      if (Object.prototype.hasOwnProperty.call(core[section], key)) throw new Error(`task ${taskName} declares ${section}.${key}, a core key`);
    }
    merged[section] = section === 'model' ? { ...own, ...core[section] } : { ...core[section], ...own };
    // The task's defaults for core keys (its monitor, its default builder) live in its copy of the spec.
    for (const [key, value] of Object.entries((defaults as Record<string, Record<string, unknown> | undefined>)[section] ?? {})) {
      if (!merged[section][key]) throw new Error(`task ${taskName} sets a default for unknown key ${section}.${key}`);
      if (value !== undefined) merged[section][key] = { ...merged[section][key], default: value };
    }
  }
  return merged;
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
  const auto = spec.autoOk ? `${t}, auto` : t;
  return spec.nullable ? `${auto} or null` : auto;
}

/** 'min' or 'max' for a monitor and its `monitor_mode` ('auto' = min for metrics ending in loss, else max). */
export function monitorDirection(monitor: string, mode: 'auto' | 'max' | 'min'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /loss$/i.test(monitor) ? 'min' : 'max';
}
