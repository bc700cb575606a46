/** backbones/cut.ts: a backbone truncated at an earlier layer, its feature map pooled four ways. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { backbones } from '../../backbones/index.js';
import { cutBackbone } from '../../backbones/cut.js';
import { FlashUserError } from '../../src/core/errors.js';
import { ImageClassifier } from '../../tasks/image_classification/model.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('cutBackbone', () => {
  it("cuts resnet18 at 32 px after its second stage: 4×4×128, pooled avg/max/avgmax or flattened; the layers are the full model's", () => {
    const full = backbones.get('resnet18').build({ inputShape: [32, 32, 3], name: 'backbone' });
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 7);
    const map = tf.model({ inputs: full.inputs, outputs: full.getLayer('conv3_block2_out').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const expected = { avg: map.mean([1, 2]), max: map.max([1, 2]), avgmax: tf.concat([map.mean([1, 2]), map.max([1, 2])], 1), flatten: map.reshape([2, -1]) };
    for (const [pooling, want] of Object.entries(expected)) {
      const cut = cutBackbone(full, 'conv3_block2_out', pooling as keyof typeof expected);
      assert.deepEqual(cut.cutShape, [4, 4, 128]);
      assert.equal(cut.numFeatures, want.shape[1], pooling);
      assert.equal(cut.model.name, 'backbone');
      const got = cut.model.predict(x) as tf.Tensor;
      assert.deepEqual(got.shape, want.shape);
      assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] < 1e-5, `${pooling} features = the map pooled by hand`);
      // Shared layers, so loading weights into the full backbone (pretrained) or training the cut one is the same thing.
      assert.equal(cut.model.getLayer('conv2_block1_1_conv'), full.getLayer('conv2_block1_1_conv'));
      assert.ok(!cut.model.layers.some((l) => l.name.startsWith('conv4_') || l.name.startsWith('conv5_')), 'the later stages are gone');
      assert.ok(cut.dropped.some((l) => l.name === 'conv5_block2_2_conv') && !cut.dropped.some((l) => l.name.startsWith('conv3_')));
    }
  });

  it('a vector output is taken as it is; unknown layers get a did-you-mean, and a layer with the wrong rank a clear error', () => {
    const full = backbones.get('simple_cnn').build({ inputShape: [16, 16, 1], name: 'backbone' });
    const same = cutBackbone(full, 'flatten', 'max');
    assert.equal(same.numFeatures, 4 * 4 * 64);
    assert.deepEqual(same.dropped, []);
    assert.throws(() => cutBackbone(full, 'conv_2'), (e: Error) => e instanceof FlashUserError && /model.cut: the backbone has no layer 'conv_2' \(did you mean 'conv2'\?\); it has 6 layers/.test(e.message));
    const input = tf.input({ shape: [8] });
    const seq = tf.layers.reshape({ targetShape: [2, 4], name: 'seq' }).apply(input) as tf.SymbolicTensor;
    const odd = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(seq) as tf.SymbolicTensor });
    assert.throws(() => cutBackbone(odd, 'seq'), /layer 'seq' outputs shape \[2, 4\]; cut at a layer with an \[h, w, c\] feature map or a feature vector/);
  });

  it('a classifier whose cut is refused frees the backbone it built; one with a cut keeps only the layers up to it', () => {
    const spec = { height: 16, width: 16, channels: 1 as const };
    const before = tf.memory().numTensors;
    assert.throws(() => new ImageClassifier({ backbone: 'simple_cnn', cut: 'nope', numClasses: 2 }).build(spec), /no layer 'nope'/);
    assert.equal(tf.memory().numTensors, before, 'no weights left behind');
    const clf = new ImageClassifier({ backbone: 'simple_cnn', cut: 'pool1', pooling: 'avg', numClasses: 2 });
    clf.build(spec);
    assert.deepEqual(clf.cutInfo, { layer: 'pool1', shape: [8, 8, 32], pooling: 'avg', numFeatures: 32 });
    assert.deepEqual(clf.backbone().layers.map((l) => l.name), ['backbone_input', 'conv1', 'pool1', 'cut_avg_avg']);
    clf.network().dispose();
  });
});
