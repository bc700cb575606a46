import { join, resolve } from 'node:path';
import { packageRoot } from '../core/package_root.js';
import { createHash } from 'node:crypto';
import { binaryTrialRunner, runSweep, type TrialRunner } from '../core/sweep/run.js';
import { queueTrialRunner, type TrialJobData } from '../core/sweep/queue.js';
import { runWorker } from '../core/worker.js';
import { predictOnQueue, type PredictJobData } from '../core/shard/queue.js';
import { indexedJobManifest } from '../core/shard/k8s.js';
import { mergeParts, partFormat } from '../core/shard/parts.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { relative, isAbsolute } from 'node:path';
import type { TaskIO } from '../core/task_io.js';
import { FlashUserError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import { taskOfRun } from '../core/run/run_folder.js';
import type { RunCommandArgs, RunCommandName, TaskPlugin, TrainArgs } from '../../tasks/types.js';
import type { CliCommands } from '../cli/types.js';

/** The run folder a command's arguments name (`model`, `run`, or the first of `runs`). */
function runOf(args: RunCommandArgs & { model?: string; run?: string; runs?: string[] }): string {
  const dir = args.model ?? args.run ?? args.runs?.[0];
  if (dir === undefined) throw new FlashUserError('no run folder given');
  return resolve(args.io.cwd, dir);
}

/**
 * The functions behind flash's commands, for a registry of tasks: `train` runs the recipe's task; a command on a
 * saved run goes to the task named in the run's flash.json ("not a flash run folder" when it has none, never a
 * guessed task). The CLI and the programmatic API call the same functions.
 */
/**
 * `trialRunner` runs one sweep trial (default: the `flash` binary in a child process; tests run trials in-process).
 */
export interface CommandOptions {
  /** Runs one sweep trial (default: the `flash` binary in a child process; tests run trials in-process). */
  trialRunner?: TrialRunner;
  /** Runs a queued trial's recipe in this process (`flash worker`): the composition root supplies flash's own CLI. */
  runTrialInProcess?: (data: TrialJobData, io: TaskIO) => Promise<number>;
  /** Runs a queued predict shard in this process (`flash worker`): flash's own `predict` CLI. */
  runPredictInProcess?: (data: PredictJobData, io: TaskIO) => Promise<number>;
}

/** A path as messages show it: relative to the working directory when inside it. */
function shownFrom(cwd: string): (p: string) => string {
  return (p) => {
    const rel = relative(cwd, p);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
  };
}

export function commandsFor(tasks: Registry<TaskPlugin>, signal?: AbortSignal, options: CommandOptions = {}): Required<CliCommands> {
  const onRun = (command: RunCommandName) => async (args: RunCommandArgs): Promise<void> => {
    const name = await taskOfRun(runOf(args));
    const cmd = tasks.get(name).commands[command];
    if (!cmd) throw new FlashUserError(`task '${name}' has no ${command} command`);
    await cmd.run(command === 'serve' ? { ...args, signal: args.signal ?? signal } : args);
  };
  return {
    train: (args: TrainArgs) => tasks.get(args.recipe.task).train({ ...args, signal: args.signal ?? signal }),
    sweep: async (args) => {
      if (args.queue) {
        // Jobs are named by the sweep folder, so re-running the same sweep enqueues nothing twice.
        const dir = args.outDir ?? resolve(args.io.cwd, 'sweeps', args.task);
        const queued = await queueTrialRunner(args.queue, createHash('sha256').update(dir).digest('hex').slice(0, 12));
        try {
          await runSweep({ ...args, runner: queued.runner, workers: args.workers > 1 ? args.workers : args.plan.trials, signal: args.signal ?? signal });
        } finally {
          await queued.close();
        }
        return;
      }
      const runner = options.trialRunner ?? binaryTrialRunner(join(packageRoot(), 'dist', 'bin', 'flash.js'), args.io.env);
      await runSweep({ ...args, runner, signal: args.signal ?? signal });
    },
    worker: async (args) => {
      const runInProcess = options.runTrialInProcess;
      if (!runInProcess) throw new FlashUserError('this flash cannot run queued trials');
      await runWorker({
        url: args.queue,
        concurrency: args.concurrency,
        io: args.io,
        lockMs: args.lockSeconds * 1000,
        ...(signal ? { signal } : {}),
        runTrial: async (data) => ({ code: await runInProcess(data, { ...args.io, cwd: data.cwd }) }),
        ...(options.runPredictInProcess ? { runPredict: options.runPredictInProcess } : {}),
      });
    },
    predictShards: async ({ request, argv, needs, io }) => {
      const output = resolve(io.cwd, request.output);
      const shown = shownFrom(io.cwd);
      partFormat(output);
      if (request.kind === 'queue') {
        const done = await predictOnQueue({ url: request.url, argv, cwd: io.cwd, needs, shards: request.shards, output, io, ...(signal ? { signal } : {}) });
        io.out(`wrote ${done.rows} predictions to ${shown(output)} (${request.shards} shards, merged in input order; workers: ${done.workers.join(', ')})\n`);
      } else if (request.kind === 'k8s') {
        const file = resolve(io.cwd, request.manifest);
        await writeFileAtomic(file, indexedJobManifest({ argv, shards: request.shards, output: request.output, cwd: io.cwd, image: request.image, pvc: request.pvc }));
        io.out(`wrote ${shown(file)}: a Kubernetes Indexed Job of ${request.shards} pods (image ${request.image}, volume ${request.pvc} at ${io.cwd}); run it with kubectl apply -f ${shown(file)}, then merge with --merge\n`);
      } else {
        const done = await mergeParts(output, request.shards, shown);
        io.out(`wrote ${done.rows} predictions to ${shown(output)} (${request.shards} shards merged in input order)\n`);
      }
    },
    lrFind: async (args: TrainArgs) => {
      const task = tasks.get(args.recipe.task);
      if (!task.lrFind) throw new FlashUserError(`task '${task.name}' has no lr_find`);
      await task.lrFind(args);
    },
    predict: onRun('predict'),
    evaluate: onRun('evaluate'),
    serve: onRun('serve'),
    report: onRun('report'),
    compare: onRun('compare'),
    export: onRun('export'),
  };
}
