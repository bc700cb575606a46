import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { backbones } from '../../backbones/index.js';
import { emptyOutputLayer, minImageSize, withInputSizeCheck } from '../../backbones/min_size.js';
import type { BackboneSpec } from '../../backbones/types.js';

before(async () => {
  await selectBackend('wasm');
});

/** conv 5×5 valid → pool 3 stride 3: the smallest side is 7 (7 → 3 → 1); 6 → 2 → 0. */
const valid: BackboneSpec = {
  description: 'test',
  defaultImageSize: 16,
  normalization: { mean: [0], std: [1] },
  build({ inputShape, name = 'backbone' }) {
    const input = tf.input({ shape: inputShape });
    let x = tf.layers.conv2d({ filters: 2, kernelSize: 5, padding: 'valid' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 3 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: x, name });
  },
};

test('minImageSize finds the smallest side whose every layer output is non-empty, without leaking tensors', () => {
  const before = tf.memory().numTensors;
  assert.equal(minImageSize('valid', valid, 1), 7);
  assert.equal(minImageSize('simple_cnn', backbones.get('simple_cnn'), 3), 4);
  assert.equal(tf.memory().numTensors, before);
});

test('a registered backbone refuses a size it cannot take with the smallest it accepts; sizes it takes build', () => {
  const before = tf.memory().numTensors;
  for (const side of [1, 2, 3]) {
    assert.throws(
      () => backbones.get('simple_cnn').build({ inputShape: [side, side, 3] }),
      (err: unknown) => err instanceof FlashUserError && err.message.includes(`cannot take ${side}×${side} images`) && /smallest size it accepts is 4×4/.test(err.message),
    );
  }
  assert.equal(tf.memory().numTensors, before, 'refused builds free their weights');
  const ok = backbones.get('simple_cnn').build({ inputShape: [4, 4, 3] });
  assert.equal(emptyOutputLayer(ok), undefined);
  assert.deepEqual(ok.outputs[0].shape, [null, 64]);
  ok.dispose();
  const checked = withInputSizeCheck('valid', valid);
  assert.throws(() => checked.build({ inputShape: [6, 9, 1] }), /layer 'max_pooling2d_\w+' would output \[batch, 0, 1, 2\]\); the smallest size it accepts is 7×7/);
  checked.build({ inputShape: [7, 7, 1] }).dispose();
});
