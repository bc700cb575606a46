import type { Registry } from '../core/registry.js';
import type { TaskIO } from '../core/task_io.js';
import type { RunCommandArgs, RunCommandName, TaskPlugin, TrainArgs } from '../../tasks/types.js';
import type { SweepArgs } from '../core/sweep/run.js';
import type { ShardRequest } from './shard_flags.js';

/** Everything the CLI touches of the outside world, injected so tests run it in-process. */
export type CliIO = TaskIO;

/** The core's registries the CLI lists and checks names against; a task's own come from its plugin. */
export type CliRegistries = Readonly<Record<string, Registry<unknown>>>;

/** The commands the CLI dispatches to (the same functions the programmatic API uses). */
export interface CliCommands {
  train(args: TrainArgs): Promise<void>;
  /** `flash lr_find <task> …`. */
  lrFind?(args: TrainArgs): Promise<void>;
  /** `flash sweep --config sweep.yaml`: the trials of a checked plan. */
  sweep?(args: Omit<SweepArgs, 'runner'>): Promise<void>;
  /** `flash worker --queue redis://…`: takes sweep trials off the queue until stopped. */
  worker?(args: { queue: string; concurrency: number; lockSeconds: number; io: CliIO }): Promise<void>;
  /**
   * `flash predict … --shards n` with --queue, --k8s_manifest or --merge: the shards of the predict `argv` (its
   * flags without the shard flags and --output) spread over workers, written as a Kubernetes Job, or merged.
   */
  predictShards?(args: { request: Exclude<ShardRequest, { kind: 'one' }>; argv: string[]; needs: string[]; io: CliIO }): Promise<void>;
  /** A command on a saved run; the arguments are what the run's task parsed from the flags. */
  predict?(args: RunCommandArgs): Promise<void>;
  evaluate?(args: RunCommandArgs): Promise<void>;
  serve?(args: RunCommandArgs): Promise<void>;
  report?(args: RunCommandArgs): Promise<void>;
  export?(args: RunCommandArgs): Promise<void>;
  compare?(args: RunCommandArgs): Promise<void>;
}

export interface CliDeps {
  io: CliIO;
  tasks: Registry<TaskPlugin>;
  /** optimizers, metrics, loggers, backends, strategies. */
  registries: CliRegistries;
  commands: CliCommands;
  /** The task a run folder belongs to (its flash.json); a user error when the folder is not a flash run. */
  taskOfRun(dir: string): Promise<string>;
  /** flash's version, printed by `--version`. */
  version: string;
}

export type { TrainArgs, RunCommandName };
