/**
 * `flash export` end to end: train a tiny model with the real binary, export it, open the exported index.html in
 * headless Chromium over loopback, classify images through the page, and compare with `flash predict`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, SHAPE_CLASSES } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';
import { skipWithoutChromium, withServedFolder } from '../helpers/browser.js';

let dir: string;
const probes: string[] = [];

before(async () => {
  dir = await makeTempDir('flash-export-');
  await makeShapeDataset(join(dir, 'shapes'), { perClass: 24, seed: 11, formats: ['png', 'jpg'] });
  await mkdir(join(dir, 'probe'), { recursive: true });
  for (const [ci, cls] of SHAPE_CLASSES.entries()) {
    const file = join(dir, 'probe', `${ci}.png`);
    await writeFile(file, await drawShape({ shape: cls.shape, width: 24, height: 24, format: 'png', mode: 'rgb' }));
    probes.push(file);
  }
});

after(async () => {
  await removeDir(dir);
});

test('flash export writes a web folder whose page gives the same top-1 as flash predict', { timeout: 240_000 }, async (t) => {
  const train = await runFlash(['image_classification', '--from_folders', 'shapes', '--max_epochs', '6', '--image_size', '24', '--output_dir', 'run'], { cwd: dir });
  assert.equal(train.code, 0, train.stderr);
  const exp = await runFlash(['export', '--model', 'run', '--out', 'web'], { cwd: dir });
  assert.equal(exp.code, 0, exp.stderr);
  assert.match(exp.stdout, /exported 3-class model to web\/ /);
  assert.match(exp.stdout, /import \{ loadClassifier \} from '\.\/web\/classifier\.js'/);
  // Out of the working folder: shown as given, and the import is still relative to a page beside the folder.
  await mkdir(join(dir, 'sub'));
  const outside = await runFlash(['export', '--model', '../run', '--out', '../web2'], { cwd: join(dir, 'sub') });
  assert.equal(outside.code, 0, outside.stderr);
  assert.match(outside.stdout, /exported 3-class model to \.\.\/web2\/ /);
  assert.match(outside.stdout, /from '\.\/web2\/classifier\.js'/);
  assert.doesNotMatch(outside.stdout, /\.\/\.\./);
  const files = await readdir(join(dir, 'web'));
  for (const f of ['model.json', 'metadata.json', 'classifier.js', 'index.html', 'tf.min.js']) assert.ok(files.includes(f), f);
  const meta = JSON.parse(await readFile(join(dir, 'web', 'metadata.json'), 'utf8'));
  assert.deepEqual(meta.input, { height: 24, width: 24, channels: 3, range: [0, 255], layout: 'NHWC' });
  assert.doesNotMatch(await readFile(join(dir, 'web', 'index.html'), 'utf8'), /https?:\/\//);

  const pred = await runFlash(['predict', '--model', 'run', '--files', ...probes, '--output', 'p.json'], { cwd: dir });
  assert.equal(pred.code, 0, pred.stderr);
  const expected = (JSON.parse(await readFile(join(dir, 'p.json'), 'utf8')) as { label: string }[]).map((p) => p.label);

  if (skipWithoutChromium(t, 'the page was not opened')) return;
  await withServedFolder(join(dir, 'web'), async (browser, base) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base + 'index.html');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    for (const [i, file] of probes.entries()) {
      await page.evaluate(() => delete document.body.dataset.top);
      await page.setInputFiles('#file', file);
      await page.waitForSelector('body[data-top]', { timeout: 30_000 });
      const top = await page.evaluate(() => document.body.dataset.top);
      assert.equal(top, expected[i], `page vs flash predict for ${file}`);
      // Every bar is drawn: a visible height, and a width that is its score's share of the track.
      const bars = await page.$$eval('#results li', (items) =>
        items.map((li) => {
          const bar = li.querySelector('.bar')!.getBoundingClientRect();
          const track = li.querySelector('.track')!.getBoundingClientRect();
          return { width: bar.width, height: bar.height, track: track.width, score: Number(li.querySelector('.score')!.textContent) };
        }),
      );
      assert.ok(bars.length >= 2, `${bars.length} bars`);
      assert.ok(bars[0].width > 0 && bars[0].height > 0, `top bar is ${bars[0].width}×${bars[0].height} px`);
      for (const b of bars) {
        assert.ok(b.height >= 8 && b.track > 50, JSON.stringify(b));
        assert.ok(Math.abs(b.width - b.score * b.track) <= 2, JSON.stringify(b));
      }
    }
    assert.deepEqual(errors, []);
  });
});
