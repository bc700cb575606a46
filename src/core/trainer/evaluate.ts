import * as tf from '@tensorflow/tfjs';
import { computeMetrics, type MetricInput } from '../metrics/index.js';
import type { DataSplit, EpochLogs, TaskModule } from './types.js';

/** Every output row of a split, in iteration order, with the ids and integer targets that came with it. */
export interface SplitOutputs {
  ids: string[];
  /** [n × numOutputs] row-major probabilities. */
  probs: Float32Array;
  labels: Int32Array;
  /** Multi-label splits (batches with [b, k] targets): [n × numOutputs] 0/1 targets; `labels` is then all -1. */
  targets?: Uint8Array;
  /** Regression splits (module.targetKind 'values'): the [n] true values; `labels` is then all 0. */
  values?: Float32Array;
  /** Mean loss over the split (NaN when the split has no labels). */
  loss: number;
}

/** Runs the module over a split without training (BatchNorm and dropout in inference mode). */
export async function runSplit(module: TaskModule, split: DataSplit, batchSize: number, withLoss = true): Promise<SplitOutputs> {
  const k = module.numOutputs;
  const probs = new Float32Array(split.size * k);
  const labels = new Int32Array(split.size);
  let targets: Uint8Array | undefined;
  const values = module.targetKind === 'values' ? new Float32Array(split.size) : undefined;
  const ids: string[] = [];
  const net = module.trainingNetwork();
  let n = 0;
  let lossSum = 0;
  for await (const batch of split.batches({ batchSize, shuffle: false, deterministic: true })) {
    const [p, l] = tf.tidy(() => {
      const out = net.apply(batch.x, { training: false }) as tf.Tensor;
      const loss = withLoss ? tf.mul(module.loss(batch.y, out), batch.ids.length) : tf.scalar(NaN);
      return [module.activate(out), loss];
    });
    const [pv, lv, yv] = await Promise.all([p.data(), l.data(), batch.y.data()]);
    tf.dispose([p, l, batch.x, batch.y]);
    probs.set(pv as Float32Array, n * k);
    if (values) {
      // Regression: real targets, kept as they are (an Int32Array would truncate them).
      values.set(yv as Float32Array, n);
    } else if (batch.y.rank === 2) {
      // Multi-label targets: one 0/1 row per sample.
      targets ??= new Uint8Array(split.size * k);
      targets.set(yv, n * k);
      labels.fill(-1, n, n + batch.ids.length);
    } else {
      labels.set(yv as Int32Array, n);
    }
    ids.push(...batch.ids);
    n += batch.ids.length;
    lossSum += lv[0];
  }
  const out: SplitOutputs = { ids, probs: probs.subarray(0, n * k), labels: labels.subarray(0, n), loss: n > 0 ? lossSum / n : NaN };
  if (targets) out.targets = targets.subarray(0, n * k);
  if (values) out.values = values.subarray(0, n);
  return out;
}

/** What the metrics read of a split's outputs (multi-label targets and the module's threshold when there are). */
export function metricInput(module: Pick<TaskModule, 'numOutputs' | 'metricThreshold'>, out: SplitOutputs): MetricInput {
  const input: MetricInput = { probs: out.probs, labels: out.labels, numClasses: module.numOutputs };
  if (out.values) input.values = out.values;
  if (out.targets) {
    input.targets = out.targets;
    if (module.metricThreshold !== undefined) input.threshold = module.metricThreshold;
  }
  return input;
}

/** Loss and the module's metrics over a split, keyed with a prefix: `{ val_loss, val_accuracy, … }`. */
export async function evaluateSplit(module: TaskModule, split: DataSplit, batchSize: number, prefix: string): Promise<EpochLogs> {
  const out = await runSplit(module, split, batchSize);
  const values = computeMetrics(metricInput(module, out), module.metricNames);
  const logs: EpochLogs = { [`${prefix}_loss`]: out.loss };
  for (const [name, v] of Object.entries(values)) logs[`${prefix}_${name}`] = v;
  return logs;
}
