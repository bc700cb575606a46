import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ImageClassificationData, readCsvRows, splitLabels } from '../../../../tasks/image_classification/data/index.js';
import { makeTempDir, removeDir } from '../../../helpers/images.js';
import { writeMultiLabelSet, type MultiLabelSet } from '../../../helpers/multi_label.js';
import { rejectsWith } from '../../../helpers/assertions.js';
import { IMAGE_SCHEMA, type ImageRecipe } from '../../../../tasks/image_classification/schema.js';

let tmp: string;
let set: MultiLabelSet;
before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir('flash-csv-ml-');
  set = await writeMultiLabelSet(tmp, 'imgs', 14);
});
after(() => removeDir(tmp));

async function write(name: string, text: string): Promise<string> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, text);
  return file;
}

test('several target columns: one 0/1 column per label, named by the column; all-zero rows are valid', async () => {
  const file = await write('cols.csv', 'image,dog,cat,bird\na.png,1,0,1\nb.png,0,0,0\nc.png, true ,no,0\n');
  const rows = await readCsvRows(file, { inputField: 'image', targetFields: ['dog', 'cat', 'bird'] });
  assert.deepEqual(rows.map((r) => r.targets), [['dog', 'bird'], [], ['dog']]);
  assert.equal(rows[0].target, undefined);
  const bad = await write('cols_bad.csv', 'image,dog,cat\na.png,1,0\nb.png,2,0\n');
  await rejectsWith(readCsvRows(bad, { inputField: 'image', targetFields: ['dog', 'cat'] }), /cols_bad\.csv' line 3: column dog holds '2'; each target column is one label, 1 \(has it\) or 0 \(has not\)$/);
  await rejectsWith(readCsvRows(file, { inputField: 'image', targetFields: ['dog', 'dog'] }), /target_fields names the column 'dog' twice/);
  await rejectsWith(readCsvRows(file, { inputField: 'image', targetFields: ['dog', 'cow'] }), /target_fields: no column 'cow'/);
});

test("one delimited label column: ';', ',' or '|' (one kind per column), empty = no label; whitespace only when asked", async () => {
  const semi = await write('semi.csv', 'image,tags\na.png,cat;dog\nb.png,\nc.png, dog ; dog\nd.png,golden retriever\n');
  const rows = await readCsvRows(semi, { inputField: 'image', targetFields: ['tags'] });
  assert.deepEqual(rows.map((r) => r.targets), [['cat', 'dog'], [], ['dog'], ['golden retriever']]);
  const pipe = await write('pipe.csv', 'image,tags\na.png,cat|dog\n');
  assert.deepEqual((await readCsvRows(pipe, { inputField: 'image', targetFields: ['tags'] }))[0].targets, ['cat', 'dog']);
  // Spaces separate labels only with multi_label true (fastai's Planet CSVs): 'blue triangle' stays one class otherwise.
  const spaced = await write('spaced.csv', 'image,tags\na.png,haze  primary\nb.png,clear\n');
  assert.deepEqual((await readCsvRows(spaced, { inputField: 'image', targetFields: ['tags'] })).map((r) => r.target), ['haze  primary', 'clear']);
  assert.deepEqual((await readCsvRows(spaced, { inputField: 'image', targetFields: ['tags'], multiLabel: true })).map((r) => r.targets), [['haze', 'primary'], ['clear']]);
  assert.deepEqual(splitLabels(' a ; b ;; a ', ';'), ['a', 'b']);
});

test('two separators in one column are refused, naming both lines', async () => {
  const mixed = await write('mixed2.csv', 'image,tags\na.png,cat;dog\nb.png,"cat,dog"\n');
  await rejectsWith(readCsvRows(mixed, { inputField: 'image', targetFields: ['tags'] }), /mixed2\.csv' line 3: labels separated by ',', but line 2 uses ';'; use one separator in the column$/);
});

test('planCsv: labels are the sorted union; val CSVs use the train CSV delimiter; unknown val labels are named', async () => {
  const plan = await ImageClassificationData.planCsv({ trainFile: set.tagsCsv, inputField: 'image', targetFields: ['tags'] });
  assert.equal(plan.multiLabel, true);
  assert.deepEqual(plan.labels, ['circle', 'square', 'triangle']);
  assert.deepEqual(plan.train.slice(0, 6).map((s) => s.targets), [[], [0], [1], [2], [0, 1], [0, 2]]);
  assert.deepEqual(plan.train.slice(0, 2).map((s) => s.label), [-1, 0]);
  const cols = await ImageClassificationData.planCsv({ trainFile: set.columnsCsv, inputField: 'image', targetFields: ['triangle', 'square', 'circle'] });
  assert.deepEqual(cols.labels, ['circle', 'square', 'triangle']);
  assert.deepEqual(cols.train.map((s) => s.targets), plan.train.map((s) => s.targets));

  const val = await write('val_ml.csv', `image,tags\n${set.rows[4].file},square\n${set.rows[5].file},circle;triangle\n`);
  const withVal = await ImageClassificationData.planCsv({ trainFile: set.tagsCsv, valFile: val, inputField: 'image', targetFields: ['tags'] });
  assert.deepEqual(withVal.val!.map((s) => s.targets), [[1], [0, 2]]);
  const badVal = await write('val_bad.csv', `image,tags\n${set.rows[4].file},squar;circle\n`);
  await rejectsWith(
    ImageClassificationData.planCsv({ trainFile: set.tagsCsv, valFile: badVal, inputField: 'image', targetFields: ['tags'] }),
    /val_bad\.csv' line 2: label 'squar' is not one of the labels in '.*imgs_tags\.csv' \(did you mean 'square'\?\)/,
  );
  const single = await write('single.csv', `image,label\n${set.rows[1].file},circle\n${set.rows[2].file},square\n`);
  const listedVal = await write('val_listed.csv', `image,label\n${set.rows[4].file},square\n${set.rows[5].file},circle;square\n`);
  await rejectsWith(
    ImageClassificationData.planCsv({ trainFile: single, valFile: listedVal, inputField: 'image', targetFields: ['label'] }),
    /val_listed\.csv' line 3: several labels in one row, but '.*single\.csv' has one label per row/,
  );
  await rejectsWith(
    ImageClassificationData.planCsv({ trainFile: set.tagsCsv, inputField: 'image', targetFields: ['tags'], multiLabel: false }),
    /line 6: the label looks like several labels separated by ';', but --model.multi_label is false/,
  );
});

for (const cache of ['memory', 'none'] as const) {
  test(`fromCsv multi-label (cache ${cache}): multi-hot batches through the val split and shuffling; counts per label; balanced sampler refused`, async () => {
    const data = await ImageClassificationData.fromCsv({ trainFile: set.columnsCsv, inputField: 'image', targetFields: ['circle', 'square', 'triangle'], imageSize: 8, valSplit: 0.3, batchSize: 4, cache });
    assert.equal(data.cache.mode, cache);
    assert.equal(data.multiLabel, true);
    assert.equal(data.train.size + data.val!.size, 14);
    assert.ok(data.val!.size >= 3);
    const truth = new Map(set.rows.map((r) => [path.join(tmp, r.file), ['circle', 'square', 'triangle'].map((l) => (r.labels.includes(l as never) ? 1 : 0))]));
    for (const split of [data.train, data.val!]) {
      let seen = 0;
      for await (const b of split.batches({ shuffle: true, epoch: 3 })) {
        assert.deepEqual(b.y.shape, [b.ids.length, 3]);
        assert.equal(b.y.dtype, 'float32');
        const rows = (await b.y.array()) as number[][];
        b.ids.forEach((id, i) => assert.deepEqual(rows[i], truth.get(id), id));
        seen += b.ids.length;
        tf.dispose([b.x, b.y]);
      }
      assert.equal(seen, split.size);
    }
    const counts = data.train.classCounts(3);
    const expected = [0, 1, 2].map((c) => data.train.ids.filter((id) => truth.get(id)![c] === 1).length);
    assert.deepEqual(counts, expected);
    assert.match(data.summary(), /3 labels \(multi-label/);
    await rejectsWith(
      ImageClassificationData.fromCsv({ trainFile: set.columnsCsv, inputField: 'image', targetFields: ['circle', 'square', 'triangle'], imageSize: 8, sampler: 'balanced' }),
      /--data.sampler balanced draws by class and multi-label images have several/,
    );
  });
}

test('from_files: lists of labels per file (TypeScript), or separated targets on the command line', async () => {
  const { builders } = await import('../../../../tasks/image_classification/builders.js');
  const files = set.rows.slice(0, 6).map((r) => path.join(tmp, r.file));
  const plan = await ImageClassificationData.planFiles({ trainFiles: files, trainTargets: set.rows.slice(0, 6).map((r) => r.labels) });
  assert.equal(plan.multiLabel, true);
  assert.deepEqual(plan.labels, ['circle', 'square', 'triangle']);
  assert.deepEqual(plan.train.map((s) => s.targets), [[], [0], [1], [2], [0, 1], [0, 2]]);
  await rejectsWith(
    ImageClassificationData.planFiles({ trainFiles: files.slice(0, 2), trainTargets: ['a', 'b'], valFiles: files.slice(0, 1), valTargets: [['a', 'b']] }),
    /val_targets gives a list of labels for '.*', but train_targets has one class per file/,
  );
  const defaults = Object.fromEntries(Object.entries(IMAGE_SCHEMA.data).map(([k, spec]) => [k, spec.default])) as never as ImageRecipe['data'];
  const d = { ...defaults, builder: 'from_files', train_files: files.slice(0, 4), train_targets: [';', 'circle', 'square;triangle', 'triangle'] };
  const cli = await builders.get('from_files').plan(d, {}, tmp);
  assert.deepEqual(cli.train.map((s) => s.targets), [[], [0], [1, 2], [2]]);
  await rejectsWith(builders.get('from_files').plan({ ...d, train_targets: ['a;b', 'a|b', 'a', 'b'] }, {}, tmp), /^train_targets item 2: labels separated by '\|', but item 1 uses ';'/);
  const plain = await builders.get('from_files').plan({ ...d, train_targets: ['a', 'b', 'a', 'b'] }, {}, tmp);
  assert.equal(plain.multiLabel, undefined);
});
