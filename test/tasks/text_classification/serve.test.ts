/** `flash serve` for text runs, in-process (Fastify inject): single and batch texts, query options, errors. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { TextClassificationData } from '../../../tasks/text_classification/api.js';
import { TextClassifier } from '../../../tasks/text_classification/model.js';
import { createTextServer } from '../../../tasks/text_classification/serve.js';
import { topicTexts } from '../../helpers/texts.js';

let clf: TextClassifier;
let app: FastifyInstance;
before(async () => {
  const rows = topicTexts(20, 1);
  const data = await TextClassificationData.fromLists({ train: { texts: rows.map((r) => r.text), targets: rows.map((r) => r.label) } }, { batch_size: 8, subword_buckets: 128, bigram_buckets: 128, val_split: 0 });
  clf = new TextClassifier({ labels: data.labels, tokenizer: data.tokenizer, multiLabel: false, embeddingDim: 16, learningRate: 0.01 });
  clf.setup();
  const trainer = new Trainer({ maxEpochs: 4, log: () => undefined, warn: () => undefined });
  await trainer.fit(clf, data);
  trainer.dispose();
  app = await createTextServer(clf, { maxBody: 4096, maxTexts: 3 });
});
after(async () => {
  await app.close();
  clf.dispose();
});

const post = (payload: unknown, url = '/predict') => app.inject({ method: 'POST', url, payload: payload as object });

test('POST /predict {"text"} answers the class, its score and the top k', async () => {
  const r = await post({ text: 'the football match goal league' }, '/predict?top_k=2');
  assert.equal(r.statusCode, 200, r.body);
  const j = r.json();
  assert.equal(j.label, 'sport');
  assert.equal(j.top_k.length, 2);
  assert.ok(j.score > 0.5);
});

test('POST /predict {"texts"} answers one prediction per text, in order; /metadata and the page', async () => {
  const r = await post({ texts: ['oven soup garlic', 'laptop wifi update'] });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().predictions.map((p: { label: string }) => p.label), ['food', 'tech']);
  const m = (await app.inject({ url: '/metadata' })).json();
  assert.deepEqual(m.labels, ['food', 'sport', 'tech']);
  assert.equal(m.tokenizer.splitter, 'words');
  const page = await app.inject({ url: '/' });
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /<textarea/);
});

test('bad requests are 400/413 with a message naming the problem; the server keeps serving', async () => {
  const cases: [unknown, string, RegExp, number][] = [
    [{ txt: 'a' }, '/predict', /expected a string "text" or a list "texts"/, 400],
    [{ texts: [] }, '/predict', /"texts" must hold 1 to 3 texts, got 0/, 400],
    [{ texts: ['a', 2] }, '/predict', /"texts"\[1\] is not a string/, 400],
    [{ text: 'a' }, '/predict?top_k=0', /\?top_k= must be an integer of at least 1/, 400],
    [{ text: 'x'.repeat(5000) }, '/predict', /larger than the limit/, 413],
  ];
  for (const [payload, url, message, status] of cases) {
    const r = await post(payload, url);
    assert.equal(r.statusCode, status, r.body);
    assert.match(r.json().message, message);
  }
  assert.equal((await post({ text: 'goal' })).statusCode, 200);
});
