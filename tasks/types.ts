import type { BuilderInfo, DeepPartial, Recipe, RecipeCheckContext, Schema, TaskSchema } from '../src/core/config/index.js';
import type { Registry } from '../src/core/registry.js';
import type { TaskIO } from '../src/core/task_io.js';
import type { Shard } from '../src/core/shard/shard.js';
import type { Callback } from '../src/core/trainer/types.js';

export type { TaskIO } from '../src/core/task_io.js';

/**
 * The plugin contract: everything flash knows of a task. A task is one folder exporting one `TaskPlugin` and one
 * `register` line in `tasks/index.ts`; the core (trainer, run lifecycle, recipes, CLI) reads only this.
 */
export interface TaskPlugin {
  /** `image_classification`: the CLI command and flash.json's `task`. */
  readonly name: string;
  /** One line for `flash --help` and `flash list tasks`. */
  readonly description: string;
  /** A command line that shows the task off in `flash --help`. */
  readonly example?: string;
  /** The task's own recipe keys (the core's are added by `schema`). */
  readonly keys: TaskSchema;
  /** The merged schema a run of this task resolves its recipe against (core keys, the task's, its defaults). */
  readonly schema: Schema;
  /** The task's defaults of keys (its monitor, its default builder), over the schema's. */
  readonly defaults: DeepPartial<Recipe>;
  /** The task's own registries, by the name its keys' `registry` refers to (image_classification: backbones). */
  readonly registries: Readonly<Record<string, Registry<unknown>>>;
  /** Its data builders: Flash Zero's sub-commands (`from_folders`, `from_csv`, …). */
  readonly builders: readonly TaskBuilderInfo[];
  /** Cross-key rules of the task's own keys; every problem at once. */
  checkRecipe?(recipe: Recipe, ctx: RecipeCheckContext): string[];
  /** Flags of `flash <task>` that are not recipe keys (`--check`, `--from_folders DIR`). */
  readonly trainFlags?: readonly TrainFlag[];
  /** `flash <task>`: trains (or whatever its train flags ask for). */
  train(args: TrainArgs): Promise<void>;
  /** `flash lr_find <task> …`: the LR finder on the recipe's data and model (usually `lrFindRun(hooks, …)`). */
  lrFind?(args: TrainArgs): Promise<void>;
  /** The commands on a saved run this task offers, each with its own flags and help. */
  readonly commands: TaskCommands;
}

/** A data builder as the CLI and the recipe see it. */
export interface TaskBuilderInfo extends BuilderInfo {
  description: string;
}

/** A flag of `flash <task>` that is not a recipe key. */
export interface TrainFlag {
  name: string;
  kind: 'string' | 'boolean';
  /** The value's placeholder in `--help` (`dir`). */
  arg?: string;
  description: string;
  /** A shortcut for recipe keys: the `section.key` values it stands for (`--from_folders d` = builder + folder). */
  sets?(value: string): Record<string, unknown>;
}

/** What `flash <task>` hands the task. */
export interface TrainArgs {
  recipe: Recipe;
  /** A run folder to continue from (`--resume`). */
  resume?: string;
  /** `--overwrite`: replace what the output folder holds (a finished run is refused otherwise). */
  overwrite?: boolean;
  /** The task's own train flags that were given (`{ check: true, json: true }`); shortcut flags are in the recipe. */
  flags?: Record<string, string | boolean>;
  io: TaskIO;
  /** Lets the caller interrupt (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Extra callbacks for the fit (programmatic use). */
  callbacks?: Callback[];
}

/** Commands on a saved run; the CLI finds the run's task from its flash.json. */
export type RunCommandName = 'predict' | 'evaluate' | 'serve' | 'report' | 'compare' | 'export';

/** The commands a task offers on its saved runs; it leaves out those it can't offer. */
export type TaskCommands = Partial<Record<RunCommandName, TaskCommand>>;

/** One flag of a command. */
export interface CommandOption {
  name: string;
  kind: 'string' | 'array' | 'boolean';
  description: string;
}

/** A command's argv parsed against its options; `problems` collects every problem so all are shown at once. */
export interface ParsedCommand {
  positionals: string[];
  problems: string[];
  /** Whether the flag was given at all (even without a value). */
  has(name: string): boolean;
  /** A string flag's value (a problem when given empty). */
  str(name: string): string | undefined;
  /** A list flag's values. */
  list(name: string): string[] | undefined;
  /** A boolean flag. */
  bool(name: string): boolean;
  /** An integer flag within [min, max], else a problem and `def`. */
  int(name: string, def: number, min: number, max?: number): number;
  /** A number strictly between 0 and 1. */
  fraction(name: string): number | undefined;
}

/** What a command's `parse` may consult: the IO, and the registries names are checked against (backends, …). */
export interface CommandContext {
  io: TaskIO;
  registries: Readonly<Record<string, { names(): string[] }>>;
}

/** The arguments every command on a run gets; a task's command adds its own. */
export interface RunCommandArgs {
  io: TaskIO;
  /** A task's own arguments (each task's command declares its fields). */
  [option: string]: unknown;
  /** Stops a long-running command (serve) — the CLI wires Ctrl-C to it. */
  signal?: AbortSignal;
  /**
   * `flash predict --shard i/n` (a command that declares `shards`): predict only the inputs `selectShard` picks,
   * each output row starting with its input row (`withRow`).
   */
  shard?: Shard;
}

/**
 * A predict that can be split into shards declares it; the CLI then gives it the shard flags (--shard, --shards
 * with --queue, --k8s_manifest or --merge) and hands it `args.shard`; spreading and merging are the core's.
 */
export interface ShardSupport<A extends RunCommandArgs = RunCommandArgs> {
  /** What is split, in order, for --help: 'the image files, sorted by path'. */
  of: string;
  /** The files and folders a shard reads (the model, the inputs), as given: a worker checks it can reach each. */
  needs(args: A): string[];
}

/** A command of a task: its flags and help, how they become arguments, and the function behind it. */
export interface TaskCommand<A extends RunCommandArgs = RunCommandArgs> {
  /** One line: what it does. */
  summary: string;
  /** Usage lines (`flash predict --model RUN_DIR (--files FILE ... | --folder DIR) [options]`). */
  usage: string[];
  options: readonly CommandOption[];
  /** Extra help paragraphs (endpoints, notes). */
  notes?: string[];
  /** The command's arguments from its parsed flags; pushes problems instead of throwing. */
  parse(p: ParsedCommand, ctx: CommandContext): A;
  run(args: A): Promise<unknown>;
  /** predict: it splits its inputs by `args.shard` (the CLI adds the shard flags). */
  shards?: ShardSupport<A>;
}
