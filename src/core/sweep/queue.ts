import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { FlashUserError } from '../errors.js';
import { flashVersion } from '../run/run_folder.js';
import type { TrialRunner } from './run.js';

/**
 * Sweep trials as BullMQ jobs on Redis: `flash sweep --queue redis://…` enqueues them and waits; `flash worker
 * --queue redis://…` on any machine takes them. A job is identified by its sweep and trial, so re-enqueueing it
 * never duplicates it; a worker that dies mid-job loses its lock and BullMQ hands the job to another worker.
 * Data and sweep folders must be reachable under the same paths by every worker (a shared folder).
 */

export const TRIAL_QUEUE = 'flash-trials';

/** What a trial job carries. */
export interface TrialJobData {
  recipePath: string;
  runDir: string;
  cwd: string;
  /** A worker of another flash version refuses the job (its recipe may not mean the same there). */
  flashVersion: string;
}

export interface TrialJobResult {
  code: number;
  error?: string;
  worker: string;
}

/** Where Redis is, as ioredis and BullMQ take it. */
export interface RedisTarget {
  host: string;
  port: number;
  password?: string;
  db?: number;
  maxRetriesPerRequest: null;
}

/** host/port (and password, db) of a `redis://` URL; anything else is one line naming it. */
export function redisConnection(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FlashUserError(`--queue: '${url}' is not a URL; give redis://host:port`);
  }
  if (u.protocol !== 'redis:') throw new FlashUserError(`--queue: '${url}' is not a redis:// URL`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Fails fast, in one line, when Redis can't be reached (BullMQ would otherwise retry forever). */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const conn = redisConnection(url);
  const { host, port, password, db } = conn;
  const client = new Redis({ host, port, password, db, lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new FlashUserError(`cannot reach Redis at ${url}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    client.disconnect();
  }
}

/**
 * A sweep's trial runner that enqueues each trial and waits for a worker to finish it. `sweepId` names the jobs
 * (`<sweep>-<trial>`: BullMQ ids may not hold colons), so the same sweep re-run enqueues nothing twice.
 */
export async function queueTrialRunner(url: string, sweepId: string): Promise<{ runner: TrialRunner; close(): Promise<void> }> {
  await assertRedisReachable(url);
  const connection = redisConnection(url);
  const queue = new Queue<TrialJobData, TrialJobResult>(TRIAL_QUEUE, { connection });
  const events = new QueueEvents(TRIAL_QUEUE, { connection });
  await events.waitUntilReady();
  const runner: TrialRunner = async ({ recipePath, runDir, cwd, signal }) => {
    const jobId = `${sweepId}-${runDir.split("/").pop()}`;
    const job = await queue.add('trial', { recipePath, runDir, cwd, flashVersion: flashVersion() }, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
    if (signal.aborted) return { code: 130, error: 'not started: the sweep was stopped' };
    try {
      const result = (await job.waitUntilFinished(events)) as TrialJobResult;
      return { code: result.code, ...(result.error ? { error: result.error } : {}), worker: result.worker };
    } catch (err) {
      return { code: 1, error: (err as Error).message.split('\n')[0] };
    }
  };
  return {
    runner,
    close: async () => {
      await events.close();
      await queue.close();
    },
  };
}
