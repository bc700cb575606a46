import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataParallelTrainer } from '../../../src/core/engine/data_parallel.js';
import { simpleCnn } from '../../../backbones/simple_cnn.js';
import { assertClose, random, setup } from './helpers.js';

before(setup);

describe('data-parallel training over worker_threads', () => {
  let trainer: DataParallelTrainer | undefined;
  after(async () => { await trainer?.dispose(); });

  it('averages shard gradients to the full-batch gradient (2 threads, odd batch, no BatchNorm)', async () => {
    await tf.setBackend('wasm');
    const input = tf.input({ shape: [12, 12, 1] });
    const features = simpleCnn.build({ inputShape: [12, 12, 1] }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(features) as tf.SymbolicTensor });
    trainer = await DataParallelTrainer.create(model, { threads: 2 });
    assert.equal(trainer.threads, 2);
    const batch = 7;
    const x = tf.tensor4d(random(batch * 144, 3), [batch, 12, 12, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0], 'int32'), 3).toFloat();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const single = tf.variableGrads(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, vars);
    const parallel = await trainer.computeGradients(x, y);
    assert.ok(Math.abs(parallel.loss - single.value.dataSync()[0]) < 1e-5, `loss ${parallel.loss} vs ${single.value.dataSync()[0]}`);
    for (const v of vars) assertClose(parallel.grads[v.name].dataSync() as Float32Array, single.grads[v.name].dataSync() as Float32Array, 1e-4, v.name);
    // A full step moves the weights the same way as a single-threaded step would.
    const before = vars.map((v) => v.dataSync().slice());
    const opt = tf.train.sgd(0.1);
    await trainer.trainStep(opt, x, y);
    vars.forEach((v, i) => {
      const expected = Float32Array.from(before[i], (w, j) => w - 0.1 * (single.grads[v.name].dataSync()[j]));
      assertClose(v.dataSync() as Float32Array, expected, 1e-4, `${v.name} after step`);
    });
    tf.dispose([x, y, single.value, ...Object.values(single.grads), ...Object.values(parallel.grads)]);
  });
});
