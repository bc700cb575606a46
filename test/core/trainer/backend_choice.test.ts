import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { VectorClassifier, VectorSplit } from '../../helpers/toy_task/index.js';

/** Two separable classes of 2-D rows, in memory (the toy task's split type, no files). */
function toyData() {
  const rows = Array.from({ length: 32 }, (_, i) => [i % 2 ? 1 : -1, (i % 5) / 5]);
  const labels = rows.map((_, i) => i % 2);
  return { train: new VectorSplit(rows, labels), batchSize: 8 };
}

const model = () => new VectorClassifier(['a', 'b'], ['x', 'y'], { hidden: 4, optimizer: 'adam', lr: 0.01, wd: 0 });

test("the README's TypeScript path: Trainer({ backend: 'auto' }) trains on flash's wasm engine, as the CLI does", async () => {
  await tf.setBackend('cpu');
  const lines: string[] = [];
  const m = model();
  m.setup();
  await new Trainer({ maxEpochs: 1, backend: 'auto', log: (l) => lines.push(l) }).fit(m, toyData());
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(lines.join('\n'), /^backend wasm \(flash engine/m);
  m.network().dispose();
});

test('a Trainer without a backend on the pure-JS cpu backend says so once, naming the fix', async () => {
  await tf.setBackend('cpu');
  const warned: string[] = [];
  const m = model();
  m.setup();
  const trainer = new Trainer({ maxEpochs: 1, warn: (l) => warned.push(l) });
  await trainer.fit(m, toyData());
  await trainer.fit(m, toyData());
  assert.equal(warned.length, 1);
  assert.match(warned[0], /pure-JavaScript cpu backend.*selectBackend\('auto'\).*backend: 'auto'/);
  m.network().dispose();
  trainer.dispose();
});
