import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsUserError, writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../trainer/types.js';

/** One line of `metrics.jsonl`. */
export interface JsonlEvent {
  /** What was logged: a metric value, a hyperparameter, an image or artifact (value = its path), or the final status. */
  kind: 'metric' | 'hparam' | 'image' | 'artifact' | 'status';
  /** Global step (the epoch unless the caller gives a finer step). */
  step: number | null;
  epoch: number | null;
  name: string;
  value: number | string | boolean | null;
  /** ISO 8601 time the line was written. */
  time: string;
}

/** Flattens nested objects into dotted keys: `{ trainer: { max_epochs: 3 } }` → `{ 'trainer.max_epochs': 3 }`. */
export function flattenParams(params: Record<string, unknown>, prefix = ''): Record<string, number | string | boolean | null> {
  const out: Record<string, number | string | boolean | null> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    else if (v === null || v === undefined) out[key] = null;
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else out[key] = JSON.stringify(v);
  }
  return out;
}

/**
 * Appends one JSON object a line to `metrics.jsonl` in the run folder: every metric of every epoch
 * (`{"kind":"metric","step":3,"epoch":3,"name":"val_loss","value":0.41,"time":"…"}`), the hyperparameters (one
 * line per dotted key), images (saved under `images/`, the line holds the path) and the final status. Appending
 * keeps the file readable while the run goes on (`tail -f`, `jq`), and a resumed run continues the same file.
 */
export class JsonlLogger implements Logger {
  readonly name = 'jsonl';
  readonly path: string;
  private epoch: number | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    filename = 'metrics.jsonl',
  ) {
    this.path = join(dir, filename);
  }

  private write(events: Omit<JsonlEvent, 'time'>[]): Promise<void> {
    if (events.length === 0) return this.queue;
    const time = new Date().toISOString();
    const text = events.map((e) => JSON.stringify({ ...e, time })).join('\n') + '\n';
    this.queue = this.queue.then(async () => {
      try {
        await mkdir(this.dir, { recursive: true });
        await appendFile(this.path, text);
      } catch (err) {
        throw fsUserError(err, this.path, 'write');
      }
    });
    return this.queue;
  }

  logHyperparams(params: Record<string, unknown>): Promise<void> {
    const flat = flattenParams(params);
    return this.write(Object.entries(flat).map(([name, value]) => ({ kind: 'hparam', step: null, epoch: null, name, value })));
  }

  logMetrics(metrics: Record<string, number>, step: { epoch: number; step?: number }): Promise<void> {
    this.epoch = step.epoch;
    const s = step.step ?? step.epoch;
    return this.write(
      Object.entries(metrics)
        .filter(([name]) => name !== 'epoch')
        .map(([name, value]) => ({ kind: 'metric', step: s, epoch: step.epoch, name, value: Number.isFinite(value) ? value : null })),
    );
  }

  /** Per-batch scalars at a global step (see `StepMetricsCallback`). */
  logStep(metrics: Record<string, number>, step: number, epoch?: number): Promise<void> {
    return this.write(
      Object.entries(metrics).map(([name, value]) => ({ kind: 'metric', step, epoch: epoch ?? null, name, value: Number.isFinite(value) ? value : null })),
    );
  }

  async logImage(name: string, png: Buffer, step: number): Promise<void> {
    const rel = `images/${name.replace(/[^\w.-]+/g, '_')}-${step}.png`;
    await writeFileAtomic(join(this.dir, rel), png);
    await this.write([{ kind: 'image', step, epoch: this.epoch, name, value: rel }]);
  }

  logArtifact(name: string, path: string): Promise<void> {
    return this.write([{ kind: 'artifact', step: null, epoch: this.epoch, name, value: path }]);
  }

  finalize(status: 'success' | 'interrupted' | 'failed'): Promise<void> {
    return this.write([{ kind: 'status', step: null, epoch: this.epoch, name: 'status', value: status }]);
  }
}

/** Reads `metrics.jsonl` back (skips a torn last line). */
export function parseJsonl(text: string): JsonlEvent[] {
  const out: JsonlEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JsonlEvent);
    } catch {
      // a line cut short by a crash; the rest is still good
    }
  }
  return out;
}
