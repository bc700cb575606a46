import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import {
  formatPredictions,
  outputFormat,
  predictFiles,
  predictionTable,
  table,
  writePredictions,
  type Prediction,
} from '../../../tasks/image_classification/predict.js';
import { drawShape, makeTempDir, removeDir, writeGarbageImage } from '../../helpers/images.js';
import { makeToyData } from '../../helpers/toy_data.js';

let tmp: string;
let files: string[];
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
  files = [];
  for (const [i, shape] of (['circle', 'square', 'triangle', 'circle'] as const).entries()) {
    const file = path.join(tmp, `img ${i}.png`);
    await fs.writeFile(file, await drawShape({ shape, width: 20 + i, height: 16 }));
    files.push(file);
  }
});
after(async () => {
  await removeDir(tmp);
});

const preds: Prediction[] = [
  { file: '/d/a.png', label: 'cat', score: 0.75, top: [{ label: 'cat', score: 0.75 }, { label: 'dog', score: 0.25 }], probs: [0.75, 0.25] },
  { file: '/d/b, "x".png', label: 'dog', score: 0.5, top: [{ label: 'dog', score: 0.5 }, { label: 'cat', score: 0.5 }], probs: [0.5, 0.5] },
];

test('formatPredictions: CSV has file, label, score, then one column per class in label order', () => {
  const csv = formatPredictions(preds, ['cat', 'dog'], 'csv');
  assert.equal(csv, 'file,label,score,cat,dog\n/d/a.png,cat,0.75,0.75,0.25\n"/d/b, ""x"".png",dog,0.5,0.5,0.5\n');
  assert.equal(formatPredictions([], ['cat', 'dog'], 'csv'), 'file,label,score,cat,dog\n');
});

test('formatPredictions: JSON is an array, JSONL one object a line, both with top_k and probs by class', () => {
  const json = JSON.parse(formatPredictions(preds, ['cat', 'dog'], 'json'));
  assert.equal(json.length, 2);
  assert.deepEqual(json[0], { file: '/d/a.png', label: 'cat', score: 0.75, top_k: preds[0].top, probs: { cat: 0.75, dog: 0.25 } });
  const jsonl = formatPredictions(preds, ['cat', 'dog'], 'jsonl');
  assert.ok(jsonl.endsWith('\n'));
  const lines = jsonl.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, json);
  assert.equal(formatPredictions([], ['cat'], 'jsonl'), '');
  assert.equal(formatPredictions([], ['cat'], 'json'), '[]\n');
});

test('outputFormat takes .json/.jsonl/.csv (any case); anything else is a user error', () => {
  assert.equal(outputFormat('p.json'), 'json');
  assert.equal(outputFormat('dir/p.JSONL'), 'jsonl');
  assert.equal(outputFormat('p.csv'), 'csv');
  assert.throws(() => outputFormat('x.txt'), (e: unknown) => e instanceof FlashUserError && e.message === "--output 'x.txt': unknown format '.txt'; use .json, .jsonl or .csv");
  assert.throws(() => outputFormat('noext'), FlashUserError);
});

test('writePredictions writes the format its extension names, relative to cwd', async () => {
  const full = await writePredictions('out/p.jsonl', preds, ['cat', 'dog'], tmp);
  assert.equal(full, path.join(tmp, 'out', 'p.jsonl'));
  assert.equal((await fs.readFile(full, 'utf8')).trimEnd().split('\n').length, 2);
  await assert.rejects(writePredictions('p.xml', preds, ['cat', 'dog'], tmp), FlashUserError);
});

test('predictionTable and table align columns by code points', () => {
  const t = predictionTable(preds, (f) => path.basename(f));
  const lines = t.trimEnd().split('\n');
  assert.equal(lines[0], 'file        label  top-k');
  assert.match(lines[1], /^-+ {2}-+ {2}-+$/);
  assert.equal(lines[2], 'a.png       cat    cat 0.750, dog 0.250');
  assert.equal(lines[3], 'b, "x".png  dog    dog 0.500, cat 0.500');
  assert.equal(table(['é', 'b'], [['ééé', 'x']]), 'é    b\n---  -\nééé  x\n');
});

test('predictFiles returns label, score, top-k and probs summing to 1; tensors stay flat across calls', async () => {
  const data = makeToyData({ perClass: 2, size: 12, channels: 3 });
  const model = new ImageClassifier({ numClasses: 2 });
  model.setup(data);
  const first = await predictFiles(model, files, { batchSize: 3 });
  assert.equal(first.length, files.length);
  first.forEach((p, i) => {
    assert.equal(p.file, files[i]);
    assert.equal(p.probs.length, 2);
    assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(p.top.length, 2, 'top-k is clamped to the number of classes');
    assert.equal(p.label, p.top[0].label);
    assert.equal(p.score, p.top[0].score);
    assert.equal(p.score, Math.max(...p.probs));
    assert.ok(p.top[0].score >= p.top[1].score);
    assert.ok(model.labels.includes(p.label));
  });
  const top1 = await predictFiles(model, files, { topK: 1 });
  assert.ok(top1.every((p) => p.top.length === 1));
  assert.deepEqual(top1.map((p) => p.probs), first.map((p) => p.probs), 'batch size does not change the outputs');

  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await model.predict(files);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(await predictFiles(model, []), []);
  model.network().dispose();
});

test('predictFiles skips undecodable files with a warning naming them; strict makes them fatal', async () => {
  const data = makeToyData({ perClass: 2, size: 8, channels: 1 });
  const model = new ImageClassifier({ numClasses: 2 });
  model.setup(data);
  const bad = await writeGarbageImage(path.join(tmp, 'broken.png'));
  const warnings: string[] = [];
  const out = await predictFiles(model, [files[0], bad, files[1]], { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(out.map((p) => p.file), [files[0], files[1]]);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].startsWith(`skipping '${bad}': `), warnings[0]);
  await assert.rejects(predictFiles(model, [bad], { strict: true }), (e: unknown) => e instanceof FlashUserError && e.message.includes(bad));
  model.network().dispose();
});

test('evaluateCsv scores a single-label model on a one-column CSV: the same numbers as its predictions give', async () => {
  const { evaluateCsv } = await import('../../../tasks/image_classification/evaluate.js');
  const { computeMetrics } = await import('../../../src/core/metrics/index.js');
  const data = makeToyData({ perClass: 2, size: 12, channels: 3 });
  const model = new ImageClassifier({ numClasses: 2 });
  model.setup(data);
  const truth = [0, 1, 1, 0];
  const csv = path.join(tmp, 'eval.csv');
  await fs.writeFile(csv, `path,y\n${files.map((f, i) => `${path.basename(f)},${model.labels[truth[i]]}`).join('\n')}\n`);
  const result = await evaluateCsv(model, csv, { inputField: 'path', targetFields: ['y'] });
  const preds = await predictFiles(model, files);
  const expected = computeMetrics({ probs: Float32Array.from(preds.flatMap((p) => p.probs)), labels: Int32Array.from(truth), numClasses: 2 }, model.metricNames);
  for (const [k, v] of Object.entries(expected)) assert.ok(Math.abs(result.metrics[k] - v) < 1e-6, k);
  assert.equal(result.count, 4);
  assert.equal(result.multiLabel, undefined);
  await fs.writeFile(csv, `path,y\n${path.basename(files[0])},${model.labels.join(';')}\n`);
  await assert.rejects(evaluateCsv(model, csv, { inputField: 'path', targetFields: ['y'] }), (e: unknown) => e instanceof FlashUserError && /line 2: several labels in one row, but this model predicts one class per image/.test(e.message));
  model.network().dispose();
});
