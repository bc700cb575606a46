import type { CliTask, EvaluateArgs, PredictArgs, TrainArgs } from '../src/cli/types.js';

/** A task plugin: its data builders and defaults (for the CLI) and the functions behind its commands. */
export interface TaskEntry extends CliTask {
  train(args: TrainArgs): Promise<void>;
  predict(args: PredictArgs): Promise<void>;
  evaluate(args: EvaluateArgs): Promise<void>;
}
