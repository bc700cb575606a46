import * as tf from '@tensorflow/tfjs';
import type { Batch, BatchOptions, DataSplit } from '../trainer/types.js';
import { mulberry32 as prng } from '../random.js';

export interface FeatureCacheOptions {
  /** Maps an input batch to backbone features [b, F] (inference mode); the cache owns the result. */
  features(x: tf.Tensor): tf.Tensor;
  /** Whether the cache may be used now (backbone frozen in the current phase, no random transforms). */
  active(): boolean;
  /** Told once per build: how many samples were encoded. */
  onBuild?(samples: number, features: number): void;
}

/**
 * A training split that, while `active()`, yields backbone features instead of inputs: the first epoch that
 * needs them runs every training sample through the frozen backbone once (read deterministically), and later epochs
 * shuffle and batch the stored [N, F] features, so only the head runs per step. While inactive (a phase that
 * trains the backbone) it passes the input batches through, and the stored features are dropped, since the
 * backbone they came from is changing.
 */
export class FeatureCacheSplit implements DataSplit {
  private feats?: Float32Array;
  private labels?: Int32Array | Float32Array;
  /** Targets per sample: 1 for class indices, k for multi-label 0/1 rows (kept as float32, their batch dtype). */
  private yWidth = 1;
  private ids?: string[];
  private width = 0;

  constructor(readonly source: DataSplit, private readonly options: FeatureCacheOptions) {}

  get size(): number {
    return this.source.size;
  }

  /** True once features are stored. */
  get built(): boolean {
    return this.feats !== undefined;
  }

  invalidate(): void {
    this.feats = undefined;
    this.labels = undefined;
    this.ids = undefined;
  }

  private async build(batchSize: number): Promise<void> {
    const rows: Float32Array[] = [];
    const labels: number[] = [];
    let multi = false;
    const ids: string[] = [];
    for await (const batch of this.source.batches({ batchSize, shuffle: false, deterministic: true })) {
      const f = this.options.features(batch.x);
      this.width = f.shape[1] as number;
      rows.push((await f.data()) as Float32Array);
      multi = batch.y.rank === 2;
      this.yWidth = multi ? (batch.y.shape[1] as number) : 1;
      labels.push(...((await batch.y.data()) as Int32Array | Float32Array));
      ids.push(...batch.ids);
      tf.dispose([f, batch.x, batch.y]);
    }
    const feats = new Float32Array(ids.length * this.width);
    let offset = 0;
    for (const r of rows) {
      feats.set(r, offset);
      offset += r.length;
    }
    this.feats = feats;
    this.labels = multi ? Float32Array.from(labels) : Int32Array.from(labels);
    this.ids = ids;
    this.options.onBuild?.(ids.length, this.width);
  }

  async *batches(options: BatchOptions): AsyncIterable<Batch> {
    if (!this.options.active()) {
      this.invalidate();
      yield* this.source.batches(options);
      return;
    }
    if (!this.feats) await this.build(options.batchSize);
    const feats = this.feats as Float32Array;
    const labels = this.labels as Int32Array | Float32Array;
    const yw = this.yWidth;
    const ids = this.ids as string[];
    const n = ids.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (options.shuffle) {
      const rand = prng(((options.seed ?? 0) * 1_000_003 + (options.epoch ?? 0) * 7919 + 17) >>> 0);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    const w = this.width;
    for (let start = 0; start < n; start += options.batchSize) {
      const idx = order.slice(start, start + options.batchSize);
      const x = new Float32Array(idx.length * w);
      idx.forEach((i, k) => x.set(feats.subarray(i * w, (i + 1) * w), k * w));
      yield {
        x: tf.tensor2d(x, [idx.length, w]),
        y:
          labels instanceof Float32Array
            ? tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(labels.subarray(i * yw, (i + 1) * yw)))), [idx.length, yw], 'float32')
            : tf.tensor1d(idx.map((i) => labels[i]), 'int32'),
        ids: idx.map((i) => ids[i]),
      };
    }
  }
}
