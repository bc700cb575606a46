/**
 * End-to-end: the real `flash serve` binary and its web page in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core): pick an image with the file input, drop one, see the right label as the top bar;
 * a non-image shows the server's error; Ctrl-C (SIGINT) and SIGTERM stop the server cleanly (exit 0).
 * Skipped, saying why, when /usr/bin/chromium is not installed (apt-get install -y chromium).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { defaultRecipe } from '../../src/core/config/index.js';
import { ImageClassifier } from '../../tasks/image_classification/model.js';
import { predictFiles } from '../../tasks/image_classification/predict.js';
import { trainImageClassifier } from '../../tasks/image_classification/train.js';
import { runFlash, type FlashRun } from '../helpers/flash_bin.js';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, SHAPE_CLASSES } from '../helpers/images.js';
import { defaultImageRecipe } from '../../tasks/image_classification/schema.js';
import { CHROMIUM, launchChromium } from '../helpers/browser.js';

const haveChromium = existsSync(CHROMIUM);
const SKIP = `headless Chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium' to run the serve page test`;

let dir: string;
let runDir: string;
/** One probe image per class and the label predictFiles gives it. */
const probes: { file: string; label: string }[] = [];
let browser: Browser | undefined;

before(async () => {
  if (!haveChromium) return;
  dir = await makeTempDir('flash-serve-page-');
  const data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 24, seed: 11, formats: ['png', 'jpg'] });
  const recipe = defaultImageRecipe();
  recipe.data.train_folder = data.trainDir;
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.trainer.max_epochs = 4;
  recipe.trainer.output_dir = join(dir, 'run');
  recipe.trainer.quiet = true;
  runDir = (await trainImageClassifier({ recipe, io: { out: () => {}, err: () => {}, isTTY: false, cwd: dir, env: {} } })).runDir;
  for (const [i, cls] of SHAPE_CLASSES.entries()) {
    const file = join(dir, `probe ${i}.png`);
    await writeFile(file, await drawShape({ shape: cls.shape, width: 48, height: 48, format: 'png' }));
    probes.push({ file, label: '' });
  }
  const model = await ImageClassifier.load(runDir);
  (await predictFiles(model, probes.map((p) => p.file))).forEach((p, i) => (probes[i].label = p.label));
  model.network().dispose();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (dir) await removeDir(dir);
});

/** Starts `flash serve` on a free port; resolves with its URL, the child and its exit. */
async function startServer(): Promise<{ url: string; child: ChildProcess; done: Promise<FlashRun> }> {
  let out = '';
  let child: ChildProcess | undefined;
  let gotUrl!: (url: string) => void;
  const url = new Promise<string>((resolve) => (gotUrl = resolve));
  const done = runFlash(['serve', '--model', runDir, '--port', '0'], {
    cwd: dir,
    timeoutMs: 120_000,
    onStdout: (chunk, c) => {
      child = c;
      out += chunk;
      const m = / on (http:\/\/[^\s]+)/.exec(out);
      if (m) gotUrl(m[1]);
    },
  });
  const first = await Promise.race([url, done]);
  if (typeof first !== 'string') assert.fail(`flash serve exited early (${first.code}):\n${first.stderr}\n${first.stdout}`);
  return { url: first, child: child!, done };
}

describe('flash serve: the web page in headless Chromium', () => {
  test('pick an image, drop an image: the top bar is the right label; a non-image shows the error; Ctrl-C stops cleanly', { timeout: 120_000 }, async (t) => {
    if (!haveChromium) {
      t.skip(SKIP);
      return;
    }
    const server = await startServer();
    try {
      const page = await browser!.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.goto(`${server.url}/`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.match((await page.textContent('#meta')) ?? '', /3 classes: .*carré vert/);

      // Pick each probe with the file input.
      for (const p of probes) {
        await page.setInputFiles('#file', p.file);
        await page.waitForFunction((name) => (document.getElementById('status')?.textContent ?? '').startsWith(name + ':'), p.file.split('/').pop()!);
        const rows = await page.$$eval('#results li', (lis) => lis.map((li) => ({ label: (li as HTMLElement).dataset.label, width: (li.querySelector('.bar') as HTMLElement).style.width })));
        assert.equal(rows.length, 3, 'top-k rows (3 classes)');
        assert.equal(rows[0].label, p.label, `top bar for ${p.file}`);
        assert.equal(await page.textContent('#results li:first-child .label'), p.label);
        assert.ok(parseFloat(rows[0].width) >= parseFloat(rows[1].width), 'bars sorted');
        assert.ok(parseFloat(rows[0].width) > 0);
      }

      // Drop an image on the drop zone.
      const dropped = probes[1];
      const bytes = [...(await import('node:fs')).readFileSync(dropped.file)];
      await page.evaluate((data) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
        document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, bytes);
      await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').startsWith('dropped.png:'));
      assert.equal(await page.getAttribute('#results li:first-child', 'data-label'), dropped.label);

      // A text file: the page shows the server's 422 message, and the next image works again.
      const notes = join(dir, 'notes.txt');
      await writeFile(notes, 'not an image\n');
      await page.setInputFiles('#file', notes);
      await page.waitForSelector('#status.error');
      assert.match((await page.textContent('#status')) ?? '', /Error 422: cannot decode image 'notes\.txt'/);
      await page.setInputFiles('#file', probes[0].file);
      await page.waitForFunction(() => !document.getElementById('status')!.classList.contains('error') && document.querySelectorAll('#results li').length > 0);
      assert.equal(await page.getAttribute('#results li:first-child', 'data-label'), probes[0].label);
      assert.deepEqual(consoleErrors.filter((e) => !/422/.test(e)), []);
      await page.close();
    } finally {
      server.child.kill('SIGINT');
    }
    const r = await server.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server stopped/);
    assert.match(r.stderr, /POST \/predict(\?top_k=\d+)? 200/);
  });

  test('SIGTERM stops the server cleanly too', { timeout: 60_000 }, async (t) => {
    if (!haveChromium) {
      t.skip(SKIP);
      return;
    }
    const server = await startServer();
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
    server.child.kill('SIGTERM');
    const r = await server.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server stopped/);
  });
});
