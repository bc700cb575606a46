import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ImageClassificationData, readCsvRows } from '../../../../tasks/image_classification/data/index.js';
import { builders } from '../../../../tasks/image_classification/builders.js';
import { drawShape, makeTempDir, removeDir } from '../../../helpers/images.js';
import { rejectsWith } from '../../../helpers/assertions.js';
import { IMAGE_SCHEMA, type ImageRecipe } from '../../../../tasks/image_classification/schema.js';

let tmp: string;
before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir('flash-csv-');
  await fs.mkdir(path.join(tmp, 'imgs', 'sub dir'), { recursive: true });
  for (let i = 0; i < 4; i++) {
    await fs.writeFile(path.join(tmp, 'imgs', `c${i}.png`), await drawShape({ shape: 'circle', size: 0.3 + 0.1 * i }));
    await fs.writeFile(path.join(tmp, 'imgs', `s${i}.png`), await drawShape({ shape: 'square', size: 0.3 + 0.1 * i }));
  }
  await fs.writeFile(path.join(tmp, 'imgs', 'sub dir', 'odd, "name".png'), await drawShape({ shape: 'triangle' }));
});
after(() => removeDir(tmp));

async function write(name: string, text: string | Buffer): Promise<string> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, text);
  return file;
}

const opts = { inputField: 'image', targetFields: ['label'] };

test('quoted fields: commas, doubled quotes and line breaks inside quotes', async () => {
  const file = await write('quoted.csv', 'id,image,label\n1,"sub dir/odd, ""name"".png","blue, ""dark"" triangle"\n2,"multi\nline.png",cat\n');
  // A ',' inside a quoted label makes the column a list (multi-label); with multi_label false it is refused.
  await rejectsWith(readCsvRows(file, { ...opts, multiLabel: false }), /line 2: the label looks like several labels separated by ','.*multi_label is false/);
  assert.deepEqual((await readCsvRows(file, opts)).map((r) => r.targets), [['blue', '"dark" triangle'], ['cat']]);
  const ok = await write('quoted_ok.csv', 'id,image,label\n1,"sub dir/odd, ""name"".png","the ""dark"" one"\n2,"multi\nline.png",cat\n3,x.png,dog\n');
  const rows = await readCsvRows(ok, opts);
  assert.deepEqual(rows, [
    { line: 2, input: 'sub dir/odd, "name".png', target: 'the "dark" one' },
    { line: 4, input: 'multi\nline.png', target: 'cat' },
    { line: 5, input: 'x.png', target: 'dog' },
  ]);
});

test('a UTF-8 BOM before the header is dropped (Excel writes one)', async () => {
  const file = await write('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('image,label\na.png,cat\n')]));
  assert.deepEqual(await readCsvRows(file, opts), [{ line: 2, input: 'a.png', target: 'cat' }]);
});

test('CRLF line ends, blank lines and spaces around fields', async () => {
  const file = await write('crlf.csv', 'image , label\r\n a.png , cat \r\n\r\nb.png,dog\r\n');
  assert.deepEqual(await readCsvRows(file, opts), [
    { line: 2, input: 'a.png', target: 'cat' },
    { line: 4, input: 'b.png', target: 'dog' },
  ]);
});

test('class names are NFC; unlabelled (predict) CSVs need only the image column', async () => {
  const file = await write('nfc.csv', 'image,label\na.png,carre\u0301\n');
  assert.equal((await readCsvRows(file, opts))[0].target, 'carré');
  assert.deepEqual(await readCsvRows(file, { inputField: 'image' }), [{ line: 2, input: 'a.png' }]);
});

test('CSV errors are one line naming the file, column and line', async () => {
  await rejectsWith(readCsvRows(path.join(tmp, 'nope.csv'), opts), /^CSV file '.*nope\.csv' does not exist$/);
  const cols = await write('cols.csv', 'path,labels\na.png,cat\n');
  await rejectsWith(readCsvRows(cols, opts), /^input_field: no column 'image' in '.*cols\.csv'; its columns: path, labels$/);
  await rejectsWith(readCsvRows(cols, { inputField: 'path', targetFields: ['label'] }), /^target_fields: no column 'label' in '.*cols\.csv' \(did you mean 'labels'\?\)/);
  await rejectsWith(readCsvRows(cols, { inputField: 'path', targetFields: ['labels', 'path'], multiLabel: false }), /several target fields \(labels, path\) mean multi-label classification, but --model.multi_label is false/);
  await rejectsWith(readCsvRows(cols, { inputField: 'path', targetFields: ['labels', 'path'] }), /line 2: column labels holds 'cat'; each target column is one label, 1 \(has it\) or 0/);
  await rejectsWith(readCsvRows(await write('semi.csv', 'image,label\na.png,cat;dog\n'), { ...opts, multiLabel: false }), /line 2: the label looks like several labels separated by ';'/);
  await rejectsWith(readCsvRows(await write('empty_label.csv', 'image,label\na.png,cat\nb.png,\n'), opts), /line 3: empty label \(the label\)/);
  await rejectsWith(readCsvRows(await write('ragged.csv', 'image,label\na.png,cat,extra\n'), opts), /^cannot parse CSV file '.*ragged\.csv': Invalid Record Length/);
  await rejectsWith(readCsvRows(await write('open.csv', 'image,label\n"a.png,cat\n'), opts), /^cannot parse CSV file '.*open\.csv': Quote Not Closed/);
  await rejectsWith(readCsvRows(await write('dup.csv', 'image,image\na.png,b.png\n'), { inputField: 'image' }), /has two columns named 'image'/);
  await rejectsWith(readCsvRows(await write('empty.csv', ''), opts), /is empty: expected a header row/);
  await rejectsWith(readCsvRows(await write('header.csv', 'image,label\n'), opts), /has a header but no rows/);
});

test('fromCsv: paths relative to the CSV folder or images_root, val CSV, decoded data', async () => {
  const rows = (ids: number[]) => ids.flatMap((i) => [`c${i}.png,circle`, `s${i}.png,square`]).join('\n');
  const train = await write('train.csv', `image,label\n${rows([0, 1, 2])}\n`);
  const val = await write('val.csv', `image,label\n${rows([3])}\n`);
  const data = await ImageClassificationData.fromCsv({ trainFile: train, valFile: val, inputField: 'image', targetFields: ['label'], imagesRoot: path.join(tmp, 'imgs'), imageSize: 8 });
  assert.deepEqual(data.labels, ['circle', 'square']);
  assert.equal(data.train.size, 6);
  assert.equal(data.val!.size, 2);
  assert.equal(data.train.ids[0], path.join(tmp, 'imgs', 'c0.png'));

  // Without images_root, paths are relative to the CSV's folder.
  const nested = await write('nested.csv', `image,label\n${rows([0, 1]).replace(/(\w+\.png)/g, 'imgs/$1')}\n`);
  const plan = await ImageClassificationData.planCsv({ trainFile: nested, inputField: 'image', targetFields: ['label'] });
  assert.equal(plan.train.length, 4);
  assert.equal(plan.origin, `'${nested}'`);

  await rejectsWith(
    ImageClassificationData.planCsv({ trainFile: train, inputField: 'image', targetFields: ['label'] }),
    /train\.csv' line 2: image 'c0\.png' not found \(looked for '.*c0\.png'\)/,
  );
  const badVal = await write('badval.csv', 'image,label\nc3.png,circel\n');
  await rejectsWith(
    ImageClassificationData.planCsv({ trainFile: train, valFile: badVal, inputField: 'image', targetFields: ['label'], imagesRoot: path.join(tmp, 'imgs') }),
    /badval\.csv' line 2: label 'circel' is not one of the labels in '.*train\.csv' \(did you mean 'circle'\?\) \(circle, square\)/,
  );
  const one = await write('one.csv', 'image,label\nc0.png,circle\nc1.png,circle\n');
  await rejectsWith(
    ImageClassificationData.fromCsv({ trainFile: one, inputField: 'image', targetFields: ['label'], imagesRoot: path.join(tmp, 'imgs'), imageSize: 8 }),
    /^found 1 class in the label column of '.*one\.csv' \(circle\); need at least 2$/,
  );
});

test('the from_csv builder reads data.* keys relative to cwd and says which option is missing', async () => {
  await write('b.csv', 'file,y\nimgs/c0.png,circle\nimgs/s0.png,square\nimgs/c1.png,circle\nimgs/s1.png,square\n');
  const defaults = Object.fromEntries(Object.entries(IMAGE_SCHEMA.data).map(([k, spec]) => [k, spec.default])) as unknown as ImageRecipe['data'];
  const d: ImageRecipe['data'] = { ...defaults, builder: 'from_csv', train_file: 'b.csv', input_field: 'file', target_fields: ['y'] };
  const b = builders.get('from_csv');
  assert.ok(b.options.includes('images_root'));
  const plan = await b.plan(d, {}, tmp);
  assert.deepEqual(plan.labels, ['circle', 'square']);
  await rejectsWith(b.plan({ ...d, input_field: null }, {}, tmp), /missing required option '--input_field'/);
  await rejectsWith(b.plan({ ...d, target_fields: ['y', 'file'] }, {}, tmp), /line 2: column y holds 'circle'; each target column is one label/);
  await rejectsWith(b.plan({ ...d, target_fields: ['y', 'file'] }, { multiLabel: false }, tmp), /several target fields \(y, file\) mean multi-label classification, but --model.multi_label is false/);
});
