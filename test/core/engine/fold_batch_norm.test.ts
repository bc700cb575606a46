import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { foldBatchNorm } from '../../../src/core/engine/index.js';
import { mobilenetV2 } from '../../../backbones/mobilenet_v2.js';
import { buildResNet } from '../../../backbones/resnet.js';
import { assertClose, random, setup } from './helpers.js';

before(setup);

function countLayers(model: tf.LayersModel, className: string): number {
  let n = 0;
  for (const l of model.layers) n += l instanceof tf.LayersModel ? countLayers(l, className) : l.getClassName() === className ? 1 : 0;
  return n;
}

/** A classifier around `backbone`, with non-trivial BatchNorm statistics and parameters. */
function classifier(backbone: tf.LayersModel, inputShape: number[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(backbone.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  let seed = 50;
  const visit = (m: tf.LayersModel) => {
    for (const l of m.layers) {
      if (l instanceof tf.LayersModel) { visit(l); continue; }
      if (l.getClassName() !== 'BatchNormalization') continue;
      l.setWeights(l.getWeights().map((w, i) => {
        const v = random(w.size, seed++);
        return tf.tensor(i === 3 ? v.map((x) => 0.5 + Math.abs(x)) : v.map((x) => (i === 0 ? 1 + 0.5 * x : x)), w.shape);
      }));
    }
  };
  visit(model);
  return model;
}

describe('foldBatchNorm', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`folds every Conv→BatchNorm of MobileNetV2 and ResNet and predicts the same (${backend})`, async () => {
      await tf.setBackend(backend);
      for (const [name, backbone, size] of [
        ['mobilenet_v2 α=0.35', mobilenetV2(0.35).build({ inputShape: [32, 32, 3] }), 32],
        ['resnet basic', buildResNet([1, 1, 1, 1], 'basic', { inputShape: [32, 32, 3] }, 8), 32],
        ['resnet bottleneck', buildResNet([1, 1], 'bottleneck', { inputShape: [32, 32, 3] }, 4), 32],
      ] as const) {
        const model = classifier(backbone, [size, size, 3]);
        const folded = foldBatchNorm(model);
        assert.ok(countLayers(model, 'BatchNormalization') > 0);
        assert.equal(countLayers(folded, 'BatchNormalization'), 0, `${name}: BatchNormalization left after folding`);
        const x = tf.tensor4d(random(2 * size * size * 3, 9), [2, size, size, 3]);
        const want = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
        const got = (folded.predict(x) as tf.Tensor).dataSync() as Float32Array;
        assertClose(got, want, 1e-4, `${name} folded predictions`);
        x.dispose();
      }
    });
  }

  it('returns a model without BatchNorm unchanged', () => {
    const input = tf.input({ shape: [4] });
    const m = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    assert.equal(foldBatchNorm(m), m);
  });
});
