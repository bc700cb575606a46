/**
 * The engine's worker threads: `threads - 1` worker_threads, each running engine_shared.wasm (engine.c built
 * for a shared memory) on one `WebAssembly.Memory` shared with the main thread.
 *
 * tfjs-backend-wasm's heap is not shared, so a worker cannot see tensors: for each split op the main thread
 * copies the worker's inputs into the shared memory, hands the worker a list of engine calls (recorded by
 * running the same TS loop code against a recorder, see `Job.heap`), computes its own share in place, then
 * waits and copies the worker's outputs back. Synchronisation is `Atomics.notify`/`Atomics.wait` on a small
 * control block per worker: a kernel must return synchronously, and a message round trip would need the
 * event loop.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EngineExports, Heap } from '../native.js';
import { sharedWasmPath } from '../native.js';

// Control block (Int32Array) fields.
const STATE = 0; // main sets RUN; the worker answers DONE or FAILED
const COUNT = 1; // f64 entries in the call list
const SEQ = 2; // bumped by the main thread for each job (the worker sleeps on it)
const QUIT = 3; // 1: leave the loop
const BOOT = 4; // 0 starting, 1 ready, 2 failed to start
const MSG_LEN = 5; // error message length; UTF-16 code units from MSG
const MSG = 8;
const CTL_INTS = MSG + 1024;
const RUN = 1, DONE = 2, FAILED = 3;

/** f64 entries in a worker's call list: ~3,000 engine calls, far more than one op records. */
const CALL_LIST_ENTRIES = 1 << 16;
/** Shared-memory addresses below this stay unused (engine.c's nominal stack area). */
const BASE = 1 << 20;
/** The most a worker may take for one call list before the main thread gives up on it. */
const MIN_TIMEOUT_MS = 120_000;

// The worker: instantiate the engine on the shared memory, then run call lists until told to quit. Plain
// CommonJS source (eval), so it needs no file path and runs the same from sources (tsx) and from dist/.
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
  Atomics.store(c, ${STATE}, ${FAILED});
  Atomics.notify(c, ${STATE});
}
if (fns) {
  const a = new Float64Array(workerData.calls);
  let seen = 0;
  for (;;) {
    Atomics.wait(c, ${SEQ}, seen);
    seen = Atomics.load(c, ${SEQ});
    if (Atomics.load(c, ${QUIT})) break;
    try {
      const n = c[${COUNT}];
      for (let i = 0; i < n;) {
        const f = fns[a[i]], k = a[i + 1];
        f(...a.subarray(i + 2, i + 2 + k));
        i += 2 + k;
      }
      Atomics.store(c, ${STATE}, ${DONE});
    } catch (err) {
      fail(err);
      Atomics.store(c, ${STATE}, ${FAILED});
    }
    Atomics.notify(c, ${STATE});
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
  /** Jobs run so far. */
  jobsRun = 0;

  constructor(threads: number) {
    this.threads = threads;
    sharedModule ??= new WebAssembly.Module(readFileSync(sharedWasmPath()));
    const module = sharedModule;
    const declared = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
    if (!declared) throw new Error('flash engine: engine_shared.wasm imports no memory');
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

  /** A new job: one call list per worker over a fresh shared-memory layout. */
  job(): Job {
    if (this.disposed) throw new Error('flash engine: the thread pool was shut down');
    return new Job(this);
  }

  /** Stops the workers (they also never keep the process alive). Idempotent. */
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

  /** @internal Index of an engine export in the workers' function table. */
  functionIndex(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`flash engine: engine_shared.wasm has no export ${name}`);
    return i;
  }

  /** @internal Posts call lists to the workers that have one. */
  post(lists: number[][]): void {
    lists.forEach((list, w) => {
      if (list.length === 0) return;
      const s = this.slots[w];
      if (list.length > s.calls.length) throw new Error(`flash engine: call list too long (${list.length} entries)`);
      s.calls.set(list);
      s.ctl[COUNT] = list.length;
      Atomics.store(s.ctl, STATE, RUN);
      Atomics.add(s.ctl, SEQ, 1);
      Atomics.notify(s.ctl, SEQ);
    });
  }

  /** @internal Waits for the posted lists; throws (and shuts the pool down) if a worker failed. */
  wait(lists: number[][], timeoutMs: number): void {
    const limit = Math.max(MIN_TIMEOUT_MS, timeoutMs);
    const deadline = Date.now() + limit;
    let failure: string | undefined;
    lists.forEach((list, w) => {
      if (list.length === 0) return;
      const s = this.slots[w];
      while (Atomics.load(s.ctl, STATE) === RUN && Atomics.load(s.ctl, BOOT) !== 2 && !s.error) {
        if (Date.now() > deadline) {
          failure ??= `worker ${w + 1} did not finish within ${Math.round(limit / 1000)} s`;
          break;
        }
        Atomics.wait(s.ctl, STATE, RUN, 100);
      }
      const state = Atomics.load(s.ctl, STATE);
      if (s.error) failure ??= `worker ${w + 1} died: ${s.error.message}`;
      else if (state === FAILED || Atomics.load(s.ctl, BOOT) === 2) {
        const n = s.ctl[MSG_LEN];
        failure ??= `worker ${w + 1} failed: ${String.fromCharCode(...s.ctl.subarray(MSG, MSG + n))}`;
      }
    });
    if (failure) {
      this.dispose();
      throw new Error(`flash engine: ${failure}`);
    }
  }
}

interface CopyIn { memory: WebAssembly.Memory; src: number; dst: number; bytes: number }

/**
 * One split op: a bump layout in the shared memory (inputs, outputs, the workers' scratch), the inputs to
 * copy there and one call list per worker. Build it, `run` it (your share runs in between), read the outputs.
 */
export class Job {
  private top = BASE;
  private readonly copies: CopyIn[] = [];
  private readonly lists: number[][];

  constructor(private readonly pool: EnginePool) {
    this.lists = Array.from({ length: pool.workers }, () => []);
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

  /** A Heap whose calls are recorded for worker `w` (0-based) and whose scratch is job memory. */
  heap(w: number): Heap {
    const list = this.lists[w];
    const e: Record<string, (...args: number[]) => void> = {};
    for (const name of ['sgemm', 'im2col', 'col2im', 'fill_zero', 'bias_act', 'depthwise_filter_grad', 'depthwise_input_grad']) {
      const fi = this.pool.functionIndex(name);
      e[name] = (...args: number[]) => { list.push(fi, args.length, ...args); };
    }
    return { e: e as unknown as EngineExports, scratch: (floats, fn) => fn(this.alloc(floats * 4)) };
  }

  /**
   * Grows the shared memory, copies the inputs, starts the workers, runs `mine` (the main thread's share)
   * and waits for the workers. `flops` (all workers) only scales the give-up timeout.
   */
  run(mine: () => void, flops: number): void {
    const memory = this.pool.memory;
    const have = memory.buffer.byteLength;
    if (this.top > have) memory.grow(Math.ceil((this.top - have) / 65536));
    const shared = new Uint8Array(memory.buffer);
    for (const c of this.copies) shared.set(new Uint8Array(c.memory.buffer, c.src, c.bytes), c.dst);
    this.pool.post(this.lists);
    this.pool.jobsRun++;
    let mineError: unknown;
    try {
      mine();
    } catch (err) {
      mineError = err;
    }
    // Always wait, even when the main share threw: the workers must be idle before the next job.
    this.pool.wait(this.lists, flops / 1e5);
    if (mineError) throw mineError;
  }

  /** Copies `bytes` of job memory at `src` to `dst` in `memory` (after `run`). */
  output(src: number, memory: WebAssembly.Memory, dst: number, bytes: number): void {
    new Uint8Array(memory.buffer, dst, bytes).set(new Uint8Array(this.pool.memory.buffer, src, bytes));
  }
}
