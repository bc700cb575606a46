import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  decodeFiles,
  ImageClassificationData,
  type DatasetItem,
  type DataSplit,
} from '../../../../tasks/image_classification/data/index.js';
import {
  drawShape,
  makeEmptyClass,
  makeShapeDataset,
  makeTempDir,
  plantBadFiles,
  removeDir,
  SHAPE_LABELS,
  writeGarbageImage,
  type ShapeDataset,
} from '../../../helpers/images.js';
import { rejectsWith } from '../../../helpers/assertions.js';
import { withScanOptions } from '../../../../tasks/image_classification/data/scan.js';

let tmp: string;
let flat: ShapeDataset;
let split: ShapeDataset;
before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir();
  [flat, split] = await Promise.all([
    makeShapeDataset(path.join(tmp, 'flat'), { perClass: 10, seed: 3 }),
    makeShapeDataset(path.join(tmp, 'split'), { perClass: 10, seed: 4, layout: 'split' }),
  ]);
});
after(() => removeDir(tmp));

/** Collects warnings instead of printing them. */
function warnings(): { list: string[]; onWarning: (m: string) => void } {
  const list: string[] = [];
  return { list, onWarning: (m) => list.push(m) };
}

/** Reads one epoch: ids in order, labels, and the x values, disposing every tensor. */
async function readEpoch(split: DataSplit, opts: Parameters<DataSplit['batches']>[0]) {
  const ids: string[] = [];
  const labels: number[] = [];
  const xs: Float32Array[] = [];
  const shapes: number[][] = [];
  for await (const b of split.batches(opts)) {
    ids.push(...b.ids);
    labels.push(...(b.y.dataSync() as Int32Array));
    xs.push(b.x.dataSync() as Float32Array);
    shapes.push(b.x.shape);
    assert.equal(b.x.dtype, 'float32');
    assert.equal(b.y.dtype, 'int32');
    b.x.dispose();
    b.y.dispose();
  }
  return { ids, labels, xs, shapes };
}

test('fromFolders on class folders: labels, stratified seeded val split, spec, summary', async () => {
  const w = warnings();
  const dm = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 28, batchSize: 8, onWarning: w.onWarning });
  assert.deepEqual(dm.labels, ['blue triangle', 'carré vert', 'circle']);
  assert.equal(dm.numClasses, 3);
  assert.equal(dm.batchSize, 8);
  assert.deepEqual(dm.spec, { height: 28, width: 28, channels: 3 });
  assert.equal(dm.train.size, 24);
  assert.equal(dm.val?.size, 6);
  assert.equal(dm.test, undefined);
  assert.deepEqual(dm.predictFiles, []);
  assert.deepEqual(dm.skipped, []);
  assert.deepEqual(w.list, []);
  // Every class in both splits, 2 of 10 in val; ids are the files, labels match the folder.
  for (const s of [dm.train, dm.val!]) {
    for (let c = 0; c < 3; c++) assert.equal(Array.from(s.labels).filter((l) => l === c).length, s === dm.val ? 2 : 8);
    s.ids.forEach((id, i) => assert.equal(dm.labels[s.labels[i]], path.basename(path.dirname(id))));
  }
  assert.equal(new Set([...dm.train.ids, ...dm.val!.ids]).size, 30);
  assert.equal(
    dm.summary(),
    'train 24 (blue triangle 8, carré vert 8, circle 8) · val 6 · 3 classes · 28×28×3 · cache memory (auto: 30 images × 28×28×3 = 68.9 KiB fits the 512 MiB budget)',
  );
  assert.equal(dm.augment, true);
  assert.equal(dm.valSplit, 0.2);
  // Same seed → same split; another seed → another split.
  const again = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 28 });
  assert.deepEqual(again.val!.ids, dm.val!.ids);
  const other = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 28, seed: 7 });
  assert.notDeepEqual(other.val!.ids, dm.val!.ids);
  const noVal = await ImageClassificationData.fromFolders({ trainFolder: flat.root, imageSize: [20, 24], valSplit: 0 });
  assert.equal(noVal.val, undefined);
  assert.equal(noVal.train.size, 30);
  assert.deepEqual(noVal.spec, { height: 20, width: 24, channels: 3 });
});

test('fromFolders detects the train/val/test/predict layout; val/ may be named valid/', async () => {
  const dm = await ImageClassificationData.fromFolders({ folder: split.root, imageSize: 24 });
  assert.deepEqual(dm.labels, SHAPE_LABELS);
  assert.equal(dm.train.size, 18);
  assert.equal(dm.val?.size, 6);
  assert.equal(dm.test?.size, 6);
  assert.ok(dm.val!.ids.every((id) => id.startsWith(path.join(split.root, 'val'))));
  assert.ok(dm.test!.ids.every((id) => id.startsWith(path.join(split.root, 'test'))));
  // Labels of val/test map by class name to the train indices.
  for (const s of [dm.val!, dm.test!]) s.ids.forEach((id, i) => assert.equal(dm.labels[s.labels[i]], path.basename(path.dirname(id))));

  const alt = path.join(tmp, 'alt');
  await fs.cp(split.trainDir, path.join(alt, 'train'), { recursive: true });
  await fs.cp(split.valDir!, path.join(alt, 'valid'), { recursive: true });
  await fs.mkdir(path.join(alt, 'predict'));
  for (const n of ['x.png', 'y.jpg']) await fs.writeFile(path.join(alt, 'predict', n), await drawShape({ shape: 'circle' }));
  const dm2 = await ImageClassificationData.fromFolders({ folder: alt, imageSize: 24 });
  assert.equal(dm2.val?.size, 6);
  assert.equal(dm2.test, undefined);
  assert.deepEqual(dm2.predictFiles, [path.join(alt, 'predict', 'x.png'), path.join(alt, 'predict', 'y.jpg')]);
  assert.match(dm2.summary(), /· val 6 · predict 2 · 3 classes/);

  // Empty test/ and predict/ folders found by name are left out with a warning.
  const sparse = path.join(tmp, 'sparse');
  await fs.cp(split.trainDir, path.join(sparse, 'train'), { recursive: true });
  await fs.mkdir(path.join(sparse, 'test'));
  await fs.mkdir(path.join(sparse, 'predict'));
  await fs.writeFile(path.join(sparse, 'predict', '.DS_Store'), 'x');
  const w = warnings();
  const dm4 = await ImageClassificationData.fromFolders({ folder: sparse, imageSize: 24, onWarning: w.onWarning });
  assert.equal(dm4.test, undefined);
  assert.deepEqual(dm4.predictFiles, []);
  assert.deepEqual(w.list, [`ignoring empty folder '${path.join(sparse, 'test')}'`, `ignoring empty folder '${path.join(sparse, 'predict')}'`]);
  assert.deepEqual([dm4.train.size, dm4.val?.size], [15, 3]); // 6 per class, round(1.2) = 1 each to val

  // Flash's explicit folders.
  const dm3 = await ImageClassificationData.fromFolders({ trainFolder: split.trainDir, valFolder: split.valDir, testFolder: split.testDir, imageSize: 24 });
  assert.deepEqual([dm3.train.size, dm3.val?.size, dm3.test?.size], [18, 6, 6]);
});

test('fromFolders bad input: one line naming the path', async () => {
  const missing = path.join(tmp, 'missing');
  await rejectsWith(ImageClassificationData.fromFolders({ folder: missing, imageSize: 16 }), `folder '${missing}' does not exist`);
  await rejectsWith(ImageClassificationData.fromFolders({ trainFolder: missing, imageSize: 16 }), `folder '${missing}' does not exist`);

  const one = path.join(tmp, 'one');
  await fs.mkdir(path.join(one, 'cat'), { recursive: true });
  await fs.writeFile(path.join(one, 'cat', 'a.png'), await drawShape({ shape: 'circle' }));
  await rejectsWith(ImageClassificationData.fromFolders({ folder: one, imageSize: 16 }), `found 1 class in '${one}' (cat); need at least 2`);

  const withEmpty = path.join(tmp, 'with-empty');
  await fs.cp(flat.root, withEmpty, { recursive: true });
  await makeEmptyClass(withEmpty, 'dog');
  // An empty class folder: fatal when strict (as builders pass it), else a warning that leaves the class out.
  await rejectsWith(withScanOptions({ strict: true }, () => ImageClassificationData.fromFolders({ folder: withEmpty, imageSize: 16 })), new RegExp(`^class folder '${path.join(withEmpty, 'dog')}' has no images`));
  const warnings: string[] = [];
  const dropped = await withScanOptions({ onWarning: (m) => warnings.push(m) }, () => ImageClassificationData.planFolders({ folder: withEmpty, imageSize: 16 }));
  assert.ok(!dropped.labels.includes('dog'), dropped.labels.join(','));
  assert.ok(warnings.some((w) => w.includes(path.join(withEmpty, 'dog'))), warnings.join('\n'));

  // A val class that is not a training class.
  const oddVal = path.join(tmp, 'odd-val');
  await fs.cp(split.valDir!, oddVal, { recursive: true });
  await fs.rename(path.join(oddVal, 'circle'), path.join(oddVal, 'circles'));
  await rejectsWith(
    ImageClassificationData.fromFolders({ trainFolder: split.trainDir, valFolder: oddVal, imageSize: 16 }),
    `class 'circles' in '${oddVal}' is not one of the training classes (did you mean 'circle'?); training classes: blue triangle, carré vert, circle`,
  );

  await rejectsWith(ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 0 }), /^image_size must be a positive integer/);
  await rejectsWith(ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 16, valSplit: 1 }), /^val_split must be a number in \[0, 1\), got 1/);
  await rejectsWith(ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 16, batchSize: 0 }), /^batch_size must be a positive integer/);
  await rejectsWith(ImageClassificationData.fromFolders({ imageSize: 16 }), /^no training data/);
});

test('corrupt files are skipped with a warning naming each; strict makes them fatal; hidden and non-image files are ignored', async () => {
  const root = path.join(tmp, 'bad');
  await fs.cp(flat.root, root, { recursive: true });
  const bad = await plantBadFiles(path.join(root, 'circle'));
  const garbage = await writeGarbageImage(path.join(root, 'carré vert', 'noise.png'));
  const w = warnings();
  const dm = await ImageClassificationData.fromFolders({ folder: root, imageSize: 16, onWarning: w.onWarning });
  assert.equal(dm.train.size + dm.val!.size, 30);
  assert.deepEqual(dm.skipped.map((s) => s.file).sort(), [bad.truncated, garbage].sort());
  assert.ok(dm.skipped.every((s) => s.reason.length > 0 && !s.reason.includes('\n')));
  assert.equal(w.list.length, 2);
  assert.ok(w.list.some((m) => m.startsWith(`skipping '${bad.truncated}': `)), w.list.join('\n'));
  assert.ok(w.list.some((m) => m.startsWith(`skipping '${garbage}': `)), w.list.join('\n'));
  assert.deepEqual(dm.ignored, [bad.text]);
  assert.match(dm.summary(), / · 2 undecodable skipped · 1 non-image ignored · cache memory \(auto: .*\)$/);
  assert.ok(![...dm.train.ids, ...dm.val!.ids].some((id) => id.includes('.DS_Store') || id.includes('.thumbnails')));

  await rejectsWith(
    ImageClassificationData.fromFolders({ folder: root, imageSize: 16, strict: true, onWarning: w.onWarning }),
    new RegExp(`^cannot decode image '(${escape(bad.truncated)}|${escape(garbage)})': `),
  );
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test("channels 'auto': 1 when every train image is grayscale, else 3; explicit channels win", async () => {
  const gray = await makeShapeDataset(path.join(tmp, 'gray'), { perClass: 4, grayFraction: 1, formats: ['png', 'jpg', 'tiff'] });
  const dm = await ImageClassificationData.fromFolders({ folder: gray.root, imageSize: 12 });
  assert.equal(dm.spec.channels, 1);
  assert.equal((await dm.train.pixels(0)).length, 12 * 12);
  const forced = await ImageClassificationData.fromFolders({ folder: gray.root, imageSize: 12, channels: 3 });
  assert.equal(forced.spec.channels, 3);
  // The shape set mixes gray, RGB and RGBA: auto gives 3.
  const mixed = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 12 });
  assert.equal(mixed.spec.channels, 3);
  const asGray = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 12, channels: 1 });
  assert.equal(asGray.spec.channels, 1);
});

test('fromFiles: labels sorted from the targets, val/test files, predict files, mismatches are errors', async () => {
  const files = flat.files.map((f) => f.file);
  const targets = flat.files.map((f) => f.label);
  const dm = await ImageClassificationData.fromFiles({
    trainFiles: files.slice(0, 24),
    trainTargets: targets.slice(0, 24),
    valFiles: files.slice(24),
    valTargets: targets.slice(24),
    predictFiles: [files[0]],
    imageSize: 16,
  });
  assert.deepEqual(dm.labels, [...new Set(targets.slice(0, 24))].sort((a, b) => a.localeCompare(b, 'en')));
  assert.equal(dm.train.size, 24);
  assert.equal(dm.val?.size, 6);
  assert.deepEqual(dm.predictFiles, [files[0]]);
  dm.train.ids.forEach((id, i) => assert.equal(dm.labels[dm.train.labels[i]], targets[files.indexOf(id)]));

  const split = await ImageClassificationData.fromFiles({ trainFiles: files, trainTargets: targets, imageSize: 16 });
  assert.deepEqual([split.train.size, split.val?.size], [24, 6]);

  await rejectsWith(
    ImageClassificationData.fromFiles({ trainFiles: files, trainTargets: targets.slice(1), imageSize: 16 }),
    `train_files has 30 entries but train_targets has 29; they must match`,
  );
  const missing = path.join(tmp, 'gone.png');
  await rejectsWith(ImageClassificationData.fromFiles({ trainFiles: [missing, files[0]], trainTargets: ['a', 'b'], imageSize: 16 }), `file '${missing}' does not exist`);
  await rejectsWith(ImageClassificationData.fromFiles({ trainFiles: files.slice(0, 2), trainTargets: ['cat', 'cat'], imageSize: 16 }), `found 1 class in train_targets (cat); need at least 2`);
  await rejectsWith(
    ImageClassificationData.fromFiles({ trainFiles: files.slice(0, 2), trainTargets: ['cat', 'dog'], valFiles: [files[2]], valTargets: ['dgo'], imageSize: 16 }),
    `class 'dgo' in val_targets is not one of the training classes (did you mean 'dog'?); training classes: cat, dog`,
  );
});

test('fromDatasets: arrays, generators and async generators of paths, Buffers and Tensor3D', async () => {
  const start = tf.memory().numTensors;
  const buffers = await Promise.all(
    (['circle', 'square', 'circle', 'square'] as const).map((shape) => drawShape({ shape, format: 'png', width: 20, height: 20 })),
  );
  const red = tf.tidy(() => tf.concat([tf.fill([10, 14, 1], 220), tf.fill([10, 14, 2], 20)], 2)) as tf.Tensor3D;
  const green = tf.tidy(() => tf.concat([tf.fill([8, 8, 1], 20), tf.fill([8, 8, 1], 200), tf.fill([8, 8, 1], 20)], 2)) as tf.Tensor3D;
  const array: DatasetItem[] = [
    { image: buffers[0], label: 'red' },
    { image: buffers[1], label: 'green' },
    { image: red, label: 'red' },
    { image: green, label: 'green' },
    { image: flat.files[0].file, label: 'green' },
  ];
  function* gen(): Generator<DatasetItem> {
    yield { image: buffers[2], label: 'red' };
    yield { image: buffers[3], label: 'green' };
  }
  async function* agen(): AsyncGenerator<DatasetItem> {
    yield { image: red, label: 'red' };
    yield { image: buffers[3], label: 'green' };
  }
  const dm = await ImageClassificationData.fromDatasets({ trainDataset: array, valDataset: gen(), testDataset: agen(), imageSize: 8 });
  assert.deepEqual(dm.labels, ['green', 'red']);
  assert.equal(dm.train.size, 5);
  assert.deepEqual(dm.train.ids, ['#0', '#1', '#2', '#3', flat.files[0].file]);
  assert.deepEqual(Array.from(dm.train.labels), [1, 0, 1, 0, 0]);
  assert.deepEqual([dm.val?.size, dm.test?.size], [2, 2]);
  // The tensors were resized and read as pixels; the caller's tensors are untouched and nothing leaks.
  assert.deepEqual(Array.from((await dm.train.pixels(2)).slice(0, 3)), [220, 20, 20]);
  assert.deepEqual(Array.from((await dm.train.pixels(3)).slice(0, 3)), [20, 200, 20]);
  assert.equal(red.isDisposed, false);
  tf.dispose([red, green]);
  assert.equal(tf.memory().numTensors, start);

  // Numeric labels: with names, or '0', '1', ….
  const numeric = [
    { image: buffers[0], label: 0 },
    { image: buffers[1], label: 2 },
  ];
  const named = await ImageClassificationData.fromDatasets({ trainDataset: numeric, labels: ['a', 'b', 'c'], imageSize: 8, valSplit: 0 });
  assert.deepEqual(named.labels, ['a', 'b', 'c']);
  assert.deepEqual(Array.from(named.train.labels), [0, 2]);
  const plain = await ImageClassificationData.fromDatasets({ trainDataset: numeric, imageSize: 8, valSplit: 0 });
  assert.deepEqual(plain.labels, ['0', '1', '2']);
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: numeric, valDataset: [{ image: buffers[0], label: 3 }], imageSize: 8 }),
    'valDataset item 0: label 3 is out of range for 3 classes (0–2)',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: [{ image: 5 as unknown as Buffer, label: 'a' }], imageSize: 8 }),
    'trainDataset item 0: image must be a file path, a Buffer or a tf.Tensor3D',
  );
  await rejectsWith(ImageClassificationData.fromDatasets({ trainDataset: [], imageSize: 8 }), 'trainDataset is empty');
  // A corrupt Buffer is skipped and named by its index.
  const w = warnings();
  const skipped = await ImageClassificationData.fromDatasets({
    trainDataset: [...array.slice(0, 2), { image: Buffer.from('junk'), label: 'red' }],
    imageSize: 8,
    valSplit: 0,
    onWarning: w.onWarning,
  });
  assert.equal(skipped.train.size, 2);
  assert.deepEqual(skipped.skipped.map((s) => s.file), ['#2']);
  assert.match(w.list[0], /^skipping '#2': not a supported image/);
});

test('batches: every sample exactly once per epoch, shuffle differs by epoch and is reproducible by seed', async () => {
  const dm = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 10, valSplit: 0, batchSize: 7 });
  const train = dm.train;
  const sorted = [...train.ids].sort();
  const plain = await readEpoch(train, { batchSize: 7, augment: false });
  assert.deepEqual(plain.ids, train.ids, 'no shuffle: split order');
  assert.deepEqual(plain.shapes, [[7, 10, 10, 3], [7, 10, 10, 3], [7, 10, 10, 3], [7, 10, 10, 3], [2, 10, 10, 3]]);
  assert.deepEqual(plain.labels, Array.from(train.labels));
  const e0 = await readEpoch(train, { batchSize: 7, shuffle: true, seed: 1, epoch: 0 });
  const e1 = await readEpoch(train, { batchSize: 7, shuffle: true, seed: 1, epoch: 1 });
  const e0again = await readEpoch(train, { batchSize: 7, shuffle: true, seed: 1, epoch: 0 });
  const otherSeed = await readEpoch(train, { batchSize: 7, shuffle: true, seed: 2, epoch: 0 });
  for (const e of [e0, e1, otherSeed]) {
    assert.deepEqual([...e.ids].sort(), sorted, 'each sample exactly once');
    e.ids.forEach((id, i) => assert.equal(e.labels[i], train.labels[train.ids.indexOf(id)]));
  }
  assert.notDeepEqual(e0.ids, plain.ids);
  assert.notDeepEqual(e0.ids, e1.ids);
  assert.notDeepEqual(e0.ids, otherSeed.ids);
  assert.deepEqual(e0.ids, e0again.ids);
  assert.deepEqual(e0.xs, e0again.xs);
  // Raw 0–255 pixels, equal to the cached ones when not augmented.
  const first = await train.pixels(0);
  assert.deepEqual(Array.from(plain.xs[0].subarray(0, first.length)), Array.from(first));
  assert.ok(plain.xs.every((x) => x.every((v) => v >= 0 && v <= 255 && Number.isInteger(v))));
  // The split's default batch size is the data module's.
  assert.equal((await readEpoch(train, {})).shapes[0][0], 7);
});

test('augment flips some samples horizontally (seeded) and only on request; val is not augmented by default', async () => {
  const dm = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 10, batchSize: 30, valSplit: 0 });
  const { height: h, width: w, channels: c } = dm.spec;
  const plain = (await readEpoch(dm.train, { augment: false })).xs[0];
  const defaults = (await readEpoch(dm.train, { epoch: 3 })).xs[0]; // train augments by default
  const aug = (await readEpoch(dm.train, { augment: true, epoch: 3 })).xs[0];
  assert.deepEqual(defaults, aug);
  const per = h * w * c;
  let flipped = 0;
  for (let s = 0; s < dm.train.size; s++) {
    const a = plain.subarray(s * per, (s + 1) * per);
    const b = aug.subarray(s * per, (s + 1) * per);
    const same = a.every((v, i) => v === b[i]);
    if (!same) {
      flipped++;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
        assert.equal(b[(y * w + x) * c + k], a[(y * w + (w - 1 - x)) * c + k]);
      }
    }
  }
  assert.ok(flipped > 5 && flipped < 25, `flipped ${flipped} of 30`);
  const noAug = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 10, batchSize: 30, valSplit: 0, augment: false });
  assert.deepEqual((await readEpoch(noAug.train, {})).xs[0], plain);
  const withVal = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 10, batchSize: 30 });
  const v = await readEpoch(withVal.val!, {});
  for (let s = 0; s < withVal.val!.size; s++) {
    assert.deepEqual(Array.from(v.xs[0].subarray(s * per, (s + 1) * per)), Array.from(await withVal.val!.pixels(s)));
  }
});

test('no tensor leaks: numTensors returns to its start after iterating and disposing batches', async () => {
  const dm = await ImageClassificationData.fromFolders({ folder: flat.root, imageSize: 12, batchSize: 4 });
  const start = tf.memory().numTensors;
  for (let epoch = 0; epoch < 3; epoch++) {
    for await (const b of dm.train.batches({ batchSize: 4, shuffle: true, epoch, augment: true })) {
      tf.dispose([b.x, b.y]);
    }
    for await (const b of dm.val!.batches({ batchSize: 4 })) tf.dispose([b.x, b.y]);
    assert.equal(tf.memory().numTensors, start, `epoch ${epoch}`);
  }
  // Breaking out of the loop early leaks nothing beyond the batch in hand.
  for await (const b of dm.train.batches({ batchSize: 4 })) {
    tf.dispose([b.x, b.y]);
    break;
  }
  assert.equal(tf.memory().numTensors, start);
});

test('class folder names are compared in Unicode NFC (a decomposed é on disk matches a composed one)', async () => {
  const root = path.join(tmp, 'nfd');
  const nfd = 'carre\u0301 vert';
  await fs.cp(path.join(split.trainDir, 'carré vert'), path.join(root, 'train', nfd), { recursive: true });
  await fs.cp(path.join(split.trainDir, 'circle'), path.join(root, 'train', 'circle'), { recursive: true });
  await fs.cp(path.join(split.valDir!, 'carré vert'), path.join(root, 'val', 'carré vert'), { recursive: true });
  const dm = await ImageClassificationData.fromFolders({ folder: root, imageSize: 8 });
  assert.deepEqual(dm.labels, ['carré vert', 'circle']);
  assert.equal(dm.labels[0], 'carr\u00e9 vert');
  assert.deepEqual(Array.from(dm.val!.labels), [0, 0]);
  assert.equal(dm.valSplit, 0);
});

test('decodeFiles decodes for predict/evaluate, keeping order and labels, skipping undecodable files', async () => {
  const bad = await writeGarbageImage(path.join(tmp, 'decode-files', 'bad.png'));
  const files = [flat.files[0].file, bad, flat.files[1].file];
  const w = warnings();
  const spec = { height: 6, width: 5, channels: 3 as const };
  const out = await decodeFiles([files[0], { file: bad, label: 1 }, { file: files[2], label: 2 }], spec, { onWarning: w.onWarning });
  assert.deepEqual(out.items.map((it) => [it.id, it.label, it.pixels.length]), [[files[0], -1, 90], [files[2], 2, 90]]);
  assert.deepEqual(out.skipped.map((s) => s.file), [bad]);
  assert.equal(w.list.length, 1);
  assert.ok(w.list[0].startsWith(`skipping '${bad}': `));
  await rejectsWith(decodeFiles(files, spec, { strict: true }), new RegExp(`^cannot decode image '${escape(bad)}': `));
});
