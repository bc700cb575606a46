export { runCli, resolveTaskRecipe, type TaskRun } from './run.js';
export { parseTaskArgs, type TaskInvocation } from './task.js';
export { parseCommand, runCommand } from './command.js';
export { generalHelp, taskHelp, commandHelp, listText, listGroups } from './help.js';
export type { CliIO, CliDeps, CliRegistries, CliCommands, TrainArgs } from './types.js';
