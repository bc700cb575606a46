import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { computeMetrics, type MetricInput } from '../../../src/core/metrics/index.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { metricInput, runSplit } from '../../../src/core/trainer/evaluate.js';
import type { Batch, DataSplit, TaskModule } from '../../../src/core/trainer/types.js';

const reg = (pred: number[], truth: number[]): MetricInput => ({
  probs: Float32Array.from(pred),
  labels: new Int32Array(pred.length),
  numClasses: 1,
  values: Float32Array.from(truth),
});

describe('regression metrics', () => {
  it('mse, rmse, mae and r2 match hand-computed values (scikit-learn conventions)', () => {
    // errors 1, -2, 0, 3 → mse 14/4, mae 6/4; truth mean 2.5, SS_tot = 2.25+0.25+0.25+2.25 = 5 → r2 = 1 - 14/5
    const m = computeMetrics(reg([2, 0, 3, 7], [1, 2, 3, 4]), ['mse', 'rmse', 'mae', 'r2']);
    assert.ok(Math.abs(m.mse - 3.5) < 1e-6);
    assert.ok(Math.abs(m.rmse - Math.sqrt(3.5)) < 1e-6);
    assert.ok(Math.abs(m.mae - 1.5) < 1e-6);
    assert.ok(Math.abs(m.r2 - (1 - 14 / 5)) < 1e-6);
  });
  it('r2 is 1 for a perfect fit, NaN for one sample; a classification input is a user error naming the metric', () => {
    assert.equal(computeMetrics(reg([1, 2, 3], [1, 2, 3]), ['r2']).r2, 1);
    assert.ok(Number.isNaN(computeMetrics(reg([1], [2]), ['r2']).r2));
    const cls: MetricInput = { probs: Float32Array.from([0.2, 0.8]), labels: Int32Array.from([1]), numClasses: 2 };
    assert.throws(() => computeMetrics(cls, ['rmse']), (e: unknown) => e instanceof FlashUserError && /'rmse' is for regression/.test(e.message));
  });
  it("runSplit keeps a 'values' module's real targets, and metricInput hands them to the metrics", async () => {
    const truth = [1.5, -2.25, 3.75];
    const split: DataSplit = {
      size: 3,
      async *batches(): AsyncIterable<Batch> {
        yield { x: tf.tensor2d(truth.map((t) => [t])), y: tf.tensor1d(truth, 'float32'), ids: ['0', '1', '2'] };
      },
    };
    const identity = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'ones' })] });
    const module = {
      targetKind: 'values',
      numOutputs: 1,
      metricNames: ['rmse'],
      trainingNetwork: () => identity,
      loss: (y: tf.Tensor, out: tf.Tensor) => tf.losses.meanSquaredError(y, tf.reshape(out, [-1])) as tf.Scalar,
      activate: (out: tf.Tensor) => tf.reshape(out, [-1]),
    } as unknown as TaskModule;
    const before = tf.memory().numTensors;
    const out = await runSplit(module, split, 3);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual([...out.values!], truth);
    assert.equal(out.loss, 0);
    assert.equal(computeMetrics(metricInput(module, out), ['rmse']).rmse, 0);
    identity.dispose();
  });
});
