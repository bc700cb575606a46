import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tasks } from '../../tasks/index.js';
import { FlashUserError } from '../core/errors.js';
import type { CliCommands, CompareArgs, ExportArgs, EvaluateArgs, PredictArgs, ReportArgs, ServeArgs, TrainArgs } from '../cli/types.js';
import type { TaskEntry } from '../../tasks/types.js';

/** The task a saved run belongs to (flash.json's `task`); image_classification when it can't be read. */
async function taskOfRun(dir: string): Promise<string> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'flash.json'), 'utf8')) as { task?: string };
    return meta.task ?? 'image_classification';
  } catch {
    return 'image_classification'; // the task's own loader reports the missing/invalid run folder
  }
}

/** Train a recipe's task (`flash <task>`). */
export async function train(args: TrainArgs & { signal?: AbortSignal }): Promise<void> {
  await tasks.get(args.recipe.task).train(args);
}

/** The task plugin a saved run belongs to, checked to offer `command`. */
async function taskForRun<K extends 'predict' | 'evaluate' | 'serve' | 'report' | 'compare' | 'export'>(
  cwd: string,
  run: string,
  command: K,
): Promise<Required<Pick<TaskEntry, K>>> {
  const name = await taskOfRun(resolve(cwd, run));
  const task = tasks.get(name);
  if (!task[command]) throw new FlashUserError(`task '${name}' has no ${command} command`);
  return task as unknown as Required<Pick<TaskEntry, K>>;
}

/** Predict with a saved run (`flash predict`). */
export async function predict(args: PredictArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.model, 'predict')).predict(args);
}

/** Evaluate a saved run on labelled data (`flash evaluate`). */
export async function evaluate(args: EvaluateArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.model, 'evaluate')).evaluate(args);
}

/** Serve a saved run over HTTP (`flash serve`) until Ctrl-C/SIGTERM or `args.signal`. */
export async function serve(args: ServeArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.model, 'serve')).serve(args);
}

/** Write a run's report (`flash report`). */
export async function report(args: ReportArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.run, 'report')).report(args);
}

/** Export a saved run for a web page (`flash export`). */
export async function exportModel(args: ExportArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.model, 'export')).export(args);
}

/** Compare runs side by side (`flash compare`); the first run's task does it. */
export async function compare(args: CompareArgs): Promise<void> {
  await (await taskForRun(args.io.cwd, args.runs[0], 'compare')).compare(args);
}

/** The CLI's command table; `signal` lets Ctrl-C stop training cleanly. */
export function createCommands(signal?: AbortSignal): CliCommands {
  return {
    train: (args) => train({ ...args, signal }),
    predict,
    evaluate,
    serve: (args) => serve({ ...args, signal: args.signal ?? signal }),
    report,
    compare,
    export: exportModel,
  };
}
