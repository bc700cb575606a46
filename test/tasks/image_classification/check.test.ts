import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { briefCheck, briefCheckLines, checkDataset, checkReportText } from '../../../tasks/image_classification/check.js';
import { resolveRecipe } from '../../../src/core/config/index.js';
import { ImageClassificationData } from '../../../tasks/image_classification/data/index.js';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, writeTextFile, writeTruncatedJpeg, type ShapeDataset } from '../../helpers/images.js';
import { resolveImageRecipe } from '../../../tasks/image_classification/schema.js';

let tmp: string;
let split: ShapeDataset;
let planted: { cross: [string, string]; within: [string, string]; truncated: string; text: string; tiny: string };

before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir('flash-check-');
  split = await makeShapeDataset(path.join(tmp, 'split'), { perClass: 10, seed: 5, layout: 'split', formats: ['png', 'jpg'] });
  const train = split.files.filter((f) => f.split === 'train');
  const circleTrain = train.filter((f) => f.label === 'circle');
  // A train image copied into val (leak), and one copied inside train under another name.
  const crossCopy = path.join(split.valDir!, 'circle', 'copy_of_train.png');
  await fs.copyFile(circleTrain[0].file, crossCopy);
  const withinCopy = path.join(split.trainDir, 'circle', 'again.png');
  await fs.copyFile(circleTrain[1].file, withinCopy);
  const truncated = await writeTruncatedJpeg(path.join(split.trainDir, 'circle', 'truncated.jpg'));
  const text = await writeTextFile(path.join(split.trainDir, 'circle'));
  const tiny = path.join(split.trainDir, 'tiny');
  await fs.mkdir(tiny);
  await fs.writeFile(path.join(tiny, 'a.png'), await drawShape({ shape: 'circle', width: 20, height: 90 }));
  await fs.writeFile(path.join(tiny, 'b.png'), await drawShape({ shape: 'square', width: 100, height: 16, mode: 'gray' }));
  planted = { cross: [circleTrain[0].file, crossCopy], within: [circleTrain[1].file, withinCopy], truncated, text, tiny };
});
after(() => removeDir(tmp));

test('checkDataset reports counts, undecodable, ignored, duplicates, small classes, sizes and imbalance', async () => {
  const plan = await ImageClassificationData.planFolders({ folder: split.root });
  const r = await checkDataset(plan);
  assert.equal(r.ok, true, r.problems.join('; '));
  assert.deepEqual(r.classes, ['blue triangle', 'carré vert', 'circle', 'tiny']);
  assert.deepEqual(r.splits.map((s) => [s.name, s.source, s.total]), [['train', 'given', 6 + 6 + 7 + 2], ['val', 'given', 7], ['test', 'given', 6]]);
  assert.deepEqual(r.splits[0].counts, { 'blue triangle': 6, 'carré vert': 6, circle: 7, tiny: 2 });
  assert.deepEqual(r.splits[1].counts, { 'blue triangle': 2, 'carré vert': 2, circle: 3, tiny: 0 });

  assert.equal(r.undecodable.length, 1);
  assert.equal(r.undecodable[0].file, planted.truncated);
  assert.equal(r.undecodable[0].split, 'train');
  assert.match(r.undecodable[0].reason, /JPEG|truncat|premature|corrupt/i);
  assert.deepEqual(r.ignored, [planted.text]);

  assert.equal(r.duplicates.acrossSplits.length, 1);
  assert.deepEqual(r.duplicates.acrossSplits[0].files.map((f) => [f.file, f.split]).sort(), [[planted.cross[0], 'train'], [planted.cross[1], 'val']].sort());
  assert.equal(r.duplicates.acrossSplits[0].conflictingLabels, false);
  assert.match(r.duplicates.acrossSplits[0].sha256, /^[0-9a-f]{64}$/);
  assert.equal(r.duplicates.withinSplit.length, 1);
  assert.deepEqual(r.duplicates.withinSplit[0].files.map((f) => f.file).sort(), [...planted.within].sort());

  assert.deepEqual(r.smallClasses, [{ label: 'tiny', count: 2 }]);
  assert.deepEqual(r.imbalance, { largest: { label: 'circle', count: 7 }, smallest: { label: 'tiny', count: 2 }, ratio: 3.5 });
  assert.equal(r.images.count, 21 + 7 + 6);
  assert.equal(r.images.width!.min, 20);
  assert.equal(r.images.width!.max, 100);
  assert.equal(r.images.height!.min, 16);
  assert.equal(r.images.height!.max, 90);
  assert.ok(r.images.width!.median >= 28 && r.images.width!.median <= 72);
  assert.ok((r.images.channels['1'] ?? 0) >= 1, JSON.stringify(r.images.channels));
  assert.deepEqual(Object.keys(r.images.formats).sort(), ['jpg', 'png']);
  for (const w of [/1 image cannot be decoded/, /1 non-image file ignored/, /more than one of train\/val\/test/, /1 duplicate copy/, /fewer than 5 train images: tiny \(2\)/, /imbalance 3\.5x/]) {
    assert.ok(r.warnings.some((x) => w.test(x)), `no warning ${w}: ${r.warnings.join(' | ')}`);
  }
  // The report is plain data.
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);

  const text = checkReportText(r, (f) => path.relative(split.root, f));
  for (const s of ['class', 'tiny', path.join('train', 'circle', 'truncated.jpg'), path.join('train', 'circle', 'notes.txt'), path.join('val', 'circle', 'copy_of_train.png'), 'check passed']) {
    assert.ok(text.includes(s), `text lacks ${s}:\n${text}`);
  }
  assert.match(text, /^\s+circle\s+7\s+3\s+2$/m);
  const brief = briefCheckLines(r);
  assert.match(brief[0], /^check: 4 classes · train 21 · val 7 · test 6 · \d+ finding/);
});

test('checkDataset reports the val split training would hold out, the same one ImageClassificationData takes', async () => {
  const flat = await makeShapeDataset(path.join(tmp, 'flat'), { perClass: 8, seed: 9, formats: ['png'] });
  const plan = await ImageClassificationData.planFolders({ folder: flat.root });
  const r = await checkDataset(plan, { valSplit: 0.25, seed: 7 });
  const data = await ImageClassificationData.fromFolders({ folder: flat.root, valSplit: 0.25, seed: 7, imageSize: 8 });
  assert.deepEqual(r.splits.map((s) => [s.name, s.source, s.total]), [['train', 'given', data.train.size], ['val', 'split', data.val!.size]]);
  assert.deepEqual(Object.values(r.splits[1].counts), [2, 2, 2]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.imbalance!.ratio, 1);
  assert.match(checkReportText(r), /val 6 \(held out of train\)/);
});

test('one class, or a split whose images all fail to decode, fails the check', async () => {
  const one = path.join(tmp, 'one');
  await fs.mkdir(path.join(one, 'cat'), { recursive: true });
  await fs.writeFile(path.join(one, 'cat', 'a.png'), await drawShape({ shape: 'circle' }));
  let r = await checkDataset(await ImageClassificationData.planFolders({ folder: one }));
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems, [`only 1 class (cat) in '${one}': a classifier needs at least 2`]);
  assert.match(checkReportText(r), /check failed: 1 problem/);

  const bad = path.join(tmp, 'badval');
  for (const c of ['a', 'b']) {
    await fs.mkdir(path.join(bad, 'train', c), { recursive: true });
    await fs.writeFile(path.join(bad, 'train', c, '1.png'), await drawShape({ shape: 'circle' }));
    await writeTruncatedJpeg(path.join(bad, 'val', c, 'broken.jpg'));
  }
  r = await checkDataset(await ImageClassificationData.planFolders({ folder: bad }));
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems, ['the val split is empty (none of its 2 image(s) can be decoded)']);
  assert.equal(r.undecodable.length, 2);
});

test('duplicates with different labels are flagged; in-memory buffers and tensors are checked too', async () => {
  const png = await drawShape({ shape: 'square', width: 30, height: 40 });
  const other = await drawShape({ shape: 'circle', width: 30, height: 40 });
  const t = tf.zeros([5, 6, 3]) as tf.Tensor3D;
  const plan = {
    labels: ['x', 'y'],
    train: [
      { id: '#0', source: png, label: 0 },
      { id: '#1', source: Buffer.from(png), label: 1 },
      { id: '#2', source: other, label: 1 },
      { id: '#3', source: t, label: 0 },
    ],
    predictFiles: [],
    ignored: [],
    origin: 'trainDataset',
  };
  const r = await checkDataset(plan, { valSplit: 0 });
  t.dispose();
  assert.equal(r.duplicates.withinSplit.length, 1);
  assert.equal(r.duplicates.withinSplit[0].conflictingLabels, true);
  assert.ok(r.warnings.some((w) => /1 image carries different labels/.test(w)));
  assert.deepEqual(r.images.width, { min: 6, median: 30, max: 30 });
  assert.deepEqual(r.splits.map((s) => s.name), ['train']);
});

test('briefCheck (start of a run): only hashes, says one line per finding, never fails the run itself', async () => {
  const recipeFor = (folder: string) => resolveImageRecipe({ task: 'image_classification', overrides: { data: { folder } } });
  const io = { out: () => {}, err: () => {}, isTTY: false, cwd: tmp, env: {} };
  const lines: string[] = [];
  const r = await briefCheck(recipeFor(split.root), io, (l) => lines.push(l));
  assert.ok(r);
  assert.equal(r.images.count, 0, 'headers are not read');
  assert.deepEqual(r.undecodable, [], 'decoding is left to the data module');
  assert.equal(r.duplicates.acrossSplits.length, 1);
  assert.match(lines[0], /^check: 4 classes · train 22 · val 7 · test 6 · \d+ finding\(s\); details: --check$/);
  assert.ok(lines.some((l) => /^check: warning: 1 image appears in more than one of train\/val\/test/.test(l)), lines.join('\n'));
  lines.length = 0;
  assert.equal(await briefCheck(recipeFor(path.join(tmp, 'no such folder')), io, (l) => lines.push(l)), undefined);
  assert.deepEqual(lines, []);
});
