import type { CliTask, EvaluateArgs, PredictArgs, ServeArgs, TrainArgs } from '../src/cli/types.js';

/** A task plugin: its data builders and defaults (for the CLI) and the functions behind its commands. */
export interface TaskEntry extends CliTask {
  train(args: TrainArgs): Promise<void>;
  predict(args: PredictArgs): Promise<void>;
  evaluate(args: EvaluateArgs): Promise<void>;
  /** `flash serve`: an HTTP server for a saved run (tasks that can't serve leave it out). */
  serve?(args: ServeArgs): Promise<void>;
}
