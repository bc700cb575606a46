/** `--check` for text data: counts, duplicates (also across splits), lengths, over max_length, unreadable files. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultRecipe, type DeepPartial, type Recipe } from '../../../src/core/config/index.js';
import { checkText, checkTextData } from '../../../tasks/text_classification/check.js';
import { TEXT_SCHEMA, type TextRecipe } from '../../../tasks/text_classification/schema.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { writeCsv } from '../../helpers/texts.js';

let dir: string;
before(async () => (dir = await makeTempDir('flash-text-check-')));
after(() => removeDir(dir));

const recipe = (data: Partial<TextRecipe['data']>) => defaultRecipe(TEXT_SCHEMA, 'text_classification', { data } as DeepPartial<Recipe>) as TextRecipe;

test('counts rows, empty texts, duplicates, near-duplicates, leakage into val, lengths and texts over max_length', async () => {
  await writeCsv(join(dir, 'train.csv'), [
    { text: 'good film', label: 'pos' },
    { text: 'good film', label: 'pos' },
    { text: 'Good, film!', label: 'pos' },
    { text: 'bad film', label: 'neg' },
    { text: 'a b c d e f', label: 'neg' },
    { text: '', label: 'neg' },
  ]);
  await writeCsv(join(dir, 'val.csv'), [{ text: 'GOOD film', label: 'pos' }, { text: 'awful', label: 'neg' }]);
  const r = await checkTextData(recipe({ train_file: 'train.csv', val_file: 'val.csv', max_length: 4 }), dir);
  assert.equal(r.ok, true, r.problems.join('\n'));
  assert.deepEqual(
    { rows: r.splits.train.rows, empty: r.splits.train.empty, dup: r.splits.train.duplicates, near: r.splits.train.near_duplicates, over: r.splits.train.over_max_length },
    { rows: 6, empty: 1, dup: 1, near: 1, over: 1 },
  );
  assert.deepEqual(r.splits.train.labels, { pos: 3, neg: 2 });
  assert.equal(r.splits.val.in_train, 1);
  assert.deepEqual(r.splits.train.words, { min: 2, median: 2, p95: 4, max: 4 });
  assert.match(checkText(r), /val: 1 text\(s\) also in train \(leakage/);
});

test('one class, or a file that is not UTF-8, fails the check with the message training would give', async () => {
  await writeCsv(join(dir, 'one.csv'), [{ text: 'a', label: 'x' }, { text: 'b', label: 'x' }]);
  const one = await checkTextData(recipe({ train_file: 'one.csv' }), dir);
  assert.equal(one.ok, false);
  assert.match(one.problems[0], /train: 1 class\(es\) \(x\); a classifier needs at least two/);
  await writeFile(join(dir, 'latin1.csv'), Buffer.from([0x74, 0x65, 0x78, 0x74, 0x2c, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x0a, 0xe9, 0x2c, 0x61, 0x0a]));
  const bad = await checkTextData(recipe({ train_file: 'latin1.csv' }), dir);
  assert.equal(bad.ok, false);
  assert.match(bad.problems[0], /'.*latin1\.csv' is not UTF-8 text \(line 2\)/);
});
