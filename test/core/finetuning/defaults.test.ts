/**
 * finetuneDefaults: a pretrained or saved backbone frozen for the whole run gets train_bn false and, with adam,
 * the measured head learning rate; every other run keeps Lightning's train_bn true and the optimizer's default;
 * a value the user set always wins, and the line says only what applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finetuneDefaults, FROZEN_HEAD_LEARNING_RATE, type FinetuneDefaultsInput } from '../../../src/core/finetuning/index.js';

const unset: FinetuneDefaultsInput = { trainedBackbone: true, frozenThroughout: true, trainBn: null, learningRate: null, optimizer: 'adam', learningRateSettable: true };

describe('finetuneDefaults', () => {
  it('a trained backbone frozen throughout, nothing set: train_bn false and the measured rate, said in one line', () => {
    const d = finetuneDefaults(unset);
    assert.equal(d.trainBn, false);
    assert.equal(d.learningRate, FROZEN_HEAD_LEARNING_RATE);
    assert.ok(d.line);
    assert.equal(d.line.split('\n').length, 1);
    assert.match(d.line, /^defaults for a frozen pretrained or saved backbone: finetune\.train_bn false \(BatchNorm in inference mode/);
    assert.match(d.line, new RegExp(`model\\.learning_rate ${FROZEN_HEAD_LEARNING_RATE} `));
    assert.match(d.line, /to choose otherwise set --finetune\.train_bn true \(Lightning's default\) or --model\.learning_rate <rate>$/);
  });

  it('only in that situation: scratch, or a backbone that unfreezes, keeps train_bn true and the optimizer default', () => {
    for (const other of [{ trainedBackbone: false }, { frozenThroughout: false }, { trainedBackbone: false, frozenThroughout: false }]) {
      const d = finetuneDefaults({ ...unset, ...other });
      assert.deepEqual(d, { trainBn: true, learningRate: null }, JSON.stringify(other));
    }
  });

  it('an explicit value always wins, and the line names only the default that applied', () => {
    assert.deepEqual(finetuneDefaults({ ...unset, trainBn: true, learningRate: 0.01 }), { trainBn: true, learningRate: 0.01 });
    const lrOnly = finetuneDefaults({ ...unset, trainBn: true });
    assert.equal(lrOnly.trainBn, true);
    assert.equal(lrOnly.learningRate, FROZEN_HEAD_LEARNING_RATE);
    assert.doesNotMatch(lrOnly.line ?? '', /train_bn/);
    const bnOnly = finetuneDefaults({ ...unset, learningRate: 0.0005 });
    assert.equal(bnOnly.trainBn, false);
    assert.equal(bnOnly.learningRate, 0.0005);
    assert.doesNotMatch(bnOnly.line ?? '', /learning_rate/);
    // An explicit train_bn false on a scratch backbone is kept too.
    assert.equal(finetuneDefaults({ ...unset, trainedBackbone: false, trainBn: false }).trainBn, false);
  });

  it('the rate was measured with adam: other optimizers, or a module that cannot take it, keep their own', () => {
    for (const other of [{ optimizer: 'sgd' }, { learningRateSettable: false }]) {
      const d = finetuneDefaults({ ...unset, ...other });
      assert.equal(d.learningRate, null);
      assert.equal(d.trainBn, false);
      assert.doesNotMatch(d.line ?? '', /learning_rate/);
    }
  });
});
