import { Job, Queue, QueueEvents, UnrecoverableError } from 'bullmq';
import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative } from 'node:path';
import { FlashUserError } from '../errors.js';
import { flashVersion } from '../run/run_folder.js';
import { assertRedisReachable, redisConnection } from '../sweep/queue.js';
import type { TaskIO } from '../task_io.js';
import { mergeParts, partFile, partsDir } from './parts.js';
import { shardName, type Shard } from './shard.js';

/**
 * Predict shards as BullMQ jobs: `flash predict … --queue redis://… --shards N --output preds.jsonl` enqueues one
 * job per shard, waits, and merges the parts; `flash worker` on any machine runs a job as `flash predict …
 * --shard i/N --output preds.jsonl.shards/part-i-of-N.jsonl`, in-process. A part is written atomically (temp +
 * rename) and the same job always writes the same part, so a job re-run after a lost worker overwrites it with the
 * same rows. Job ids come from the command, so re-running it enqueues nothing twice (a failed shard is retried).
 */

export const PREDICT_QUEUE = 'flash-predict';

/** What a predict shard job carries. */
export interface PredictJobData {
  /** The predict command's own flags (model, inputs, options), as typed, without the shard flags and --output. */
  argv: string[];
  /** Where the command was typed: relative paths in argv resolve here, on every worker. */
  cwd: string;
  /** The files and folders the shard reads (absolute): a worker that can't reach one fails the job saying so. */
  needs: string[];
  shard: Shard;
  /** The part to write (absolute). */
  part: string;
  /** A worker of another flash version refuses the job (its flags may not mean the same there). */
  flashVersion: string;
}

export interface PredictJobResult {
  worker: string;
  part: string;
}

export interface SubmitShardsArgs {
  url: string;
  argv: string[];
  cwd: string;
  needs: string[];
  shards: number;
  /** The merged output (absolute). */
  output: string;
  io: TaskIO;
  signal?: AbortSignal;
}

const shownPath = (cwd: string) => (p: string) => {
  const rel = relative(cwd, p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
};

/** The jobs' shared id: the same command in the same folder names the same jobs. */
export function predictJobPrefix(args: Pick<SubmitShardsArgs, 'argv' | 'cwd' | 'shards' | 'output'>): string {
  return `predict-${createHash('sha256').update(JSON.stringify([args.cwd, args.argv, args.shards, args.output, flashVersion()])).digest('hex').slice(0, 12)}`;
}

/**
 * Enqueues the shards of a predict, waits for workers to finish them all, and merges the parts into `output`
 * in input order; then removes the parts and the jobs. A failed shard is one line naming it; Ctrl-C stops
 * waiting (the jobs stay queued: the same command picks them up again).
 */
export async function predictOnQueue(args: SubmitShardsArgs): Promise<{ rows: number; workers: string[] }> {
  const { io, shards: n } = args;
  const shown = shownPath(io.cwd);
  const say = (line: string) => io.out(`${line}\n`);
  await assertRedisReachable(args.url);
  await mkdir(partsDir(args.output), { recursive: true });
  const connection = redisConnection(args.url);
  const queue = new Queue<PredictJobData, PredictJobResult>(PREDICT_QUEUE, { connection });
  const events = new QueueEvents(PREDICT_QUEUE, { connection });
  try {
    await events.waitUntilReady();
    const prefix = predictJobPrefix(args);
    const jobs: Job<PredictJobData, PredictJobResult>[] = [];
    let reused = 0;
    for (let index = 0; index < n; index++) {
      const shard = { index, count: n };
      const part = partFile(args.output, shard);
      const jobId = `${prefix}-${index}-of-${n}`;
      let job = await Job.fromId<PredictJobData, PredictJobResult>(queue, jobId);
      if (job) {
        reused++;
        const state = await job.getState();
        // A re-run retries what failed, and re-does a finished shard whose part was removed since.
        if (state === 'failed') await job.retry('failed');
        else if (state === 'completed' && !existsSync(part)) await job.retry('completed');
      } else {
        const data: PredictJobData = { argv: args.argv, cwd: args.cwd, needs: args.needs, shard, part, flashVersion: flashVersion() };
        job = await queue.add('predict-shard', data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
      }
      jobs.push(job);
    }
    say(`predict: ${n} shard(s) on ${args.url} (${PREDICT_QUEUE}${reused ? `; ${reused} queued by an earlier run of this command` : ''}); waiting for workers (flash worker --queue ${args.url}) …`);
    let done = 0;
    const workers = new Set<string>();
    const stopped = new Promise<never>((_, reject) => {
      const stop = () => reject(new FlashUserError(`interrupted with ${done} of ${n} shards done; the jobs stay queued: run the same command again to wait for them`, 130));
      if (args.signal?.aborted) stop();
      args.signal?.addEventListener('abort', stop, { once: true });
    });
    stopped.catch(() => undefined);
    const outcomes = await Promise.race([
      Promise.allSettled(
        jobs.map(async (job) => {
          const result = (await job.waitUntilFinished(events)) as PredictJobResult;
          workers.add(result.worker);
          say(`shard ${shardName(job.data.shard)} done by ${result.worker} (${++done}/${n})`);
          return result;
        }),
      ),
      stopped,
    ]);
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, (o.reason as Error).message.split('\n')[0]] as const] : []));
    if (failed.length) {
      const [i, why] = failed[0];
      throw new FlashUserError(`shard ${i}/${n} failed: ${why}${failed.length > 1 ? ` (and ${failed.length - 1} more shard(s): ${failed.slice(1, 6).map(([k]) => k).join(', ')}${failed.length > 6 ? ', …' : ''})` : ''}`);
    }
    const merged = await mergeParts(args.output, n, shown);
    await rm(partsDir(args.output), { recursive: true, force: true });
    // The jobs are spent: the same command run again (new data, a retrained model) predicts afresh.
    await Promise.all(jobs.map((j) => j.remove().catch(() => undefined)));
    return { rows: merged.rows, workers: [...workers].sort() };
  } finally {
    await events.close();
    await queue.close();
  }
}

/**
 * How a worker runs a predict shard job: refuses a job of another flash version, and one whose data it can't
 * reach (one line naming the path); runs it (`run`: flash's own `predict` CLI in-process); a user error fails
 * the job for good (a retry would fail the same way), anything else is retried.
 */
export function predictJobProcessor(name: string, run: (data: PredictJobData, io: TaskIO) => Promise<number>, io: TaskIO, say: (line: string) => void) {
  return async (job: Job<PredictJobData, PredictJobResult>): Promise<PredictJobResult> => {
    const data = job.data;
    if (data.flashVersion !== flashVersion()) {
      throw new UnrecoverableError(`worker ${name} runs flash ${flashVersion()}; the job was made by flash ${data.flashVersion}`);
    }
    for (const [path, mode, what] of [...data.needs.map((p) => [p, constants.R_OK, 'read'] as const), [dirname(data.part), constants.W_OK, 'write to'] as const]) {
      const why = await access(path, mode).then(() => undefined, (err: NodeJS.ErrnoException) => err.code ?? err.message);
      if (why !== undefined) {
        throw new UnrecoverableError(`worker ${name} cannot ${what} ${path} (${why}): every worker needs the model and data under the same path as where predict was run (a shared folder)`);
      }
    }
    say(`worker ${name}: ${job.id} predict shard ${shardName(data.shard)} (attempt ${job.attemptsMade + 1})`);
    let lastError = '';
    const jobIO: TaskIO = {
      ...io,
      cwd: data.cwd,
      out: () => undefined,
      err: (text) => {
        const line = text.split('\n').find((l) => l.startsWith('error: '));
        if (line) lastError = line.slice('error: '.length);
      },
    };
    const code = await run(data, jobIO);
    say(`worker ${name}: ${job.id} exit ${code}${lastError ? ` (${lastError})` : ''}`);
    if (code !== 0) {
      const message = `worker ${name}: ${lastError || `flash predict exited with ${code}`}`;
      throw code === 2 ? new UnrecoverableError(message) : new Error(message);
    }
    return { worker: name, part: data.part };
  };
}
