/** A request the batcher could not take: the queue is full (the server answers 503). */
export class QueueFullError extends Error {
  readonly statusCode = 503;
  constructor(readonly limit: number) {
    super(`server busy: ${limit} images already waiting; retry shortly`);
    this.name = 'QueueFullError';
  }
}

export interface MicroBatcherOptions<I, O> {
  /** Runs one batch; returns one output per input, in order. Never called concurrently with itself. */
  run(inputs: I[]): Promise<O[]>;
  /** Most inputs per `run` call. */
  maxBatch: number;
  /** How long the first input of a batch waits for company before the batch runs anyway (ms). */
  maxWaitMs: number;
  /** Most inputs waiting (not counting the batch running); beyond it `submit` rejects with QueueFullError. */
  maxQueue: number;
}

interface Pending<I, O> {
  input: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

/**
 * Gathers single inputs from concurrent callers into batches: a batch runs when `maxBatch` inputs are waiting, when
 * no caller is still preparing inputs (see `hold`), or `maxWaitMs` after the first one arrived, whichever is first. One batch runs at a time (the model is one shared
 * resource); inputs that arrive meanwhile form the next batch, which starts as soon as the running one ends. A
 * failing batch rejects only its own callers.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Callers that said inputs are on their way (`hold`) and have not submitted them yet. */
  private holds = 0;
  /** Counters for /health and the load bench. */
  readonly stats = { batches: 0, inputs: 0, maxBatchSeen: 0 };

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    if (!(options.maxBatch >= 1)) throw new Error('maxBatch must be at least 1');
  }

  /** Inputs waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether a batch is running now. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Says that inputs are on their way (a request is reading and decoding its images): while any hold is out, a
   * partial batch waits for them (up to `maxWaitMs`); once none is, it runs at once. So a lone request never
   * waits for company that isn't coming, and concurrent ones share a batch. Call the returned function (once)
   * after submitting, or on failure.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.queue.length > 0) this.schedule();
    };
  }

  /** Queues one input; resolves with its output. */
  submit(input: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the batcher is closed'));
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new QueueFullError(this.options.maxQueue));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Queues several inputs (one request's batch); they may be split across or share batches with others. */
  submitAll(inputs: I[]): Promise<O[]> {
    if (this.queue.length + inputs.length > this.options.maxQueue) return Promise.reject(new QueueFullError(this.options.maxQueue));
    return Promise.all(inputs.map((i) => this.submit(i)));
  }

  /** Stops taking inputs; resolves once everything queued has run. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && !this.running) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    }
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running) return; // the running batch's end picks the queue up
    if (this.queue.length >= this.options.maxBatch || this.holds === 0 || this.options.maxWaitMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.maxWaitMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        this.stats.batches++;
        this.stats.inputs += batch.length;
        this.stats.maxBatchSeen = Math.max(this.stats.maxBatchSeen, batch.length);
        try {
          const outputs = await this.options.run(batch.map((p) => p.input));
          if (outputs.length !== batch.length) throw new Error(`batch returned ${outputs.length} outputs for ${batch.length} inputs`);
          batch.forEach((p, i) => p.resolve(outputs[i]));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
        // Inputs that arrived while this batch ran go next, without waiting maxWaitMs again: they already waited.
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
