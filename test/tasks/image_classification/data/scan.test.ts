import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FlashUserError } from '../../../../src/core/errors.js';
import { listImageFiles, scanClassFolders } from '../../../../tasks/image_classification/data/scan.js';
import {
  drawShape,
  makeEmptyClass,
  makeShapeDataset,
  makeTempDir,
  plantBadFiles,
  removeDir,
  SHAPE_LABELS,
  writeTextFile,
} from '../../../helpers/images.js';
import { rejectsWith } from '../../../helpers/assertions.js';

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(() => removeDir(tmp));

/** Asserts a FlashUserError whose one-line message matches. */

test('scanClassFolders: labels sorted (space and non-ASCII names), samples per class, hidden and non-image files', async () => {
  const root = path.join(tmp, 'ok');
  const ds = await makeShapeDataset(root, { perClass: 4 });
  const bad = await plantBadFiles(path.join(root, 'circle'));
  const topText = await writeTextFile(root, 'README.md');
  await fs.mkdir(path.join(root, '.git', 'objects'), { recursive: true });
  // Images in nested folders of a class count for that class.
  await fs.mkdir(path.join(root, 'circle', 'more'), { recursive: true });
  const nested = path.join(root, 'circle', 'more', 'extra.png');
  await fs.writeFile(nested, await drawShape({ shape: 'circle' }));

  const scan = await scanClassFolders(root);
  assert.deepEqual(scan.labels, ['blue triangle', 'carré vert', 'circle']);
  assert.deepEqual(scan.labels, SHAPE_LABELS);
  const perClass = [0, 1, 2].map((l) => scan.samples.filter((s) => s.label === l).length);
  // circle: 4 drawn + the truncated jpg (an image by name; decoding reports it) + the nested one.
  assert.deepEqual(perClass, [4, 4, 6]);
  for (const f of ds.files) {
    const s = scan.samples.find((x) => x.file === f.file);
    assert.ok(s, `missing ${f.file}`);
    assert.equal(scan.labels[s.label], f.label);
  }
  assert.ok(scan.samples.some((s) => s.file === nested));
  assert.ok(scan.samples.some((s) => s.file === bad.truncated));
  assert.ok(!scan.samples.some((s) => s.file.includes('.thumbnails') || s.file.includes('.DS_Store')));
  assert.deepEqual([...scan.ignored].sort(), [bad.text, topText].sort());
  // Deterministic order: labels ascending, files sorted within a class.
  assert.deepEqual(scan, await scanClassFolders(root));
});

test('listImageFiles lists images recursively and sorted, skipping hidden and non-image files', async () => {
  const root = path.join(tmp, 'predict');
  for (const name of ['b.png', 'a.jpg', 'sub/c.webp']) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), await drawShape({ shape: 'square', format: name.endsWith('jpg') ? 'jpg' : 'png' }));
  }
  await writeTextFile(root);
  await fs.writeFile(path.join(root, '.hidden.png'), 'x');
  const files = await listImageFiles(root);
  assert.deepEqual(files, ['a.jpg', 'b.png', 'sub/c.webp'].map((f) => path.join(root, f)));
  const empty = path.join(tmp, 'empty-predict');
  await fs.mkdir(empty);
  await writeTextFile(empty);
  await rejectsWith(listImageFiles(empty), new RegExp(`^no images in '${empty}'`));
});

test('bad folders: each error is one line naming the path', async () => {
  const missing = path.join(tmp, 'nope');
  await rejectsWith(scanClassFolders(missing), `folder '${missing}' does not exist`);
  await rejectsWith(listImageFiles(missing), `folder '${missing}' does not exist`);

  const file = await writeTextFile(tmp, 'file.txt');
  await rejectsWith(scanClassFolders(file), `'${file}' is not a folder`);

  const bare = path.join(tmp, 'bare');
  await fs.mkdir(bare);
  await fs.writeFile(path.join(bare, '.DS_Store'), 'x');
  await rejectsWith(scanClassFolders(bare), new RegExp(`^no images in '${bare}': expected class sub-folders`));

  const loose = path.join(tmp, 'loose');
  await fs.mkdir(loose);
  await fs.writeFile(path.join(loose, 'a.png'), await drawShape({ shape: 'circle' }));
  await rejectsWith(scanClassFolders(loose), new RegExp(`^no class sub-folders in '${loose}': found 1 image\\(s\\) directly in it`));

  const withEmpty = path.join(tmp, 'with-empty');
  await makeShapeDataset(withEmpty, { perClass: 2 });
  const emptyClass = await makeEmptyClass(withEmpty, 'cat');
  await writeTextFile(emptyClass);
  await rejectsWith(scanClassFolders(withEmpty, { strict: true }), new RegExp(`^class folder '${path.join(withEmpty, 'cat')}' has no images \\(strict`));
  // Not strict: the other classes still make a dataset; the empty one is left out with a warning naming it.
  const warnings: string[] = [];
  const kept = await scanClassFolders(withEmpty, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(kept.labels, SHAPE_LABELS);
  assert.equal(kept.samples.length, 6);
  assert.deepEqual(warnings, [`class folder '${path.join(withEmpty, 'cat')}' has no images; that class is left out`]);

  const allEmpty = path.join(tmp, 'all-empty');
  await makeEmptyClass(allEmpty, 'cat');
  await makeEmptyClass(allEmpty, 'dog');
  await rejectsWith(scanClassFolders(allEmpty), new RegExp(`^no images in '${allEmpty}': its class folders \\(cat, dog\\)`));
});

test('symlinks: a loop is followed once and named in one warning; a folder linked twice is read once', async () => {
  const root = path.join(tmp, 'links');
  await makeShapeDataset(root, { perClass: 3, formats: ['png'] });
  await fs.symlink('..', path.join(root, 'circle', 'loop'));
  await fs.symlink(path.join(root, 'circle'), path.join(root, 'circle', 'self'));
  // A class folder that is a link to images elsewhere is followed (once).
  const elsewhere = path.join(tmp, 'elsewhere');
  await fs.mkdir(path.join(elsewhere, 'inner'), { recursive: true });
  await fs.writeFile(path.join(elsewhere, 'inner', 'e.png'), await drawShape({ shape: 'circle' }));
  await fs.symlink(elsewhere, path.join(root, 'linked'));
  await fs.symlink(path.join(elsewhere, 'inner'), path.join(elsewhere, 'inner-again'));
  const warnings: string[] = [];
  const scan = await scanClassFolders(root, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(scan.labels, [...SHAPE_LABELS.slice(0, 2), 'circle', 'linked'].sort((a, b) => a.localeCompare(b, 'en')));
  assert.equal(scan.samples.length, 3 * 3 + 1, 'every real image exactly once');
  assert.equal(new Set(scan.samples.map((s) => s.file)).size, scan.samples.length);
  assert.ok(warnings.some((w) => w.startsWith(`symlink loop: '${path.join(root, 'circle', 'loop')}' leads back to '${root}'`)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.startsWith(`symlink loop: '${path.join(root, 'circle', 'self')}'`)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes(path.join(root, 'linked', 'inner-again')) && /same folder/.test(w)), warnings.join('\n'));
  assert.equal(warnings.length, 3, warnings.join('\n'));
  // listImageFiles (predict folders) ends the loop too.
  const listed = await listImageFiles(root, { onWarning: () => undefined });
  assert.equal(listed.length, 3 * 3 + 1);
});
