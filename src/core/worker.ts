import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { flashVersion } from './run/run_folder.js';
import { PREDICT_QUEUE, predictJobProcessor, type PredictJobData, type PredictJobResult } from './shard/queue.js';
import { assertRedisReachable, redisConnection, TRIAL_QUEUE, type TrialJobData, type TrialJobResult } from './sweep/queue.js';
import type { TaskIO } from './task_io.js';

/**
 * `flash worker --queue redis://…`: takes sweep trials (flash-trials) and predict shards (flash-predict) off the
 * queue on Redis until stopped, printing each job it runs.
 */

export interface WorkerArgs {
  url: string;
  concurrency: number;
  io: TaskIO;
  /** Runs one trial's recipe in this process; returns the exit code (flash's own CLI, in-process). */
  runTrial(data: TrialJobData): Promise<{ code: number; error?: string }>;
  /** Runs one predict shard in this process (flash's own `predict` CLI); returns the exit code. */
  runPredict?(data: PredictJobData, io: TaskIO): Promise<number>;
  /** Stops the worker after its current jobs (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** How long a job's lock lasts without renewal: a dead worker's job is handed on after about this long. */
  lockMs?: number;
}

/** Takes trial and predict shard jobs until stopped; a job of another flash version is refused, saying why. */
export async function runWorker(args: WorkerArgs): Promise<void> {
  await assertRedisReachable(args.url);
  const name = `${hostname()}:${process.pid}`;
  const say = (line: string) => args.io.out(`${line}\n`);
  const lockDuration = args.lockMs ?? 30_000;
  const options = { connection: redisConnection(args.url), concurrency: args.concurrency, lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)), maxStalledCount: 2 };
  const trials = new Worker<TrialJobData, TrialJobResult>(
    TRIAL_QUEUE,
    async (job: Job<TrialJobData, TrialJobResult>) => {
      if (job.data.flashVersion !== flashVersion()) {
        throw new UnrecoverableError(`worker ${name} runs flash ${flashVersion()}; the job was made by flash ${job.data.flashVersion}`);
      }
      say(`worker ${name}: ${job.id} (attempt ${job.attemptsMade + 1})`);
      const ran = await args.runTrial(job.data);
      say(`worker ${name}: ${job.id} exit ${ran.code}${ran.error ? ` (${ran.error})` : ''}`);
      return { ...ran, worker: name };
    },
    options,
  );
  const workers: Worker[] = [trials];
  if (args.runPredict) workers.push(new Worker<PredictJobData, PredictJobResult>(PREDICT_QUEUE, predictJobProcessor(name, args.runPredict, args.io, say), options));
  for (const w of workers) w.on('error', (err) => args.io.err(`warning: worker: ${err.message}\n`));
  const queues = args.runPredict ? `${TRIAL_QUEUE} and ${PREDICT_QUEUE}` : TRIAL_QUEUE;
  say(`worker ${name}: waiting for trials${args.runPredict ? ' and predict shards' : ''} on ${args.url} (${queues}, concurrency ${args.concurrency}; Ctrl-C finishes the current job)`);
  await new Promise<void>((resolve) => {
    if (args.signal?.aborted) return resolve();
    args.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.all(workers.map((w) => w.close()));
  say(`worker ${name}: stopped`);
}
