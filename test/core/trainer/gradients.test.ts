import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { gradientsFreeingEarly } from '../../../src/core/trainer/gradients.js';

before(async () => {
  await selectBackend('wasm');
});

/** A conv net with BatchNorm, a residual add, a shared layer used twice and a frozen layer: a rich tape. */
function network(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  const shared = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) });
  const y = shared.apply(tf.layers.reLU().apply(shared.apply(x)) as tf.SymbolicTensor) as tf.SymbolicTensor;
  x = tf.layers.add().apply([x, y]) as tf.SymbolicTensor;
  const frozen = tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), trainable: false });
  x = frozen.apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

test('gradientsFreeingEarly gives tfjs\'s gradients bit for bit, leaves no tensor behind and peaks lower', async () => {
  const net = network();
  const x = tf.randomUniform([8, 16, 16, 3], -1, 1, 'float32', 5);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  const f = () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const stock = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, vars);
    return [value, ...vars.map((v) => grads[v.name])];
  });
  const lean = () => tf.tidy(() => {
    const { value, grads } = gradientsFreeingEarly(f, vars);
    return [value, ...grads.map((g) => g as tf.Tensor)];
  });
  const want = stock(), got = lean();
  assert.equal(got.length, want.length);
  got.forEach((t, i) => assert.deepEqual(t.dataSync(), want[i].dataSync(), `output ${i} (${i === 0 ? 'loss' : vars[i - 1].name})`));
  tf.dispose([...want, ...got]);

  const start = tf.memory().numTensors;
  const peak = async (fn: () => tf.Tensor[]) => (await tf.profile(() => tf.dispose(fn()))).peakBytes;
  const [stockPeak, leanPeak] = [await peak(stock), await peak(lean)];
  assert.equal(tf.memory().numTensors, start, 'no tensor left behind');
  assert.ok(leanPeak < stockPeak * 0.9, `peak bytes: lean ${leanPeak}, stock ${stockPeak}`);
  tf.dispose([x, labels]);
  net.dispose();
});

test('gradientsFreeingEarly: null for a variable the value does not reach; errors name the op', () => {
  const a = tf.variable(tf.scalar(2), true, 'gfe_a');
  const b = tf.variable(tf.scalar(3), true, 'gfe_b');
  tf.tidy(() => {
    const { value, grads } = gradientsFreeingEarly(() => tf.mul(a, a) as tf.Scalar, [a, b]);
    assert.equal(value.dataSync()[0], 4);
    assert.equal(grads[0]!.dataSync()[0], 4);
    assert.equal(grads[1], null);
  });
  tf.dispose([a, b]);
});
