/**
 * The programmatic API as the README shows it, imported from the package entry (src/index.ts), on a tiny shapes
 * dataset drawn with sharp.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CsvLogger,
  EarlyStopping,
  FlashUserError,
  ImageClassificationData,
  ImageClassifier,
  ModelCheckpoint,
  Trainer,
  defaultImageRecipe,
  formatPredictions,
  loadLayersModel,
  predictFiles,
  saveLayersModel,
  selectBackend,
  trainImageClassifier,
  type Callback,
  type EpochLogs,
} from '../../../src/index.js';
import { makeShapeDataset, makeTempDir, removeDir, SHAPE_LABELS, type ShapeDataset } from '../../helpers/images.js';

let tmp: string;
let ds: ShapeDataset;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
  ds = await makeShapeDataset(path.join(tmp, 'shapes'), { perClass: 10, layout: 'split', minSize: 16, maxSize: 28, seed: 5 });
});
after(async () => {
  await removeDir(tmp);
});

const checkPrediction = (p: { label: string; score: number; top: { label: string; score: number }[]; probs: number[] }, k: number) => {
  assert.ok(SHAPE_LABELS.includes(p.label), p.label);
  assert.equal(p.probs.length, 3);
  assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `probs sum to ${p.probs.reduce((a, b) => a + b, 0)}`);
  assert.equal(p.top.length, k);
  assert.equal(p.top[0].label, p.label);
  assert.equal(p.score, p.top[0].score);
  assert.equal(p.score, Math.max(...p.probs));
};

test("the README's five-line API trains, tests, predicts, and a saved run loads back predicting identically", async () => {
  const trainFolder = ds.trainDir;
  const valFolder = ds.valDir!;
  const logs: EpochLogs[] = [];
  const recorder: Callback = { onEpochEnd: (_ctx, l) => void logs.push(l) };

  const datamodule = await ImageClassificationData.fromFolders({ trainFolder, valFolder, batchSize: 32, imageSize: 16 });
  const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: datamodule.numClasses });
  const trainer = new Trainer({ maxEpochs: 3, callbacks: [new EarlyStopping({ patience: 3 }), recorder] });
  const result = await trainer.fit(model, datamodule);
  const files = ds.files.filter((f) => f.split === 'test').map((f) => f.file);
  const preds = await trainer.predict(model, files);

  assert.equal(datamodule.numClasses, 3);
  assert.deepEqual(model.labels, SHAPE_LABELS, 'the model takes the class names from the data');
  assert.deepEqual(model.spec, { height: 16, width: 16, channels: 3 });
  assert.equal(result.status, 'completed');
  assert.equal(result.history.length, 3);
  assert.deepEqual(logs, result.history);
  for (const key of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_f1_macro', 'val_auroc_macro']) assert.ok(key in result.history[2], key);
  assert.equal(preds.length, files.length);
  preds.forEach((p, i) => {
    assert.equal(p.file, files[i]);
    checkPrediction(p, 3);
  });

  // trainer.test without a test split evaluates on val.
  const testLogs = await trainer.test(model, datamodule);
  assert.deepEqual(Object.keys(testLogs).sort(), ['val_accuracy', 'val_auroc_macro', 'val_f1_macro', 'val_loss']);

  // Save a run folder (model + flash.json as flash writes it) and load it back.
  const runDir = path.join(tmp, 'run-api');
  await saveLayersModel(model.network(), runDir);
  await fs.writeFile(
    path.join(runDir, 'flash.json'),
    JSON.stringify({ task: 'image_classification', labels: model.labels, input: { ...model.spec, range: [0, 255], layout: 'NHWC' }, backbone: 'simple_cnn' }),
  );
  const loaded = await ImageClassifier.load(runDir);
  assert.deepEqual(loaded.labels, model.labels);
  const again = await trainer.predict(loaded, files);
  assert.deepEqual(again, preds, 'identical predictions from the reloaded run');

  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) await trainer.predict(model, files);
  assert.equal(tf.memory().numTensors, before, 'predict leaks no tensors');

  // Prediction output formats from real predictions.
  const csv = formatPredictions(preds, model.labels, 'csv').trimEnd().split('\n');
  assert.equal(csv[0], `file,label,score,${SHAPE_LABELS.join(',')}`);
  assert.equal(csv.length, files.length + 1);
  const jsonl = formatPredictions(preds, model.labels, 'jsonl').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(jsonl[0].probs), SHAPE_LABELS);
  model.network().dispose();
  loaded.network().dispose();
});

test('fromDatasets with tensors and fromFiles feed the same Trainer; CsvLogger and ModelCheckpoint plug in', async () => {
  // A dataset of in-memory tensors: bright vs dark 12×12 images.
  const item = (v: number, label: string) => ({ image: tf.fill([12, 12, 3], v, 'int32') as tf.Tensor3D, label });
  const train = [...Array.from({ length: 6 }, (_, i) => item(200 + i * 5, 'light')), ...Array.from({ length: 6 }, (_, i) => item(20 + i * 5, 'shade'))];
  const val = [item(230, 'light'), item(10, 'shade')];
  async function* asyncVal() {
    yield* val;
  }
  const dm = await ImageClassificationData.fromDatasets({ trainDataset: train, valDataset: asyncVal(), batchSize: 4, imageSize: 12 });
  assert.deepEqual(dm.labels, ['light', 'shade']);
  const runDir = path.join(tmp, 'run-ds');
  const model = new ImageClassifier({ numClasses: dm.numClasses, learningRate: 0.003 });
  const checkpoint = new ModelCheckpoint({ dir: runDir });
  const trainer = new Trainer({ maxEpochs: 2, callbacks: [checkpoint], loggers: [new CsvLogger(runDir)] });
  const result = await trainer.fit(model, dm);
  assert.equal(result.epochs, 2);
  const csv = (await fs.readFile(path.join(runDir, 'metrics.csv'), 'utf8')).trimEnd().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0], /^epoch,train_loss,train_accuracy,val_loss,val_accuracy/);
  const best = await loadLayersModel(runDir);
  assert.deepEqual(best.inputs[0].shape, [null, 12, 12, 3]);
  best.dispose();
  tf.dispose([...train, ...val].map((i) => i.image));
  model.network().dispose();

  // fromFiles with the shapes: same class order as fromFolders.
  const trainFiles = ds.files.filter((f) => f.split === 'train');
  const fm = await ImageClassificationData.fromFiles({ trainFiles: trainFiles.map((f) => f.file), trainTargets: trainFiles.map((f) => f.label), valSplit: 0, imageSize: 16 });
  assert.deepEqual(fm.labels, SHAPE_LABELS);
  assert.equal(fm.val, undefined);
  const fmodel = new ImageClassifier({ numClasses: 3 });
  const noVal = await new Trainer({ maxEpochs: 1 }).fit(fmodel, fm);
  assert.ok(!('val_loss' in noVal.history[0]), 'no val split, no val metrics');
  await assert.rejects(new Trainer().test(fmodel, fm), /neither a test nor a val split/);
  fmodel.network().dispose();
});

test('trainImageClassifier writes a run folder that ImageClassifier.load and plain loadLayersModel agree on', async () => {
  const recipe = defaultImageRecipe();
  recipe.data.folder = ds.root;
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.trainer.max_epochs = 2;
  recipe.trainer.backend = 'wasm';
  recipe.trainer.quiet = true;
  recipe.trainer.output_dir = path.join(tmp, 'run-train');
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: tmp, env: {} };
  const result = await trainImageClassifier({ recipe, io });
  assert.equal(result.runDir, recipe.trainer.output_dir);
  assert.equal(result.fit.epochs, 2);
  const files = (await fs.readdir(result.runDir)).sort();
  for (const f of ['flash.json', 'last', 'metrics.csv', 'model.json', 'recipe.yaml']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  assert.ok(!files.some((f) => f.endsWith('.tmp')));
  const meta = JSON.parse(await fs.readFile(path.join(result.runDir, 'flash.json'), 'utf8'));
  assert.deepEqual(meta.labels, SHAPE_LABELS);
  assert.equal(meta.backend, 'wasm');
  assert.ok('test_accuracy' in result.metrics, 'the split layout has a test/ folder: the best model was tested');

  const loaded = await ImageClassifier.load(result.runDir);
  const plain = await loadLayersModel(path.join(result.runDir, 'model.json'));
  const testFiles = ds.files.filter((f) => f.split === 'test').map((f) => f.file);
  const preds = await predictFiles(loaded, testFiles, { topK: 2 });
  preds.forEach((p) => checkPrediction(p, 2));
  // Plain tfjs on the same decoded pixels (via a second classifier wrapping the plain model) gives the same numbers.
  const wrapped = await ImageClassifier.load(result.runDir);
  wrapped.loadWeightsFrom(plain);
  assert.deepEqual(await predictFiles(wrapped, testFiles, { topK: 2 }), preds);
  plain.dispose();
  loaded.network().dispose();
  wrapped.network().dispose();

  // A run that already finished cannot be resumed; a folder that is not a run is a user error.
  await assert.rejects(trainImageClassifier({ recipe, io, resume: result.runDir }), (e: unknown) => e instanceof FlashUserError && /already finished its 2 epochs/.test(e.message));
  await assert.rejects(ImageClassifier.load(tmp), FlashUserError);
});
