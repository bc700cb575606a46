import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tasks } from '../../tasks/index.js';
import { FlashUserError } from '../core/errors.js';
import type { CliCommands, EvaluateArgs, PredictArgs, ServeArgs, TrainArgs } from '../cli/types.js';

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

/** Predict with a saved run (`flash predict`). */
export async function predict(args: PredictArgs): Promise<void> {
  await tasks.get(await taskOfRun(resolve(args.io.cwd, args.model))).predict(args);
}

/** Evaluate a saved run on labelled data (`flash evaluate`). */
export async function evaluate(args: EvaluateArgs): Promise<void> {
  await tasks.get(await taskOfRun(resolve(args.io.cwd, args.model))).evaluate(args);
}

/** Serve a saved run over HTTP (`flash serve`) until Ctrl-C/SIGTERM or `args.signal`. */
export async function serve(args: ServeArgs): Promise<void> {
  const name = await taskOfRun(resolve(args.io.cwd, args.model));
  const task = tasks.get(name);
  if (!task.serve) throw new FlashUserError(`task '${name}' has no serve command`);
  await task.serve(args);
}

/** The CLI's command table; `signal` lets Ctrl-C stop training cleanly. */
export function createCommands(signal?: AbortSignal): CliCommands {
  return {
    train: (args) => train({ ...args, signal }),
    predict,
    evaluate,
    serve: (args) => serve({ ...args, signal: args.signal ?? signal }),
  };
}
