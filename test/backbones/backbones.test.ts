/**
 * Every registered backbone: builds at 32 px and at its default size with the right output shape, has layer
 * groups covering every layer with weights, and one training step at 32 px lowers the loss.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { backbones, backboneSummary, layerGroupsOf, LISTED_WEIGHTS } from '../../backbones/index.js';
import { selectBackend } from '../../src/core/backend.js';

before(async () => {
  await selectBackend('wasm');
});

/** Output features: 128 for simple_cnn, else the last conv's channels. */
const EXPECTED_FEATURES: Record<string, number> = {
  mobilenet_v2_035: 1280, mobilenet_v2_050: 1280, mobilenet_v2_075: 1280, mobilenet_v2_100: 1280,
  resnet18: 512, resnet34: 512, resnet50: 2048,
  efficientnet_lite0: 1280,
};

/** Feature size at s px: globally pooled families have a fixed width; simple_cnn flattens its 64 × s/4 × s/4 conv map (its dense 128 is in the head). */
const featuresAt = (name: string, s: number): number => (name === 'simple_cnn' ? 64 * (s / 4) * (s / 4) : EXPECTED_FEATURES[name]);

describe('registered backbones', () => {
  for (const { name, item: spec } of backbones.list()) {
    it(`${name}: shapes at 32 px and ${spec.defaultImageSize} px, layer groups, one step lowers the loss`, async () => {
      const small = spec.build({ inputShape: [32, 32, 3] });
      assert.deepEqual(small.outputs[0].shape, [null, featuresAt(name, 32)]);
      const groups = layerGroupsOf(spec, small);
      // simple_cnn has two conv blocks; the deep families have at least three stages.
      assert.ok(groups.length >= (name === 'simple_cnn' ? 2 : 3), `${name}: ${groups.length} groups`);
      const grouped = new Set(groups.flatMap((g) => g.layers));
      for (const l of small.layers) if (l.weights.length > 0) assert.ok(grouped.has(l), `${name}: layer ${l.name} is in a group`);

      // One small gradient step on a fixed batch (BatchNorm on its moving statistics: at 32 px the deep nets' last stages are 1×1, where batch statistics of 4 images make the loss chaotic) lowers that batch's loss.
      const head = tf.layers.dense({ units: 3 });
      const x = tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', 1);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
      const lossOf = () => tf.losses.softmaxCrossEntropy(y, head.apply(small.apply(x, { training: false }) as tf.Tensor) as tf.Tensor) as tf.Scalar;
      const opt = tf.train.sgd(1e-2);
      const first = tf.tidy(() => opt.minimize(lossOf, true) as tf.Scalar);
      const second = tf.tidy(lossOf);
      const [a, b] = [first.dataSync()[0], second.dataSync()[0]];
      assert.ok(b < a, `${name}: loss ${a} → ${b}`);
      tf.dispose([x, y, first, second]);
      opt.dispose();
      small.dispose();

      if (spec.defaultImageSize !== 32) {
        const s = spec.defaultImageSize;
        const full = spec.build({ inputShape: [s, s, 3] });
        const out = tf.tidy(() => full.predict(tf.zeros([1, s, s, 3])) as tf.Tensor);
        assert.deepEqual(out.shape, [1, featuresAt(name, s)]);
        out.dispose();
        full.dispose();
      }
    });
  }
});

describe('flash list backbones', () => {
  it('says the registered MobileNetV2 ImageNet weights are unverified, and how to go on', () => {
    for (const name of ['mobilenet_v2_035', 'mobilenet_v2_050', 'mobilenet_v2_075', 'mobilenet_v2_100']) {
      const line = backboneSummary(name, backbones.get(name));
      assert.match(line, /pretrained: Keras ImageNet weights via Teachable Machine \(224 px, inputs in \[-1, 1\]\), unverified \(.*no sha256.*layer names.*\); .*--model\.pretrained <path>$/, line);
    }
    assert.match(backboneSummary('resnet18', backbones.get('resnet18')), /pretrained: none published/);
  });

  it('lists the weight count each backbone really has at its default size (3 channels; simple_cnn 1)', () => {
    for (const { name, item: spec } of backbones.list()) {
      const s = spec.defaultImageSize;
      const model = spec.build({ inputShape: [s, s, name === 'simple_cnn' ? 1 : 3] });
      assert.equal(model.countParams(), LISTED_WEIGHTS[name], name);
      model.dispose();
    }
  });
});
