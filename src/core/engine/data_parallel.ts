/**
 * Data-parallel training over worker_threads: each step splits the batch into `threads` shards, the main
 * thread and `threads - 1` workers (each with its own tfjs wasm backend and a replica of the model) compute
 * the gradient of the mean loss on their shard at the same time, and the shard gradients are averaged with
 * weights shardSize / batchSize — the full-batch gradient, up to float rounding — before one optimizer step
 * on the main thread. Weights go to the workers at every step (≈ 4 bytes × parameters each way).
 *
 * Exact for networks without BatchNorm. With BatchNorm in training mode each shard normalises with its own
 * batch statistics ("ghost batch norm"), as multi-GPU training without SyncBatchNorm does, so results match
 * single-threaded training only approximately; BatchNorm moving averages come from the main thread's shard.
 *
 * The loss is categorical cross-entropy on the model's probabilities (one-hot labels).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface DataParallelOptions {
  /** Shards per step (main thread included). Default: all cores. */
  threads?: number;
}

interface Pending { resolve: (v: { loss: number; grads: Float32Array[] }) => void; reject: (e: Error) => void }

function workerUrl(): URL {
  const js = new URL('./dp_worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./dp_worker.ts', import.meta.url);
}

export class DataParallelTrainer {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<Worker, Pending>();

  private constructor(private readonly model: tf.LayersModel, threads: number) {
    this.threads = threads;
  }

  /** Starts `threads - 1` workers holding replicas of `model` (built from its JSON topology and weights). */
  static async create(model: tf.LayersModel, options: DataParallelOptions = {}): Promise<DataParallelTrainer> {
    const threads = Math.max(1, Math.floor(options.threads ?? cpus().length));
    const trainer = new DataParallelTrainer(model, threads);
    const topology = model.toJSON(null, false) as object;
    const weights = model.getWeights();
    const values = weights.map((w) => w.dataSync() as Float32Array);
    const shapes = weights.map((w) => w.shape);
    await Promise.all(Array.from({ length: threads - 1 }, async () => {
      const url = workerUrl();
      // From sources (under tsx) the worker registers tsx's loader before importing the .ts worker.
      const worker = url.pathname.endsWith('.ts')
        ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true })
        : new Worker(url);
      trainer.workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        const onMessage = (msg: { type: string; message?: string }) => {
          worker.off('message', onMessage);
          if (msg.type === 'ready') resolve(); else reject(new Error(`data-parallel worker failed to start: ${msg.message}`));
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ type: 'init', topology, weights: values, shapes, backend: tf.getBackend() });
      });
      worker.on('message', (msg: { type: string; loss?: number; grads?: Float32Array[]; message?: string }) => {
        const p = trainer.pending.get(worker);
        if (!p) return;
        trainer.pending.delete(worker);
        if (msg.type === 'grads') p.resolve({ loss: msg.loss!, grads: msg.grads! });
        else p.reject(new Error(`data-parallel worker: ${msg.message}`));
      });
      worker.on('error', (e) => trainer.pending.get(worker)?.reject(e));
    }));
    return trainer;
  }

  /**
   * Mean loss over the batch and its gradient for every trainable weight (keyed by variable name), computed
   * across all threads. `x` is the input batch, `y` one-hot labels. The caller owns the returned tensors.
   */
  async computeGradients(x: tf.Tensor, y: tf.Tensor): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
    const n = x.shape[0];
    const shards = Math.min(this.threads, n);
    const bounds = Array.from({ length: shards + 1 }, (_, i) => Math.round((i * n) / shards));
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainable = shards > 1 ? vars.map((v) => v.dataSync() as Float32Array) : [];
    const xv = shards > 1 ? (x.dataSync() as Float32Array) : undefined;
    const yv = shards > 1 ? (y.dataSync() as Float32Array) : undefined;
    const rowX = x.size / n, rowY = y.size / n;
    const remote = this.workers.slice(0, shards - 1).map((worker, i) => {
      const [b0, b1] = [bounds[i + 1], bounds[i + 2]];
      return new Promise<{ loss: number; grads: Float32Array[] }>((resolve, reject) => {
        this.pending.set(worker, { resolve, reject });
        worker.postMessage({
          type: 'step', trainable,
          x: xv!.slice(b0 * rowX, b1 * rowX), xShape: [b1 - b0, ...x.shape.slice(1)],
          y: yv!.slice(b0 * rowY, b1 * rowY), yShape: [b1 - b0, ...y.shape.slice(1)],
        });
      });
    });
    // The main thread's shard, computed while the workers compute theirs.
    const n0 = bounds[1];
    const local = tf.tidy(() => {
      const xs = x.slice(0, n0), ys = y.slice(0, n0);
      const { value, grads } = tf.variableGrads(
        () => tf.metrics.categoricalCrossentropy(ys, this.model.apply(xs, { training: true }) as tf.Tensor).mean() as tf.Scalar, vars);
      return { value, grads };
    });
    const results = await Promise.all(remote);
    const out: tf.NamedTensorMap = {};
    let loss = local.value.dataSync()[0] * (n0 / n);
    results.forEach((r, i) => { loss += r.loss * ((bounds[i + 2] - bounds[i + 1]) / n); });
    tf.tidy(() => {
      vars.forEach((v, k) => {
        let g = local.grads[v.name].mul(n0 / n);
        results.forEach((r, i) => { g = g.add(tf.tensor(r.grads[k], v.shape).mul((bounds[i + 2] - bounds[i + 1]) / n)); });
        out[v.name] = tf.keep(g);
      });
    });
    tf.dispose([local.value, ...Object.values(local.grads)]);
    return { loss, grads: out };
  }

  /** One optimizer step on the full batch; returns the mean loss. */
  async trainStep(optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): Promise<number> {
    const { loss, grads } = await this.computeGradients(x, y);
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return loss;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
