/**
 * `flash export` of a text run, end to end: train with the real binary, export, open the page in headless
 * Chromium, and check that the browser tokenizes tricky text (emoji, CJK, combining accents, URLs, a very long
 * text) to exactly Node's token ids, and predicts what `flash predict` predicts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encode, parseTokenizer } from '../../tasks/text_classification/tokenizer.js';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';
import { writeCsv, writeTopicCsvs } from '../helpers/texts.js';
import { skipWithoutChromium, withServedFolder } from '../helpers/browser.js';

const TRICKY = [
  'the football match 😍👍🏽 goal 👨‍👩‍👧!',
  '東京はsunny today, 今日はいい天気',
  'Cafe\u0301 crème brûlée ＦＵＬＬ ﬁne ① recipe',
  'see https://Example.com/a?b=1, bake the soup',
  'don’t update the laptop; l’app est cassée',
  'server '.repeat(5000),
];
let dir: string;
before(async () => {
  dir = await makeTempDir('flash-text-export-');
  await writeTopicCsvs(dir, 20);
  await writeCsv(join(dir, 'tricky.csv'), TRICKY.map((text) => ({ text })), ['text']);
});
after(() => removeDir(dir));

for (const backbone of ['fasttext', 'cnn'])
test(`the exported page (${backbone}) tokenizes exactly as Node and predicts as flash predict`, { timeout: 240_000 }, async (t) => {
  const run = `run_${backbone}`, web = `web_${backbone}`;
  const train = await runFlash(['text_classification', '--max_epochs', '3', '--output_dir', run, '--model.backbone', backbone, '--data.max_length', '64', '--data.subword_buckets', '512', '--data.bigram_buckets', '512', '--model.embedding_dim', '16', 'from_csv', '--train_file', 'train.csv', '--val_file', 'val.csv'], { cwd: dir });
  assert.equal(train.code, 0, train.stderr);
  const exp = await runFlash(['export', '--model', run, '--out', web], { cwd: dir });
  assert.equal(exp.code, 0, exp.stderr);
  const files = await readdir(join(dir, web));
  for (const f of ['model.json', 'tokenizer.json', 'tokenizer.js', 'classifier.js', 'metadata.json', 'index.html', 'tf.min.js']) assert.ok(files.includes(f), f);
  assert.doesNotMatch(await readFile(join(dir, web, 'tokenizer.js'), 'utf8'), /^import /m);
  const pred = await runFlash(['predict', '--model', run, '--csv', 'tricky.csv', '--output', 'p.json'], { cwd: dir });
  assert.equal(pred.code, 0, pred.stderr);
  const expected = JSON.parse(await readFile(join(dir, 'p.json'), 'utf8')) as { label: string; probs: Record<string, number> }[];
  const state = parseTokenizer(JSON.parse(await readFile(join(dir, run, 'tokenizer.json'), 'utf8')));
  const nodeIds = TRICKY.map((text) => {
    const e = encode(state, text);
    return { ids: [...e.ids], weights: [...e.weights], tokens: [...e.tokens], sequence: [...e.sequence] };
  });

  if (skipWithoutChromium(t, 'the page was not opened')) return;
  await withServedFolder(join(dir, web), async (browser, base) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base + 'index.html');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const inBrowser = await page.evaluate(async (texts) => {
      const { loadClassifier } = await import('./classifier.js' as string);
      const clf = await loadClassifier();
      const tokens = texts.map((text: string) => {
        const e = clf.tokenize(text);
        return { ids: Array.from(e.ids as Int32Array), weights: Array.from(e.weights as Float32Array), tokens: Array.from(e.tokens as Int32Array), sequence: Array.from(e.sequence as Int32Array) };
      });
      return { tokens, probs: await clf.probabilities(texts), labels: clf.metadata.labels as string[] };
    }, TRICKY);
    assert.deepEqual(inBrowser.tokens, nodeIds, 'browser and Node token ids and weights are identical');
    inBrowser.probs.forEach((row: number[], i: number) =>
      row.forEach((p, c) => assert.ok(Math.abs(p - expected[i].probs[inBrowser.labels[c]]) < 1e-5, `text ${i} class ${c}: ${p} vs ${expected[i].probs[inBrowser.labels[c]]}`)),
    );
    await page.fill('#text', TRICKY[0]);
    await page.waitForSelector('body[data-top]', { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.top), expected[0].label);
    assert.deepEqual(errors, []);
  });
});
