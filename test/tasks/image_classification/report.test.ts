/**
 * The run report on a tiny trained run (3 shape classes, 16 px, 3 epochs): report.html is self-contained and
 * matches an independent evaluation of the best model; the PNGs are real images; charts for 2 and 50 classes;
 * PR/ROC curves agree with the metrics module; reportCommand and compareRuns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CliIO } from '../../../src/cli/types.js';
import { defaultRecipe } from '../../../src/core/config/index.js';
import { JsonlLogger, parseJsonl } from '../../../src/core/loggers/index.js';
import { argmaxRows, aurocOneVsRest, confusionMatrix } from '../../../src/core/metrics/index.js';
import { runSplit } from '../../../src/core/trainer/evaluate.js';
import { decodeFiles, scanClassFolders, splitFromPixels } from '../../../tasks/image_classification/data/index.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import {
  classCurves,
  compareRuns,
  confusionSpec,
  prSpec,
  renderSvg,
  reportCommand,
  allClassCurves,
  writeRunReport,
  type RunReport,
} from '../../../tasks/image_classification/report/index.js';
import { trainImageClassifier } from '../../../tasks/image_classification/train.js';
import { makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../../helpers/images.js';
import { defaultImageRecipe } from '../../../tasks/image_classification/schema.js';

const captureIO = (cwd: string) => {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false, cwd, env: {} };
  return { io, out, err };
};

let dir: string;
let data: ShapeDataset;
let runDir: string;
let report: RunReport;
const jsonlImages: string[] = [];

before(async () => {
  dir = await makeTempDir('flash-report-');
  data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 20, layout: 'split', valFraction: 0.25, testFraction: 0.25, seed: 11, formats: ['png'] });
  const recipe = defaultImageRecipe();
  recipe.data.train_folder = 'shapes/train';
  recipe.data.val_folder = 'shapes/val';
  recipe.data.test_folder = 'shapes/test';
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.trainer.max_epochs = 3;
  recipe.trainer.output_dir = join(dir, 'run');
  recipe.trainer.quiet = true;
  runDir = (await trainImageClassifier({ recipe, io: captureIO(dir).io })).runDir;
  const logger = new JsonlLogger(runDir, 'report_log.jsonl');
  report = await writeRunReport(runDir, { cwd: dir, loggers: [logger] });
  for (const e of parseJsonl(await readFile(join(runDir, 'report_log.jsonl'), 'utf8'))) if (e.kind === 'image') jsonlImages.push(e.name);
});

after(async () => {
  await removeDir(dir);
});

/** The best model on the test folder, evaluated here without the report code. */
async function independentPredictions(): Promise<{ pred: Int32Array; labels: Int32Array; k: number }> {
  const model = await ImageClassifier.load(runDir);
  const scanned = await scanClassFolders(data.testDir!);
  const items = scanned.samples.map((s) => ({ file: s.file, label: model.labels.indexOf(scanned.labels[s.label]) }));
  const decoded = await decodeFiles(items, model.spec!, { onWarning: () => undefined });
  const out = await runSplit(model, splitFromPixels(model.spec!, decoded.items), 8, false);
  model.network().dispose();
  const k = model.labels.length;
  return { pred: argmaxRows(out.probs, k), labels: out.labels, k };
}

describe('writeRunReport on a trained run', () => {
  test('report.html is self-contained and names every class', async () => {
    const html = await readFile(join(runDir, 'report.html'), 'utf8');
    assert.equal(report.html, join(runDir, 'report.html'));
    assert.doesNotMatch(html, /https?:\/\//i, 'no URL of any host (no CDN, no namespace URLs)');
    assert.doesNotMatch(html, /<script[^>]*\ssrc=|<link[^>]*\shref=/i, 'no external scripts or stylesheets');
    for (const label of data.labels) assert.ok(html.includes(label), `class '${label}' in the page`);
    for (const section of ['Environment', 'Recipe', 'Training curves', 'Confusion matrix', 'Per-class metrics', 'Precision-recall and ROC curves']) {
      assert.ok(html.includes(section), section);
    }
    assert.match(html, /backend<\/td><td>\w+/);
    assert.match(html, /train images<\/td><td>\d+/);
    assert.match(html, /tfjs version/);
    assert.ok((html.match(/<svg/g) ?? []).length >= 4, 'inline charts');
    assert.match(html, /src="data:image\/png;base64,/, 'gallery thumbnails as data URIs');
    assert.match(html, /\(\d\.\d\d\)<\/figcaption>/, '"pred / true (p)" captions');
  });

  test('the confusion matrix equals confusionMatrix on an independent evaluation of the best model', async () => {
    const html = await readFile(join(runDir, 'report.html'), 'utf8');
    const json = JSON.parse(/<script type="application\/json" id="flash-report-data">(.*?)<\/script>/s.exec(html)![1]);
    const { pred, labels, k } = await independentPredictions();
    const expected = confusionMatrix(pred, labels, k);
    assert.equal(json.evaluation.source, 'test');
    assert.deepEqual(json.evaluation.confusion_matrix, expected);
    assert.deepEqual(report.data.evaluation!.confusion, expected);
    // The visible table says the same.
    const tableHtml = /<table class="cm">(.*?)<\/table>/s.exec(html)![1];
    const rows = [...tableHtml.matchAll(/<tr>(.*?)<\/tr>/gs)].slice(1).map((m) => [...m[1].matchAll(/<td>(.*?)<\/td>/g)].slice(1).map((c) => Number(c[1].replace(/<[^>]+>/g, ''))));
    assert.deepEqual(rows, expected);
    assert.equal(json.evaluation.count, labels.length);
    assert.deepEqual(json.evaluation.per_class.map((r: { support: number }) => r.support), expected.map((r) => r.reduce((a, b) => a + b, 0)));
  });

  test('the PNGs are images of sensible size', async () => {
    const files = await readdir(runDir);
    for (const name of ['curves', 'confusion_matrix', 'pr_curves', 'roc_curves']) {
      assert.ok(files.includes(`${name}.png`), name);
      const meta = await sharp(join(runDir, `${name}.png`)).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! >= 400 && meta.width! <= 5000, `${name} width ${meta.width}`);
      assert.ok(meta.height! >= 250 && meta.height! <= 5000, `${name} height ${meta.height}`);
      const stats = await sharp(join(runDir, `${name}.png`)).stats();
      assert.ok(stats.channels[0].stdev > 10, `${name} is not blank`);
    }
    assert.ok(report.pngs.sample_predictions === undefined || files.includes('sample_predictions.png'));
    assert.deepEqual(jsonlImages.sort(), Object.keys(report.pngs).filter((n) => n !== 'curves').sort(), 'images go to the loggers');
  });
});

test('a training run can hand its decoded split over, with the same result', async () => {
  const copy = join(dir, 'run-split');
  await cp(runDir, copy, { recursive: true });
  const model = await ImageClassifier.load(copy);
  const scanned = await scanClassFolders(data.testDir!);
  const items = scanned.samples.map((s) => ({ file: s.file, label: model.labels.indexOf(scanned.labels[s.label]) }));
  const decoded = await decodeFiles(items, model.spec!, { onWarning: () => undefined });
  model.network().dispose();
  const r = await writeRunReport(copy, { split: { name: 'test', split: splitFromPixels(model.spec!, decoded.items) } });
  assert.equal(r.data.evaluation!.source, 'test');
  assert.deepEqual(r.data.evaluation!.confusion, report.data.evaluation!.confusion);
});

describe('charts', () => {
  const confusion = (k: number) => Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => (t === p ? 9 : (t + p) % 3)));

  test('the confusion matrix shows every class name for 2 and for 50 classes', async () => {
    for (const k of [2, 50]) {
      const labels = Array.from({ length: k }, (_, i) => (k === 2 ? ['cat', 'dog'][i] : `class ${i}`));
      const svg = await renderSvg(confusionSpec(confusion(k), labels));
      for (const l of labels) assert.ok(svg.includes(`>${l}</text>`), `${l} (k=${k})`);
      const width = Number(/width="([\d.]+)"/.exec(svg)![1]);
      assert.ok(width < 2000, `k=${k}: width ${width}`);
    }
  });

  test('PR curves: small multiples with every class for 50 classes', async () => {
    const k = 50;
    const n = 200;
    const probs = new Float32Array(n * k).map((_, i) => ((i * 7919) % 101) / 101);
    const labels = new Int32Array(n).map((_, i) => i % k);
    const svg = await renderSvg(prSpec(allClassCurves(probs, labels, Array.from({ length: k }, (_, i) => `c${i}`))));
    for (let c = 0; c < k; c++) assert.ok(svg.includes(`>c${c}</text>`), `c${c}`);
  });

  test('curve areas agree with the metrics module; AP of a known ranking', () => {
    const k = 3;
    const n = 60;
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    const labels = new Int32Array(n).map(() => Math.floor(rnd() * k));
    const probs = new Float32Array(n * k).map(() => Math.round(rnd() * 10) / 10);
    for (let c = 0; c < k; c++) {
      const curves = classCurves(probs, labels, k, c);
      assert.ok(Math.abs(curves.auc - aurocOneVsRest({ probs, labels, numClasses: k }, c)) < 1e-9);
      assert.deepEqual(curves.roc[0], { x: 0, y: 0 });
      assert.deepEqual(curves.roc.at(-1), { x: 1, y: 1 });
    }
    // Scores 0.9 (pos), 0.8 (neg), 0.7 (pos): AP = 0.5·1 + 0.5·(2/3).
    const two = classCurves(new Float32Array([0.1, 0.9, 0.2, 0.8, 0.3, 0.7]), new Int32Array([1, 0, 1]), 2, 1);
    assert.ok(Math.abs(two.ap - (0.5 + 1 / 3)) < 1e-6);
    // Multi-label targets: label 1 is present in rows 0 and 2 (scores 0.9, 0.7) and absent in row 1 (0.8): the
    // same curve as above, though `labels` says nothing (all -1).
    const probs2 = new Float32Array([0.1, 0.9, 0.2, 0.8, 0.3, 0.7]);
    const multi = classCurves(probs2, new Int32Array([-1, -1, -1]), 2, 1, 'b', new Uint8Array([1, 1, 0, 0, 0, 1]));
    assert.equal(multi.positives, 2);
    assert.ok(Math.abs(multi.ap - (0.5 + 1 / 3)) < 1e-6);
    assert.ok(Math.abs(multi.auc - 0.5) < 1e-9);
  });
});

test('reportCommand evaluates on a given folder and prints where the report is', async () => {
  const { io, out } = captureIO(dir);
  const r = await reportCommand({ run: 'run', folder: 'shapes/val', io });
  assert.equal(r.data.evaluation!.source, 'shapes/val');
  assert.equal(r.data.evaluation!.ids.length, (await scanClassFolders(data.valDir!)).samples.length);
  const text = out.join('');
  assert.match(text, /evaluated the best model on 'shapes\/val' \(\d+ images\): loss/);
  assert.match(text, /^report: run\/report\.html$/m);
  assert.match(text, /plots: .*run\/confusion_matrix\.png/);
});

test('compareRuns lists only differing recipe keys, the final metrics, and writes combined curves', async () => {
  const other = join(dir, 'run-b');
  await cp(runDir, other, { recursive: true });
  const meta = JSON.parse(await readFile(join(other, 'flash.json'), 'utf8'));
  meta.recipe.model.learning_rate = 0.01;
  meta.recipe.trainer.output_dir = other;
  meta.metrics.val_accuracy = 0.5;
  await writeFile(join(other, 'flash.json'), JSON.stringify(meta));
  const result = await compareRuns(['run', 'run-b'], { cwd: dir, out: 'compare.png' });
  assert.deepEqual(result.recipeDiff, [{ key: 'model.learning_rate', values: ['null', '0.01'] }]);
  const acc = result.metrics.find((m) => m.name === 'val_accuracy')!;
  assert.equal(acc.values[1], 0.5);
  assert.match(result.text, /model\.learning_rate\s+null\s+0\.01/);
  assert.match(result.text, /val_accuracy\s+[\d.]+\s+0\.5/);
  const png = await sharp(result.png!).metadata();
  assert.equal(png.format, 'png');
  assert.ok(png.width! > 400);
});
