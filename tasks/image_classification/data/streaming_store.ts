import { decodeImage, type ImageSpec } from './decode.js';
import type { PixelStore } from './data_split.js';

/** Tuning of a streaming store. */
export interface StreamingStoreOptions {
  /** How many samples ahead of the current one (in the hinted order) are decoded in advance. Default 96. */
  readAhead?: number;
  /**
   * The most decodes in flight at once. Default: the whole read-ahead window. sharp runs each decode as one job on
   * libuv's thread pool (UV_THREADPOOL_SIZE threads, 4 by default, is the real parallelism), and a job can only be
   * queued while the main thread runs, which a training step (synchronous wasm) holds: queueing the whole window
   * lets the pool keep decoding through the step instead of idling after the few jobs it had.
   */
  concurrency?: number;
  /** The decoder (tests inject one); default decodeImage(file, spec). */
  decode?: (file: string, spec: ImageSpec) => Promise<Uint8Array>;
}

/** A counting semaphore: at most `limit` holders; waiters are served first come, first served. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  get inFlight(): number {
    return this.active;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter (active stays the same), else free it.
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Decodes a split's images on the fly from their files (raw HWC uint8 of `spec`, exactly what decodeImage gives),
 * so memory does not grow with the dataset. `prefetch(order)` tells it the order samples will be asked for (one
 * epoch); it then keeps up to `readAhead` samples ahead of the one being read decoding, at most `concurrency` at a
 * time, while the current batch trains. A `get` outside the hinted order decodes just that sample. Only decoded
 * pixels inside the read-ahead window are held. Holds no tensors.
 */
export class StreamingPixelStore implements PixelStore {
  private readonly readAhead: number;
  private readonly limiter: Limiter;
  private readonly decode: (file: string, spec: ImageSpec) => Promise<Uint8Array>;
  /** The hinted order, the position of the next expected `get`, and the started decodes by position. */
  private order: number[] = [];
  private pos = 0;
  private slots = new Map<number, Promise<Uint8Array>>();
  /** The highest position started so far (read-ahead fills up to pos + readAhead). */
  private started = 0;
  private peak = 0;

  constructor(
    private readonly files: string[],
    readonly spec: ImageSpec,
    opts: StreamingStoreOptions = {},
  ) {
    this.readAhead = Math.max(0, Math.floor(opts.readAhead ?? 96));
    const concurrency = opts.concurrency ?? Math.max(1, this.readAhead);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    this.limiter = new Limiter(concurrency);
    this.decode = opts.decode ?? ((file, spec) => decodeImage(file, spec));
  }

  get size(): number {
    return this.files.length;
  }

  /** The most decodes that were in flight at once so far (for tests and benchmarks). */
  get peakInFlight(): number {
    return this.peak;
  }

  /** Decodes in flight now. */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /** Samples decoded ahead and not yet read (started or finished). */
  get buffered(): number {
    return this.slots.size;
  }

  /** The order the next `get` calls will follow (indices may repeat); drops the read-ahead of an earlier order. */
  prefetch(indices: number[]): void {
    for (const i of indices) this.check(i);
    this.order = indices.slice();
    this.pos = 0;
    this.started = 0;
    this.slots = new Map();
    this.fill();
  }

  get(index: number): Promise<Uint8Array> {
    this.check(index);
    if (this.pos < this.order.length && this.order[this.pos] === index) {
      const at = this.pos++;
      if (this.started <= at) this.started = at + 1;
      const p = this.slots.get(at) ?? this.start(index);
      this.slots.delete(at);
      this.fill();
      return p;
    }
    return this.start(index);
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.files.length) {
      throw new RangeError(`sample index ${index} out of range [0, ${this.files.length})`);
    }
  }

  private start(index: number): Promise<Uint8Array> {
    const p = this.limiter.run(() => {
      this.peak = Math.max(this.peak, this.limiter.inFlight);
      return this.decode(this.files[index], this.spec);
    });
    // A read-ahead result may be dropped (new order) before anyone awaits it: don't let its rejection go unhandled.
    p.catch(() => undefined);
    return p;
  }

  /** Starts the decodes of positions [started, pos + readAhead) of the hinted order. */
  private fill(): void {
    const end = Math.min(this.order.length, this.pos + this.readAhead);
    for (; this.started < end; this.started++) {
      this.slots.set(this.started, this.start(this.order[this.started]));
    }
  }
}
