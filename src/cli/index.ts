export { runCli, resolveTaskRecipe, type TaskRun } from './run.js';
export { parseTaskArgs, type TaskInvocation } from './task.js';
export { generalHelp, taskHelp, listText, LIST_GROUPS, type ListGroup } from './help.js';
export type {
  CliIO,
  CliDeps,
  CliTask,
  CliBuilder,
  CliRegistries,
  CliCommands,
  TrainArgs,
  PredictArgs,
  EvaluateArgs,
} from './types.js';
