/**
 * Multi-label image classification end to end in TypeScript: binary cross-entropy against a hand computation,
 * a real training run on synthetic images with 0–2 shapes each (from_csv with 0/1 columns), save → reload with
 * identical probabilities, and multi-label predictions in every output format.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defaultRecipe } from '../../../src/core/config/index.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { selectBackend } from '../../../src/core/backend.js';
import { loadLayersModel } from '../../../src/core/io/layers_model.js';
import { binaryCrossEntropyWithLogits, ImageClassifier } from '../../../tasks/image_classification/model.js';
import { formatPredictions, predictFiles, predictionTable } from '../../../tasks/image_classification/predict.js';
import { trainImageClassifier } from '../../../tasks/image_classification/train.js';
import { multiLabelRun } from '../../../tasks/classification/multi_label.js';
import { createImageServer } from '../../../tasks/image_classification/serve.js';
import { evaluateCsv, evaluateFolder, evaluationText } from '../../../tasks/image_classification/evaluate.js';
import { exportCommand } from '../../../tasks/image_classification/export/index.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { ML_LABELS, writeMultiLabelSet, type MultiLabelSet } from '../../helpers/multi_label.js';
import { defaultImageRecipe, resolveImageRecipe } from '../../../tasks/image_classification/schema.js';

let tmp: string;
let train: MultiLabelSet;
let held: MultiLabelSet;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir('flash-ml-');
  train = await writeMultiLabelSet(tmp, 'train', 84, 3);
  held = await writeMultiLabelSet(tmp, 'held', 14, 9);
});
after(() => removeDir(tmp));

const bceByHand = (z: number, y: number) => -(y * Math.log(1 / (1 + Math.exp(-z))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-z))));

test('binary cross-entropy from logits: the mean over images and labels of a hand computation, stable for large logits', async () => {
  const logits = [
    [2, -1, 0.5],
    [-0.3, 1.2, -2],
  ];
  const y = [
    [1, 0, 0],
    [0, 1, 1],
  ];
  const expected = logits.flat().reduce((s, z, i) => s + bceByHand(z, y.flat()[i]), 0) / 6;
  const loss = binaryCrossEntropyWithLogits(tf.tensor2d(y), tf.tensor2d(logits));
  assert.ok(Math.abs((await loss.data())[0] - expected) < 1e-5, `${(await loss.data())[0]} vs ${expected}`);
  // max(z,0) − z·y + log(1+e^−|z|): 100 for a confident wrong answer, ~0 for a confident right one; never Inf or NaN.
  const extreme = await binaryCrossEntropyWithLogits(tf.tensor2d([[1, 0, 1, 0]]), tf.tensor2d([[-100, 100, 100, -100]])).data();
  assert.ok(Math.abs(extreme[0] - 50) < 1e-3, String(extreme[0]));

  // The classifier uses it when multi-label, and its outputs are per-label sigmoids.
  const m = new ImageClassifier({ labels: ['a', 'b', 'c'], multiLabel: true, backbone: 'simple_cnn' });
  m.build({ height: 8, width: 8, channels: 3 });
  const same = await m.loss(tf.tensor2d(y), tf.tensor2d(logits)).data();
  assert.ok(Math.abs(same[0] - expected) < 1e-5);
  const probs = await m.activate(tf.tensor2d(logits)).array() as number[][];
  assert.ok(Math.abs(probs[0][0] - 1 / (1 + Math.exp(-2))) < 1e-6);
  assert.equal(m.network().getLayer('probs').getConfig().activation, 'sigmoid');
  m.classWeights = [1, 2, 1];
  assert.throws(() => m.loss(tf.tensor2d(y), tf.tensor2d(logits)), FlashUserError);
  m.network().dispose();
});

test('multi-label monitor: val_accuracy becomes val_f1_macro; a single-label metric is a one-line error', () => {
  const recipe = defaultImageRecipe();
  const said: string[] = [];
  assert.deepEqual(multiLabelRun(recipe, true, (l) => said.push(l)), { monitor: 'val_f1_macro', monitorMode: 'auto' });
  assert.match(said[0], /monitoring val_f1_macro/);
  assert.deepEqual(multiLabelRun(recipe, false, () => undefined).monitor, 'val_accuracy');
  recipe.trainer.monitor = 'val_loss';
  assert.equal(multiLabelRun(recipe, true, () => undefined).monitor, 'val_loss');
  recipe.trainer.monitor = 'val_top3_accuracy';
  assert.throws(() => multiLabelRun(recipe, true, () => undefined), (e: unknown) => e instanceof FlashUserError && /not logged for multi-label data; use one of val_loss, val_f1_micro/.test(e.message));
});

test('from_csv multi-label trains well above chance; save → reload gives identical probabilities; predictions list every label over the threshold', async () => {
  const recipe = defaultImageRecipe();
  recipe.data.builder = 'from_csv';
  recipe.data.train_file = train.columnsCsv;
  recipe.data.val_file = held.columnsCsv;
  recipe.data.input_field = 'image';
  recipe.data.target_fields = [...ML_LABELS];
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.data.augment = false;
  recipe.model.learning_rate = 0.01;
  recipe.trainer.max_epochs = 15;
  recipe.trainer.backend = 'wasm';
  recipe.trainer.quiet = true;
  recipe.trainer.output_dir = path.join(tmp, 'run');
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: tmp, env: {} };
  const result = await trainImageClassifier({ recipe, io });
  const text = out.join(""); if (process.env.SHOW) console.log(text);
  assert.match(text, /3 labels \(multi-label/);
  assert.match(text, /monitoring val_f1_macro/);
  assert.match(text, /class weights: off \(multi-label/);
  assert.match(text, /per-label metrics \(best model, val split, threshold 0\.5\):\nlabel +precision +recall +f1 +support +auroc/);
  // Chance: predicting each label at its base rate (~3/7) gives micro F1 around 0.43; the shapes are easy.
  assert.ok(result.metrics.val_f1_micro > 0.8, `val_f1_micro ${result.metrics.val_f1_micro}\n${text}`);
  assert.ok(!('val_accuracy' in result.metrics));
  const meta = JSON.parse(await fs.readFile(path.join(result.runDir, 'flash.json'), 'utf8'));
  assert.equal(meta.multi_label, true);
  assert.equal(meta.threshold, 0.5);
  assert.deepEqual(meta.labels, ['circle', 'square', 'triangle']);
  // The run's report evaluates per label: a per-label table with AP and ROC AUC, PR/ROC curves; no confusion
  // matrix or pred/true gallery (single-label views).
  const html = await fs.readFile(path.join(result.runDir, 'report.html'), 'utf8');
  assert.match(html, /<h2>Per-label metrics<\/h2>/);
  for (const l of ML_LABELS) assert.match(html, new RegExp(`<td>${l}</td>`));
  assert.doesNotMatch(html, /Confusion matrix|confidently wrong/);
  await fs.access(path.join(result.runDir, 'pr_curves.png'));
  await fs.access(path.join(result.runDir, 'roc_curves.png'));
  await assert.rejects(fs.access(path.join(result.runDir, 'confusion_matrix.png')));

  const loaded = await ImageClassifier.load(result.runDir);
  assert.equal(loaded.multiLabel, true);
  assert.deepEqual(loaded.metricNames, ['f1_micro', 'f1_macro', 'hamming_accuracy', 'subset_accuracy', 'auroc_macro']);
  const files = held.rows.map((r) => path.join(tmp, r.file));
  const preds = await predictFiles(loaded, files);
  // Plain tfjs on the saved model.json: the same probabilities (the sigmoid is inside the saved network).
  const plain = await loadLayersModel(path.join(result.runDir, 'model.json'));
  const again = await ImageClassifier.load(result.runDir);
  again.loadWeightsFrom(plain);
  assert.deepEqual(await predictFiles(again, files), preds);
  // Sigmoid outputs: rows need not sum to 1; every label ≥ 0.5 is listed, most probable first.
  for (const p of preds) {
    assert.deepEqual(p.labels!.map((l) => l.label), p.probs.map((v, c) => [v, c] as const).filter(([v]) => v >= 0.5).sort((a, b) => b[0] - a[0]).map(([, c]) => loaded.labels[c]));
    assert.equal(p.label, p.labels!.map((l) => l.label).join(';'));
    assert.equal(p.threshold, 0.5);
  }
  const exact = preds.filter((p, i) => [...p.labels!.map((l) => l.label)].sort().join() === [...held.rows[i].labels].sort().join()).length;
  assert.ok(exact >= held.rows.length / 2, `${exact}/${held.rows.length} exact label sets`);
  // A lower threshold lists at least as many labels.
  const low = await predictFiles(loaded, files, { threshold: 0.05 });
  low.forEach((p, i) => assert.ok(p.labels!.length >= preds[i].labels!.length));
  await assert.rejects(predictFiles(loaded, files, { threshold: 1.5 }), (e: unknown) => e instanceof FlashUserError && /--threshold must be a number between 0 and 1/.test(e.message));

  // Output formats.
  const csv = formatPredictions(preds, loaded.labels, 'csv').trim().split('\n');
  assert.equal(csv[0], 'file,labels,circle,square,triangle');
  assert.equal(csv.length, preds.length + 1);
  const json = JSON.parse(formatPredictions(preds, loaded.labels, 'json'));
  assert.deepEqual(Object.keys(json[0]), ['file', 'labels', 'threshold', 'probs']);
  assert.deepEqual(Object.keys(json[0].probs), ['circle', 'square', 'triangle']);
  const jsonl = formatPredictions(preds, loaded.labels, 'jsonl').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(jsonl, json);
  assert.match(predictionTable(preds), /^file +labels \(probability >= 0\.5\)\n/);

  // flash evaluate --csv: either CSV layout scores the val images exactly as training did.
  const byTags = await evaluateCsv(loaded, held.tagsCsv, { inputField: 'image', targetFields: ['tags'] });
  const byColumns = await evaluateCsv(loaded, held.columnsCsv, { inputField: 'image', targetFields: [...ML_LABELS] });
  assert.deepEqual(byTags, byColumns);
  assert.equal(byTags.count, held.rows.length);
  assert.ok(Math.abs(byTags.metrics.f1_micro - result.metrics.val_f1_micro) < 1e-9, `${byTags.metrics.f1_micro} vs ${result.metrics.val_f1_micro}`);
  assert.ok(Math.abs(byTags.metrics.loss - result.metrics.val_loss) < 1e-4);
  assert.deepEqual(byTags.perClass.map((r) => r.support), [6, 6, 6]);
  assert.match(evaluationText(byTags), /^14 images · multi-label, threshold 0\.5 · loss [\d.]+ · f1_micro [\d.]+ · f1_macro/);
  const typo = path.join(tmp, 'typo.csv');
  await fs.writeFile(typo, `image,tags\n${held.rows[1].file},circel\n`);
  await assert.rejects(
    evaluateCsv(loaded, typo, { inputField: 'image', targetFields: ['tags'] }),
    (e: unknown) => e instanceof FlashUserError && /typo\.csv' line 2: label 'circel' is not one of the model's labels \(did you mean 'circle'\?\)/.test(e.message),
  );
  await assert.rejects(evaluateFolder(loaded, path.join(tmp, 'held')), (e: unknown) => e instanceof FlashUserError && /evaluate a labelled CSV instead/.test(e.message));

  // flash serve answers in the same shape, with ?threshold= per request; /metadata says multi-label.
  const { app } = await createImageServer(loaded, { runDir: result.runDir });
  try {
    const bytes = await fs.readFile(files[4]);
    const r = await app.inject({ method: 'POST', url: '/predict', payload: bytes, headers: { 'content-type': 'image/png' } });
    assert.equal(r.statusCode, 200, r.body);
    const served = r.json();
    assert.deepEqual(served.labels.map((l: { label: string }) => l.label), preds[4].labels!.map((l) => l.label));
    assert.equal(served.label, preds[4].label);
    assert.equal(served.threshold, 0.5);
    const lowServed = (await app.inject({ method: 'POST', url: '/predict?threshold=0.01', payload: bytes, headers: { 'content-type': 'image/png' } })).json();
    assert.equal(lowServed.threshold, 0.01);
    assert.ok(lowServed.labels.length >= served.labels.length);
    assert.equal((await app.inject({ method: 'POST', url: '/predict?threshold=3', payload: bytes, headers: { 'content-type': 'image/png' } })).statusCode, 400);
    const md = (await app.inject({ method: 'GET', url: '/metadata' })).json();
    assert.equal(md.multi_label, true);
    assert.equal(md.threshold, 0.5);
  } finally {
    await app.close();
  }
  // flash export: metadata.json tells the page (and any consumer) that outputs are per-label sigmoids.
  const io2 = { out: () => undefined, err: () => undefined, isTTY: false, cwd: tmp, env: {} };
  await exportCommand({ model: result.runDir, out: path.join(tmp, 'web'), io: io2 });
  const exported = JSON.parse(await fs.readFile(path.join(tmp, 'web', 'metadata.json'), 'utf8'));
  assert.equal(exported.multi_label, true);
  assert.equal(exported.threshold, 0.5);
  assert.match(exported.preprocessing, /sigmoid/);
  plain.dispose();
  loaded.network().dispose();
  again.network().dispose();
});

test('model.multi_label takes true/false from a recipe file (YAML booleans) as well as from flags', async () => {
  const { resolveRecipe } = await import('../../../src/core/config/index.js');
  assert.equal(resolveImageRecipe({ task: 'image_classification', overrides: { model: { multi_label: true as unknown as 'true' } } }).model.multi_label, 'true');
  assert.equal(resolveImageRecipe({ task: 'image_classification', overrides: { model: { multi_label: 'false' } } }).model.multi_label, 'false');
  assert.equal(resolveImageRecipe({ task: 'image_classification' }).model.multi_label, 'auto');
});

test('a multi-label run resumes (multi-hot data, sigmoid model and val_f1_macro monitor again)', async () => {
  const recipe = defaultImageRecipe();
  recipe.data.builder = 'from_csv';
  recipe.data.train_file = held.tagsCsv;
  recipe.data.input_field = 'image';
  recipe.data.target_fields = ['tags'];
  recipe.data.image_size = 8;
  recipe.data.val_split = 0.3;
  recipe.trainer.max_epochs = 1;
  recipe.trainer.backend = 'wasm';
  recipe.trainer.quiet = true;
  recipe.trainer.output_dir = path.join(tmp, 'run-resume');
  const io = { out: () => undefined, err: () => undefined, isTTY: false, cwd: tmp, env: {} };
  await trainImageClassifier({ recipe, io });
  recipe.trainer.max_epochs = 2;
  const said: string[] = [];
  const resumed = await trainImageClassifier({ recipe, io: { ...io, out: (t: string) => void said.push(t) }, resume: recipe.trainer.output_dir });
  assert.equal(resumed.fit.history.length, 2);
  assert.ok('val_f1_macro' in resumed.fit.history[1]);
  assert.match(said.join(''), /resuming .* after epoch 1/);
  const loaded = await ImageClassifier.load(resumed.runDir);
  assert.equal(loaded.multiLabel, true);
  loaded.network().dispose();
});
