/**
 * The engine's worker threads: `threads - 1` worker_threads, each running engine_shared.wasm (engine.c built
 * for a shared memory) on one `WebAssembly.Memory` shared with the main thread.
 *
 * tfjs-backend-wasm's heap is not shared, so a worker cannot see tensors: for each split op the main thread
 * copies the workers' inputs into the shared memory and hands each worker a few tasks (lists of engine
 * calls, recorded by running the same TS loop code against a recorder, see `Job.task`), computes its own
 * share in place, then waits and copies the workers' outputs back. Synchronisation is
 * `Atomics.notify`/`Atomics.wait` on a small control block per worker: a kernel must return synchronously,
 * and a message round trip would need the event loop.
 *
 * Every task can also run on the main thread (on the tfjs heap). Each one is claimed with a compare-and-swap
 * before it runs; the worker claims its tasks from the first, the main thread, once done with its own
 * share, from the last. So a worker that the OS has not scheduled (a busy machine) costs only the copies:
 * the main thread takes its tasks, and does not wait for a worker that claimed none.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EngineExports, Heap } from '../native.js';
import { sharedWasmPath } from '../native.js';

// Control block (Int32Array) fields. A job is numbered by SEQ; a task's claim is 3·seq (free),
// 3·seq + 1 (worker) or 3·seq + 2 (main thread), so a worker that wakes late for an old job claims nothing.
const SEQ = 0; // bumped by the main thread for each job (the worker sleeps on it)
const DONE_AT = 1; // the last job the worker finished
const FAILED_AT = 2; // the last job in which a task threw
const QUIT = 3; // 1: leave the loop
const BOOT = 4; // 0 starting, 1 ready, 2 failed to start
const TASKS = 5; // tasks in this job
const MSG_LEN = 6; // error message length; UTF-16 code units from MSG
const MAX_TASKS = 16;
const START = 8; // MAX_TASKS + 1 call-list offsets (task t: entries START[t] .. START[t + 1])
const CLAIM = START + MAX_TASKS + 1; // MAX_TASKS claims
const MSG = CLAIM + MAX_TASKS;
const CTL_INTS = MSG + 1024;

/** f64 entries in a worker's call list: ~3,000 engine calls, far more than one op records. */
const CALL_LIST_ENTRIES = 1 << 16;
/** Shared-memory addresses below this stay unused (engine.c's nominal stack area). */
const BASE = 1 << 20;
/**
 * Bytes of shared memory (from BASE) that keep copies of weights between ops, keyed by the tensor's dataId
 * (tfjs never writes into an existing tensor): inference copies each filter once, training once per step
 * instead of once per op. Jobs lay out their memory above it. (Only touched pages cost memory.)
 */
const CACHE_BYTES = 128 << 20;

export interface EnginePoolOptions {
  /** Size of the weight cache (default 128 MiB). */
  cacheBytes?: number;
  /** Whether the main thread takes over tasks a worker has not started (default true; false for tests). */
  takeOver?: boolean;
  /** Smallest op (FLOPs) that is split; default PARALLEL_MIN_FLOPS (threads/split.ts). Tests lower it. */
  minFlops?: number;
}
/** The least time a worker gets for one job before the main thread gives up on it. */
const MIN_TIMEOUT_MS = 120_000;
/** Engine exports the recorder offers (the ones the split loops call). */
const RECORDED = ['sgemm', 'im2col', 'col2im', 'fill_zero', 'bias_act', 'depthwise_filter_grad', 'depthwise_input_grad'] as const;

// The worker: instantiate the engine on the shared memory, then run the tasks it can claim until told to quit.
// Plain CommonJS source (eval), so it needs no file path and runs the same from sources (tsx) and from dist/.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const c = new Int32Array(workerData.ctl);
const fail = (err) => {
  const m = String(err && err.stack || err).slice(0, ${CTL_INTS - MSG});
  for (let i = 0; i < m.length; i++) c[${MSG} + i] = m.charCodeAt(i);
  c[${MSG_LEN}] = m.length;
};
let fns;
try {
  const inst = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
  fns = workerData.names.map((n) => inst.exports[n]);
  Atomics.store(c, ${BOOT}, 1);
} catch (err) {
  fail(err);
  Atomics.store(c, ${BOOT}, 2);
}
Atomics.notify(c, ${DONE_AT});
if (fns) {
  const a = new Float64Array(workerData.calls);
  let seen = 0;
  for (;;) {
    Atomics.wait(c, ${SEQ}, seen);
    const s = Atomics.load(c, ${SEQ});
    seen = s;
    if (Atomics.load(c, ${QUIT})) break;
    try {
      const n = Math.min(c[${TASKS}], ${MAX_TASKS});
      for (let t = 0; t < n; t++) {
        if (Atomics.compareExchange(c, ${CLAIM} + t, 3 * s, 3 * s + 1) !== 3 * s) continue;
        for (let i = c[${START} + t], end = c[${START} + t + 1]; i < end;) {
          const f = fns[a[i]], k = a[i + 1];
          f(...a.subarray(i + 2, i + 2 + k));
          i += 2 + k;
        }
      }
    } catch (err) {
      fail(err);
      Atomics.store(c, ${FAILED_AT}, s);
    }
    Atomics.store(c, ${DONE_AT}, s);
    Atomics.notify(c, ${DONE_AT});
  }
}
`;

interface Slot {
  worker: Worker;
  ctl: Int32Array;
  calls: Float64Array;
  error?: Error;
}

let sharedModule: WebAssembly.Module | undefined;

/** A fixed set of worker threads sharing one growable memory. Not reentrant: one job at a time. */
export class EnginePool {
  /** Threads including the main one. */
  readonly threads: number;
  readonly memory: WebAssembly.Memory;
  private readonly slots: Slot[] = [];
  private readonly names: string[];
  private disposed = false;
  private seq = 0;
  private readonly takeOver: boolean;
  /** Jobs run so far. */
  jobsRun = 0;
  /** Tasks the workers ran / the main thread took over from them (how often workers were late). */
  readonly tasks = { worker: 0, stolen: 0 };
  /** @internal The weight cache: entries of the current generation are valid. */
  readonly cache: { entries: WeakMap<object, { p: number; bytes: number; gen: number }>; top: number; gen: number; bytes: number };

  constructor(threads: number, options: EnginePoolOptions = {}) {
    this.threads = threads;
    this.cache = { entries: new WeakMap(), top: BASE, gen: 0, bytes: Math.ceil((options.cacheBytes ?? CACHE_BYTES) / 64) * 64 };
    this.takeOver = options.takeOver ?? true;
    sharedModule ??= new WebAssembly.Module(readFileSync(sharedWasmPath()));
    const module = sharedModule;
    this.names = WebAssembly.Module.exports(module).filter((x) => x.kind === 'function').map((x) => x.name);
    this.memory = new WebAssembly.Memory({ initial: (BASE >> 16) + 16, maximum: 65536, shared: true });
    for (let i = 0; i < threads - 1; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(CTL_INTS * 4));
      const calls = new Float64Array(new SharedArrayBuffer(CALL_LIST_ENTRIES * 8));
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, ctl: ctl.buffer, calls: calls.buffer, names: this.names },
      });
      const slot: Slot = { worker, ctl, calls };
      // (An 'error' event with no listener would crash the process; the next job reports it instead.)
      worker.on('error', (err) => { slot.error = err; });
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** Worker threads (threads - 1). */
  get workers(): number {
    return this.slots.length;
  }

  /** A new job: tasks for the workers over a fresh shared-memory layout. */
  job(): Job {
    if (this.disposed) throw new Error('flash engine: the thread pool was shut down');
    return new Job(this);
  }

  /** Stops the workers (they never keep the process alive either). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots) {
      Atomics.store(s.ctl, QUIT, 1);
      Atomics.add(s.ctl, SEQ, 1);
      Atomics.notify(s.ctl, SEQ);
      s.worker.terminate().catch(() => undefined);
    }
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Whether every worker has instantiated its engine (they start asynchronously; jobs need not wait). */
  get booted(): boolean {
    return this.slots.every((s) => Atomics.load(s.ctl, BOOT) === 1);
  }

  /** @internal Index of an engine export in the workers' function table. */
  functionIndex(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`flash engine: engine_shared.wasm has no export ${name}`);
    return i;
  }

  /**
   * @internal Runs one job: posts each worker's tasks, runs `mine`, takes over the tasks no worker has
   * claimed yet (`steal(w, t)`) and waits for the workers that claimed some. Returns, per worker, which
   * tasks that worker ran.
   */
  execute(lists: number[][], starts: number[][], mine: () => void, steal: (w: number, t: number) => void,
    timeoutMs: number): boolean[][] {
    // (Checked before any worker starts: a worker must never run while its job is abandoned.)
    this.slots.forEach((slot, w) => {
      const c = slot.ctl;
      if (Atomics.load(c, BOOT) === 2) this.fail(`worker ${w + 1} failed to start: ${message(c)}`);
      if (slot.error) this.fail(`worker ${w + 1} died: ${slot.error.message}`);
      if (lists[w].length > slot.calls.length) throw new Error(`flash engine: call list too long (${lists[w].length} entries)`);
    });
    const s = ++this.seq;
    this.jobsRun++;
    this.slots.forEach((slot, w) => {
      const c = slot.ctl;
      const n = starts[w].length - 1;
      if (n === 0) return; // (nothing to do: let it sleep)
      slot.calls.set(lists[w]);
      for (let t = 0; t <= n; t++) c[START + t] = starts[w][t];
      for (let t = 0; t < n; t++) c[CLAIM + t] = 3 * s;
      c[TASKS] = n;
      Atomics.store(c, SEQ, s); // (seq-cst: the worker sees everything above once it sees the new SEQ)
      Atomics.notify(c, SEQ);
    });
    let mineError: unknown;
    try {
      mine();
    } catch (err) {
      mineError = err;
    }
    // Take over the tasks still free, last first, until meeting the worker (or the end, if it never woke).
    // After that every task is claimed: the worker claims in order, so it has passed all below the meeting point.
    if (this.takeOver) {
      this.slots.forEach((slot, w) => {
        for (let t = starts[w].length - 2; t >= 0; t--) {
          if (Atomics.compareExchange(slot.ctl, CLAIM + t, 3 * s, 3 * s + 2) !== 3 * s) break;
          this.tasks.stolen++;
          if (mineError) continue;
          try {
            steal(w, t);
          } catch (err) {
            mineError = err;
          }
        }
      });
    }
    // Wait for the workers that claimed tasks (without take-over: every worker with tasks), whatever
    // happened on this thread: they must be done before the next job reuses the memory.
    const limit = Math.max(MIN_TIMEOUT_MS, timeoutMs);
    const deadline = Date.now() + limit;
    const ran = this.slots.map((slot, w) => {
      const c = slot.ctl;
      const n = starts[w].length - 1;
      const claimed = () => Array.from({ length: n }, (_, t) => Atomics.load(c, CLAIM + t) === 3 * s + 1);
      if (n === 0 || (this.takeOver && !claimed().includes(true))) return claimed();
      for (;;) {
        const done = Atomics.load(c, DONE_AT);
        if (done === s) break;
        if (slot.error) this.fail(`worker ${w + 1} died: ${slot.error.message}`);
        if (Date.now() > deadline) this.fail(`worker ${w + 1} did not finish within ${Math.round(limit / 1000)} s`);
        Atomics.wait(c, DONE_AT, done, 100);
      }
      if (Atomics.load(c, FAILED_AT) === s) this.fail(`worker ${w + 1} failed: ${message(c)}`);
      const flags = claimed();
      this.tasks.worker += flags.filter(Boolean).length;
      return flags;
    });
    if (mineError) throw mineError;
    return ran;
  }

  private fail(why: string): never {
    this.dispose();
    throw new Error(`flash engine: ${why}`);
  }
}

function message(c: Int32Array): string {
  return String.fromCharCode(...c.subarray(MSG, MSG + c[MSG_LEN]));
}

interface CopyIn { memory: WebAssembly.Memory; src: number; dst: number; bytes: number }

/** A share of a split op that a worker runs, or the main thread when it gets there first. */
export interface Task {
  /** Issues the engine calls on shared-memory copies (a worker's run). */
  worker(h: Heap): void;
  /** The same work on the tfjs heap, in place (the main thread's run). */
  main(): void;
  /** After a worker's run: brings its output back. */
  collect?(): void;
}

/**
 * One split op: a bump layout in the shared memory (inputs, outputs, the workers' scratch), the inputs to
 * copy there and each worker's tasks. Build it, then `run` it with the main thread's own share.
 */
export class Job {
  private top: number;
  private usesCache = false;
  /** Cache entries this job adds; valid once `run` has copied them. */
  private readonly newEntries: [object, { p: number; bytes: number; gen: number }][] = [];
  private readonly copies: CopyIn[] = [];
  private readonly lists: number[][];
  private readonly starts: number[][];
  private readonly tasks: Task[][];
  private readonly heaps: Heap[];

  constructor(private readonly pool: EnginePool) {
    this.top = BASE + pool.cache.bytes;
    this.lists = Array.from({ length: pool.workers }, () => []);
    this.starts = Array.from({ length: pool.workers }, () => [0]);
    this.tasks = Array.from({ length: pool.workers }, () => []);
    this.heaps = this.lists.map((list) => this.recorder(list));
  }

  /** `bytes` of shared memory for this job (64-byte aligned). */
  alloc(bytes: number): number {
    const p = this.top;
    this.top += Math.ceil(Math.max(bytes, 4) / 64) * 64;
    if (this.top > 2 ** 32 - 65536) throw new Error('flash engine: the shared memory would exceed 4 GiB');
    return p;
  }

  /** Shared memory that will hold a copy of `bytes` at `src` in `memory` (copied by `run`). */
  input(memory: WebAssembly.Memory, src: number, bytes: number): number {
    const dst = this.alloc(bytes);
    this.copies.push({ memory, src, dst, bytes });
    return dst;
  }

  /**
   * Like `input`, for a tensor whose contents never change (a weight): `key` is its dataId. Copied only if
   * the cache has no copy yet. (The cache starts over when full, unless this job already uses it.)
   */
  cachedInput(key: object, memory: WebAssembly.Memory, src: number, bytes: number): number {
    const cache = this.pool.cache;
    const hit = cache.entries.get(key);
    if (hit && hit.gen === cache.gen && hit.bytes === bytes) {
      this.usesCache = true;
      return hit.p;
    }
    const size = Math.ceil(Math.max(bytes, 4) / 64) * 64;
    if (cache.top + size > BASE + cache.bytes) {
      if (this.usesCache || size > cache.bytes / 2) return this.input(memory, src, bytes);
      cache.gen++;
      cache.top = BASE;
    }
    const p = cache.top;
    cache.top += size;
    this.newEntries.push([key, { p, bytes, gen: cache.gen }]);
    this.usesCache = true;
    this.copies.push({ memory, src, dst: p, bytes });
    return p;
  }

  /** Adds a task for worker `w` (0-based); a worker runs its tasks in order. */
  task(w: number, task: Task): void {
    if (this.tasks[w].length >= MAX_TASKS) throw new Error('flash engine: too many tasks for one worker');
    task.worker(this.heaps[w]);
    this.starts[w].push(this.lists[w].length);
    this.tasks[w].push(task);
  }

  /**
   * Grows the shared memory, copies the inputs, starts the workers, runs `mine` (the main thread's share)
   * and any task no worker has started, waits, and collects the workers' outputs. `flops` (the whole op)
   * only scales the give-up timeout.
   */
  run(mine: () => void, flops: number): void {
    const memory = this.pool.memory;
    const have = memory.buffer.byteLength;
    if (this.top > have) memory.grow(Math.ceil((this.top - have) / 65536));
    const shared = new Uint8Array(memory.buffer);
    for (const c of this.copies) shared.set(new Uint8Array(c.memory.buffer, c.src, c.bytes), c.dst);
    for (const [key, entry] of this.newEntries) this.pool.cache.entries.set(key, entry);
    const ran = this.pool.execute(this.lists, this.starts, mine, (w, t) => this.tasks[w][t].main(), flops / 1e5);
    ran.forEach((flags, w) => flags.forEach((r, t) => { if (r) this.tasks[w][t].collect?.(); }));
  }

  /** Copies `bytes` at `src` in `memory` to job memory at `dst` (a task the main thread took over, storing its result). */
  store(memory: WebAssembly.Memory, src: number, dst: number, bytes: number): void {
    new Uint8Array(this.pool.memory.buffer, dst, bytes).set(new Uint8Array(memory.buffer, src, bytes));
  }

  /** Copies `bytes` of job memory at `src` to `dst` in `memory` (from a task's `collect`). */
  output(src: number, memory: WebAssembly.Memory, dst: number, bytes: number): void {
    new Uint8Array(memory.buffer, dst, bytes).set(new Uint8Array(this.pool.memory.buffer, src, bytes));
  }

  /** A Heap that records calls into `list`; its scratch blocks are reused by later tasks of the same worker. */
  private recorder(list: number[]): Heap {
    const e: Record<string, (...args: number[]) => void> = {};
    for (const name of RECORDED) {
      const fi = this.pool.functionIndex(name);
      e[name] = (...args: number[]) => { list.push(fi, args.length, ...args); };
    }
    const free: { p: number; bytes: number }[] = [];
    const scratch = <T>(floats: number, fn: (p: number) => T): T => {
      const bytes = Math.max(4, floats * 4);
      const i = free.findIndex((b) => b.bytes >= bytes);
      const block = i >= 0 ? free.splice(i, 1)[0] : { p: this.alloc(bytes), bytes };
      try {
        return fn(block.p);
      } finally {
        free.push(block);
      }
    };
    return { e: e as unknown as EngineExports, scratch };
  }
}
