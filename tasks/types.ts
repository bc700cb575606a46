import type { CliTask, CompareArgs, ExportArgs, EvaluateArgs, PredictArgs, ReportArgs, ServeArgs, TrainArgs } from '../src/cli/types.js';

/** A task plugin: its data builders and defaults (for the CLI) and the functions behind its commands. */
export interface TaskEntry extends CliTask {
  train(args: TrainArgs): Promise<void>;
  predict(args: PredictArgs): Promise<void>;
  evaluate(args: EvaluateArgs): Promise<void>;
  /** `flash serve`: an HTTP server for a saved run (tasks that can't serve leave it out). */
  serve?(args: ServeArgs): Promise<void>;
  /** `flash report`: a run's report.html and plots. */
  report?(args: ReportArgs): Promise<void>;
  /** `flash export`: a folder for a web page. */
  export?(args: ExportArgs): Promise<void>;
  /** `flash compare`: runs side by side. */
  compare?(args: CompareArgs): Promise<void>;
}
