import { tasks } from '../tasks/index.js';
import { backends } from './core/backend.js';
import { strategies } from './core/finetuning/index.js';
import { loggers } from './core/loggers/index.js';
import { metrics } from './core/metrics/index.js';
import { optimizers } from './core/optimizers/index.js';
import { lrSchedulers } from './core/schedulers/index.js';
import { flashVersion, taskOfRun } from './core/run/run_folder.js';
import type { CliDeps, CliIO } from './cli/types.js';
import type { Registry } from './core/registry.js';
import type { TaskPlugin } from '../tasks/types.js';
import type { TrialJobData } from './core/sweep/queue.js';
import type { PredictJobData } from './core/shard/queue.js';
import { runCli } from './cli/index.js';
import { commandsFor, type CommandOptions } from './commands/index.js';

/**
 * The composition root: the real task registry, the core's registries and the commands, wired for the `flash`
 * binary. Nothing below it imports the tasks; the CLI and the commands receive them.
 */
export function realDeps(io: CliIO, signal?: AbortSignal): CliDeps {
  return depsFor(tasks, io, signal);
}

/** The real CLI wiring over any registry of tasks (tests register a task of their own beside the real ones). */
export function depsFor(taskRegistry: Registry<TaskPlugin>, io: CliIO, signal?: AbortSignal, options: CommandOptions = {}): CliDeps {
  // A queued trial runs here, through flash's own CLI, with this process's tasks (a dead worker takes its trial with it).
  // (Not the worker's Ctrl-C signal: Ctrl-C lets the current trial finish, then the worker stops.)
  const runTrialInProcess = (data: TrialJobData, trialIO: CliIO) => runCli(['--config', data.recipePath, '--overwrite'], depsFor(taskRegistry, trialIO, undefined, options));
  // A queued predict shard: the same predict command, with the job's own shard and part.
  const runPredictInProcess = (data: PredictJobData, jobIO: CliIO) =>
    runCli(['predict', ...data.argv, '--shard', `${data.shard.index}/${data.shard.count}`, '--output', data.part], depsFor(taskRegistry, jobIO, undefined, options));
  return {
    io,
    tasks: taskRegistry,
    registries: { optimizers, metrics, loggers, backends, strategies, lr_schedulers: lrSchedulers },
    commands: commandsFor(taskRegistry, signal, { runTrialInProcess, runPredictInProcess, ...options }),
    taskOfRun,
    version: flashVersion(),
  };
}

/** The commands over the registered tasks (what `flash` runs), for the programmatic API. */
export const { train, predict, evaluate, serve, report, compare, export: exportModel } = commandsFor(tasks);
