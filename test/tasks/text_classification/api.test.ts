/** The TypeScript API: TextClassificationData.fromLists → TextClassifier → Trainer.fit → predict, no leaked tensors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { TextClassificationData } from '../../../tasks/text_classification/api.js';
import { TextClassifier } from '../../../tasks/text_classification/model.js';
import { topicTexts } from '../../helpers/texts.js';

const lists = (n: number, seed: number) => {
  const rows = topicTexts(n, seed);
  return { texts: rows.map((r) => r.text), targets: rows.map((r) => r.label) };
};

test('fromLists trains a classifier in a few epochs, predicts in order, and frees its tensors', async () => {
  const before = tf.memory().numTensors;
  const data = await TextClassificationData.fromLists({ train: lists(20, 1), val: lists(5, 2) }, { batch_size: 8, subword_buckets: 128, bigram_buckets: 128 });
  assert.deepEqual(data.labels, ['food', 'sport', 'tech']);
  assert.equal(data.train.size, 60);
  const model = new TextClassifier({ labels: data.labels, tokenizer: data.tokenizer, multiLabel: data.multiLabel, embeddingDim: 16, learningRate: 0.01 });
  model.setup();
  const trainer = new Trainer({ maxEpochs: 4, seed: 1, log: () => undefined, warn: () => undefined });
  const fit = await trainer.fit(model, data);
  trainer.dispose();
  assert.ok(fit.history.at(-1)!.val_accuracy >= 0.9, JSON.stringify(fit.history.at(-1)));
  const preds = await model.predict(['the football match goal', 'oven garlic soup dinner', 'laptop battery update'], { topK: 2 });
  assert.deepEqual(preds.map((p) => p.label), ['sport', 'food', 'tech']);
  assert.equal(preds[0].top.length, 2);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('fromLists: a list of labels per text is multi-label; an empty text is skipped with a note', async () => {
  const data = await TextClassificationData.fromLists({ train: { texts: ['goal match', 'oven soup', 'goal soup', ''], targets: [['sport'], ['food'], ['sport', 'food'], ['food']] } }, { val_split: 0 });
  assert.equal(data.multiLabel, true);
  assert.equal(data.train.size, 3);
  assert.match(data.notes.join('\n'), /skipped 1 row\(s\) with an empty text/);
});
