/**
 * How many threads the engine uses on a wasm backend, and that backend's worker pool. Both live in
 * per-backend WeakMaps: a re-created backend starts over, and disposing a backend stops its workers.
 */
import { availableParallelism } from 'node:os';
import { EnginePool, type EnginePoolOptions } from './pool.js';

const settings = new WeakMap<object, { threads: number; options: EnginePoolOptions }>();
const pools = new WeakMap<object, EnginePool>();
const hooked = new WeakSet<object>();

/** Threads the engine uses when none were set: all cores. */
export function defaultEngineThreads(): number {
  return availableParallelism();
}

/**
 * Sets the engine's thread count for this wasm backend (1 = main thread only; `options` tune its pool, for
 * tests); restarts its pool if anything changes.
 */
export function setEngineThreads(backend: object, threads: number, options: EnginePoolOptions = {}): void {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`flash engine: threads must be an integer ≥ 1, got ${threads}`);
  const old = settings.get(backend);
  if (engineThreads(backend) !== threads || JSON.stringify(old?.options ?? {}) !== JSON.stringify(options)) shutdownEngineThreads(backend);
  settings.set(backend, { threads, options });
}

/** The pool options set for this backend (empty when none were). */
export function engineThreadOptions(backend: object): EnginePoolOptions {
  return settings.get(backend)?.options ?? {};
}

/** The engine's thread count for this backend (set, or all cores). */
export function engineThreads(backend: object): number {
  return settings.get(backend)?.threads ?? defaultEngineThreads();
}

/** The backend's worker pool, started on first use; undefined with one thread. */
export function poolFor(backend: object): EnginePool | undefined {
  const threads = engineThreads(backend);
  if (threads < 2) return undefined;
  let pool = pools.get(backend);
  if (!pool || pool.isDisposed) {
    pool = new EnginePool(threads, settings.get(backend)?.options);
    pools.set(backend, pool);
    hookDispose(backend);
  }
  return pool;
}

/** Stops this backend's workers now (a later split op starts new ones). */
export function shutdownEngineThreads(backend: object): void {
  pools.get(backend)?.dispose();
  pools.delete(backend);
}

/** Disposing the backend (tf.removeBackend, tf.engine().reset()) also stops its workers. */
function hookDispose(target: object): void {
  const backend = target as { dispose?: () => void };
  if (hooked.has(backend) || typeof backend.dispose !== 'function') return;
  hooked.add(backend);
  const dispose = backend.dispose.bind(backend);
  backend.dispose = () => {
    shutdownEngineThreads(backend);
    dispose();
  };
}

/** What this backend's pool has done so far (zeros without one); for tests and benchmarks. */
export interface EngineThreadStats {
  /** Ops split across threads. */
  splitOps: number;
  /** Workers' tasks that a worker ran. */
  workerTasks: number;
  /** Workers' tasks that the main thread took over because the worker had not started them (a busy machine). */
  stolenTasks: number;
  /** Whether the pool's workers are up (they start asynchronously). */
  workersReady: boolean;
}

export function engineThreadStats(backend: object): EngineThreadStats {
  const pool = pools.get(backend);
  return { splitOps: pool?.jobsRun ?? 0, workerTasks: pool?.tasks.worker ?? 0, stolenTasks: pool?.tasks.stolen ?? 0, workersReady: pool?.booted ?? false };
}
