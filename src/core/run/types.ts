import type * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '../backend.js';
import type { Recipe } from '../config/index.js';
import type { FinetunePhase } from '../finetuning/index.js';
import type { TaskIO } from '../task_io.js';
import type { FitResult } from '../trainer/trainer.js';
import type { DataModuleLike, Logger, TaskModule } from '../trainer/types.js';

/** What a run's hooks are given: the recipe, where it writes, and how it speaks. */
export interface RunContext<R extends Recipe = Recipe> {
  recipe: R;
  io: TaskIO;
  /** Prints one line of the run's log on stdout. */
  say(line: string): void;
  runDir: string;
  /** True when continuing a run (`--resume`): the checkpoint's weights replace the module's initial ones. */
  resuming: boolean;
  backend: BackendChoice;
}

/** A module the run can continue (`--resume`) and whose backbone strategies can freeze. */
export interface RunModule extends TaskModule {
  /** Copies the weights of an identically built network in (resume). */
  loadWeightsFrom?(other: tf.LayersModel): void;
  /** The backbone's layer groups, when it has a backbone (the run prints their count). */
  layerGroups?(): unknown[];
  /** Trains at another learning rate from the next optimizer on (the run's default for a frozen trained backbone). */
  setLearningRate?(lr: number): void;
}

/** The task's part of a run: everything the core can't know about its data and model. */
export interface TrainRunHooks<R extends Recipe, D extends DataModuleLike, M extends RunModule> {
  /** Checks and notes before the data is built (a dataset check, "no data given: the demo set"). */
  beforeData?(ctx: RunContext<R>): Promise<void>;
  /** Builds the data; it may print what it found. */
  buildData(ctx: RunContext<R>): Promise<D>;
  /** Builds the module for the data (the run seeds its weight init with trainer.seed). */
  buildModule(data: D, ctx: RunContext<R>): Promise<M>;
  /**
   * Files the task keeps beside the model (a tokenizer, say), written with the first checkpoint (the end of the
   * first epoch, before model.json): a run that fails or stops before then leaves none of them behind.
   */
  writeRunFiles?(module: M, data: D, ctx: RunContext<R>): Promise<void>;
  /** True when the backbone's weights are already trained (the default strategy is then `freeze`). */
  backboneTrained?(module: M, ctx: RunContext<R>): boolean;
  /** The quantity the run monitors on its val split; default the recipe's `trainer.monitor`. */
  monitor?(data: D, ctx: RunContext<R>): { monitor: string; mode: 'min' | 'max' };
  /** The data the trainer fits on (a task may wrap splits, e.g. in a feature cache while its backbone is frozen). */
  fitData?(module: M, data: D, phases: FinetunePhase[], ctx: RunContext<R>): DataModuleLike;
  /** The task's own part of flash.json (labels, input spec, …); the module writes what loading it needs. */
  metadata(module: M, data: D, ctx: RunContext<R>): Record<string, unknown>;
  /** Loads the saved model of a run folder (the best model is tested as a user will load it). */
  load(runDir: string): Promise<M>;
  /** After the best model was tested and flash.json written: reports, per-class tables. A failure here is the task's to word. */
  afterRun?(ctx: RunContext<R>, data: D, done: { fit: FitResult; loggers: Logger[]; metrics: Record<string, number> }): Promise<void>;
  /** The closing lines that say how to use the run (`predict with: …`). */
  hints?(ctx: RunContext<R>, data: D): string[];
  /** Frees what a module holds. */
  dispose(module: M): void;
  /** Folders the run reads its data from (an output folder inside one is refused). */
  dataFolders?(recipe: R, cwd: string): string[];
}

