/**
 * End-to-end: the real `flash` binary in a temp folder, on shapes drawn with sharp (3 classes, one name with a
 * space, one non-ASCII; PNG/JPEG/WebP/GIF/TIFF; gray, RGB and RGBA; assorted sizes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile, readdir, chmod } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, writeTruncatedJpeg, SHAPE_CLASSES, type ShapeDataset } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';

let dir: string;
let data: ShapeDataset;
/** Exactly 32×32 RGB PNGs: raw pixels need no resize, so a plain tfjs reader decodes them as flash does. */
const probeFiles: { file: string; label: string }[] = [];

const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at /m, `unexpected stack trace:\n${text}`);

before(async () => {
  dir = await makeTempDir('flash-e2e-');
  data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 40, layout: 'split', valFraction: 0.25, testFraction: 0.15, seed: 3 });
  await mkdir(join(dir, 'probe'), { recursive: true });
  for (const [ci, cls] of SHAPE_CLASSES.entries()) {
    for (let i = 0; i < 2; i++) {
      const file = join(dir, 'probe', `${ci}_${i}.png`);
      await writeFile(file, await drawShape({ shape: cls.shape, width: 32, height: 32, format: 'png', mode: 'rgb', size: 0.55 + 0.1 * i }));
      probeFiles.push({ file, label: cls.name });
    }
  }
});

after(async () => {
  await removeDir(dir);
});

describe('flash image_classification (Flash Zero syntax) → predict → plain tf.loadLayersModel', () => {
  const run = () => join(dir, 'run1');

  test('trains from train/val/test folders to val accuracy ≥ 0.9 and writes the run folder', async () => {
    const r = await runFlash(
      ['image_classification', '--trainer.max_epochs', '12', '--model.backbone', 'simple_cnn', '--data.image_size', '32',
        '--trainer.output_dir', 'run1', '--data.batch_size', '16',
        'from_folders', '--train_folder', 'shapes/train', '--val_folder', 'shapes/val', '--test_folder', 'shapes/test'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^backend wasm/m);
    assert.match(r.stdout, /epoch 12\/12|early stopping/);
    assert.match(r.stdout, /test \(best model/);
    const meta = JSON.parse(await readFile(join(run(), 'flash.json'), 'utf8'));
    assert.deepEqual(meta.labels, data.labels);
    assert.deepEqual(meta.input, { height: 32, width: 32, channels: 3, range: [0, 255], layout: 'NHWC' });
    assert.equal(meta.recipe.trainer.max_epochs, 12);
    assert.equal(meta.status, 'completed');
    assert.ok(meta.metrics.val_accuracy >= 0.9, `val_accuracy ${meta.metrics.val_accuracy}`);
    assert.ok(meta.metrics.test_accuracy >= 0.8, `test_accuracy ${meta.metrics.test_accuracy}`);
    const csv = (await readFile(join(run(), 'metrics.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(csv[0].split(','), ['epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_f1_macro', 'val_auroc_macro']);
    assert.equal(csv.length - 1, meta.recipe.trainer.max_epochs);
    const files = await readdir(run());
    for (const f of ['model.json', 'flash.json', 'recipe.yaml', 'metrics.csv', 'last']) assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => f.endsWith('.tmp')), `temp files left: ${files}`);
  });

  test('predict writes JSON, JSONL and CSV with the right labels', async () => {
    const args = ['predict', '--model', 'run1', '--files', ...probeFiles.map((p) => p.file), '--top_k', '2'];
    for (const out of ['preds.json', 'preds.jsonl', 'preds.csv']) {
      const r = await runFlash([...args, '--output', out], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const text = await readFile(join(dir, out), 'utf8');
      let rows: { file: string; label: string; score: number }[];
      if (out.endsWith('.json')) rows = JSON.parse(text);
      else if (out.endsWith('.jsonl')) rows = text.trim().split('\n').map((l) => JSON.parse(l));
      else {
        const lines = text.trim().split('\n');
        const header = lines[0].split(',');
        assert.deepEqual(header, ['file', 'label', 'score', ...data.labels]);
        rows = lines.slice(1).map((l) => {
          const c = l.split(',');
          return { file: c[0], label: c[1], score: Number(c[2]) };
        });
      }
      assert.equal(rows.length, probeFiles.length);
      const correct = rows.filter((row, i) => row.file === probeFiles[i].file && row.label === probeFiles[i].label).length;
      assert.ok(correct >= probeFiles.length - 1, `${out}: ${correct}/${probeFiles.length} right`);
      if (out.endsWith('.json')) assert.equal((rows[0] as unknown as { top_k: unknown[] }).top_k.length, 2);
    }
  });

  test('plain tf.loadLayersModel over HTTP reproduces flash predict within 1e-5', async () => {
    const r = await runFlash(['predict', '--model', 'run1', '--files', ...probeFiles.map((p) => p.file), '--output', 'same.json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const flashPreds = JSON.parse(await readFile(join(dir, 'same.json'), 'utf8')) as { label: string; probs: Record<string, number> }[];
    // Serve the run folder the way a web page would get it.
    const server: Server = createServer(async (req, res) => {
      try {
        const body = await readFile(join(run(), decodeURIComponent((req.url ?? '/').slice(1))));
        res.writeHead(200, { 'content-type': extname(req.url ?? '') === '.json' ? 'application/json' : 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      await tf.setBackend('wasm');
      const port = (server.address() as { port: number }).port;
      const model = await tf.loadLayersModel(`http://127.0.0.1:${port}/model.json`);
      const labels = (model.getUserDefinedMetadata() as { flash: { labels: string[] } }).flash.labels;
      assert.deepEqual(labels, data.labels);
      for (const [i, p] of probeFiles.entries()) {
        const { data: raw } = await sharp(p.file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        const probs = tf.tidy(() => (model.predict(tf.tensor4d(Float32Array.from(raw), [1, 32, 32, 3])) as tf.Tensor).dataSync());
        const top = probs.indexOf(Math.max(...probs));
        assert.equal(labels[top], flashPreds[i].label);
        labels.forEach((l, c) => assert.ok(Math.abs(probs[c] - flashPreds[i].probs[l]) <= 1e-5, `${l}: ${probs[c]} vs ${flashPreds[i].probs[l]}`));
      }
      model.dispose();
    } finally {
      server.close();
    }
  });

  test('evaluate prints accuracy, F1, AUROC and a per-class table', async () => {
    const r = await runFlash(['evaluate', '--model', 'run1', '--folder', 'shapes/test'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /accuracy \d\.\d{4}/);
    assert.match(r.stdout, /f1_macro \d\.\d{4}/);
    assert.match(r.stdout, /auroc_macro \d\.\d{4}/);
    for (const l of data.labels) assert.match(r.stdout, new RegExp(`^${l}\\s`, 'm'));
  });
});

describe('recipes', () => {
  test('--print_config output is a valid --config that resolves to the same recipe', async () => {
    const first = await runFlash(['image_classification', '--max_epochs', '7', '--lr', '0.003', '--from_folders', 'shapes/train', '--print_config'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    await writeFile(join(dir, 'recipe_rt.yaml'), first.stdout);
    const second = await runFlash(['image_classification', '--config', 'recipe_rt.yaml', '--print_config'], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.match(first.stdout, /max_epochs: 7/);
    assert.match(first.stdout, /learning_rate: 0.003/);
  });
});

describe('interrupt and --resume', () => {
  test('Ctrl-C after an epoch exits cleanly; --resume continues from the saved epoch', async () => {
    let sent = false;
    const first = await runFlash(
      ['image_classification', '--max_epochs', '30', '--image_size', '24', '--output_dir', 'run2', '--from_folders', 'shapes/train'],
      {
        cwd: dir,
        onStdout: (_chunk, child) => {
          if (!sent && /^epoch 2\/30/m.test(_chunk)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(sent, first.stdout);
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /resume with: (npx )?flash image_classification --resume run2/);
    noStack(first.stderr);
    const state = JSON.parse(await readFile(join(dir, 'run2', 'last', 'state.json'), 'utf8'));
    const done = state.epoch as number;
    assert.ok(done >= 2 && done < 30, `saved epoch ${done}`);

    const second = await runFlash(['image_classification', '--resume', 'run2', '--max_epochs', String(done + 2)], { cwd: dir });
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.match(second.stdout, new RegExp(`resuming run2 after epoch ${done}`));
    assert.doesNotMatch(second.stdout, /^epoch 1\//m);
    assert.match(second.stdout, new RegExp(`^epoch ${done + 2}/${done + 2}`, 'm'));
    const csv = (await readFile(join(dir, 'run2', 'metrics.csv'), 'utf8')).trim().split('\n').slice(1);
    assert.deepEqual(csv.map((l) => Number(l.split(',')[0])), Array.from({ length: done + 2 }, (_, i) => i + 1));
  });
});

describe('bad input: one clear line, non-zero exit, no stack trace', () => {
  const cases: { name: string; setup?: () => Promise<void>; args: string[]; code?: number; message: RegExp }[] = [
    { name: 'missing folder', args: ['image_classification', '--from_folders', 'nope'], message: /nope/ },
    {
      name: 'empty class folder',
      setup: async () => {
        await makeShapeDataset(join(dir, 'bad_empty'), { perClass: 3, seed: 5 });
        await mkdir(join(dir, 'bad_empty', 'ghost'), { recursive: true });
      },
      // Without strict, an empty class is a warning that drops it (test/e2e/data_scan.test.ts).
      args: ['image_classification', '--from_folders', 'bad_empty', '--trainer.strict', 'true'],
      message: /ghost.*no images|no images.*ghost/,
    },
    {
      name: 'one class',
      setup: async () => {
        await mkdir(join(dir, 'one', 'only'), { recursive: true });
        await writeFile(join(dir, 'one', 'only', 'a.png'), await drawShape({ shape: 'circle' }));
      },
      args: ['image_classification', '--from_folders', 'one'],
      message: /1 class/,
    },
    {
      name: 'no images at all',
      setup: async () => {
        await mkdir(join(dir, 'noimg', 'a'), { recursive: true });
        await writeFile(join(dir, 'noimg', 'a', 'readme.txt'), 'hi');
      },
      args: ['image_classification', '--from_folders', 'noimg'],
      message: /noimg/,
    },
    { name: 'unknown flag', args: ['image_classification', '--trainer.max_epoch', '3'], message: /--trainer\.max_epoch'.*did you mean '--trainer\.max_epochs'/ },
    {
      name: "typo'd recipe key",
      setup: async () => writeFile(join(dir, 'typo.yaml'), 'trainer:\n  max_epoch: 3\n'),
      args: ['image_classification', '--config', 'typo.yaml'],
      message: /max_epoch'.*did you mean 'trainer\.max_epochs'/,
    },
    { name: 'wrong value type', args: ['image_classification', '--data.batch_size', 'abc'], message: /batch_size.*abc/ },
    { name: 'unknown backbone', args: ['image_classification', '--backbone', 'simple_cn'], message: /did you mean 'simple_cnn'/ },
    {
      name: 'unwritable output folder',
      setup: async () => writeFile(join(dir, 'afile'), 'x'),
      args: ['image_classification', '--from_folders', 'shapes/train', '--output_dir', 'afile/run'],
      message: /afile\/run/,
    },
    { name: 'predict with no model', args: ['predict', '--model', 'nowhere', '--files', 'x.png'], message: /nowhere/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await c.setup?.();
      const r = await runFlash(c.args, { cwd: dir });
      assert.notEqual(r.code, 0, `expected failure: ${r.stdout}`);
      assert.equal(r.code, c.code ?? 2);
      assert.match(r.stderr, /^error: /m);
      assert.match(r.stderr, c.message);
      noStack(r.stderr);
    });
  }

  test('corrupt and non-image files are skipped with a warning naming each; --strict makes them fatal', async () => {
    const root = join(dir, 'corrupt');
    await makeShapeDataset(root, { perClass: 6, seed: 9, formats: ['png'] });
    const bad = await writeTruncatedJpeg(join(root, 'circle', 'broken.jpg'));
    await writeFile(join(root, 'circle', 'notes.txt'), 'not an image');
    await writeFile(join(root, 'circle', '.DS_Store'), 'hidden');
    const ok = await runFlash(['image_classification', '--from_folders', 'corrupt', '--max_epochs', '1', '--image_size', '16', '--output_dir', 'run3'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /warning: .*broken\.jpg/);
    assert.match(ok.stdout, /ignored 1 non-image file/);
    const strict = await runFlash(['image_classification', '--from_folders', 'corrupt', '--max_epochs', '1', '--strict', 'true', '--output_dir', 'run4'], { cwd: dir });
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, new RegExp(`error: .*${bad.split('/').pop()}`));
    noStack(strict.stderr);
    void chmod;
  });
});

describe('help and list come from the registries', () => {
  test('flash list names every registered task, backbone, optimizer, metric and backend', async () => {
    const r = await runFlash(['list'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['image_classification', 'simple_cnn', 'adam', 'sgd', 'accuracy', 'auroc_macro', 'wasm', 'cpu', 'no_freeze', 'csv']) {
      assert.match(r.stdout, new RegExp(`\\b${name}\\b`), name);
    }
  });

  test('flash image_classification --help lists builders and recipe flags', async () => {
    const r = await runFlash(['image_classification', '--help'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['from_folders', 'from_files', '--trainer.max_epochs', '--model.backbone', '--data.batch_size', '--finetune.strategy']) assert.ok(r.stdout.includes(s), s);
  });
});

describe('flash report and flash compare', () => {
  test('report writes a self-contained report.html and the PNG plots; compare shows differing keys', async () => {
    const r = await runFlash(['report', 'run1'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const files = await readdir(join(dir, 'run1'));
    for (const f of ['report.html', 'curves.png', 'confusion_matrix.png', 'pr_curves.png']) assert.ok(files.includes(f), f);
    const html = await readFile(join(dir, 'run1', 'report.html'), 'utf8');
    for (const l of data.labels) assert.ok(html.includes(l), l);
    assert.doesNotMatch(html, /(src|href)=["']https?:/);
    const c = await runFlash(['compare', 'run1', 'run2'], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /max_epochs/);
    assert.match(c.stdout, /val_accuracy/);
  });
});
