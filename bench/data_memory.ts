/**
 * Data-layer memory benchmark: does peak memory stay flat as the dataset grows when images are streamed
 * (`--data.cache none`)?
 *
 * Writes Fashion-MNIST (Debian's dataset-fashion-mnist, or $FASHION_MNIST_DIR) as PNG class folders of 2,000 and
 * 20,000 training images, then for each size spawns a fresh Node process that trains `simple_cnn` for one epoch
 * through flash's real training path (`trainImageClassifier`, recipe `defaultRecipe('image_classification')`,
 * data.cache = 'none', no validation split) and prints one JSON line:
 *   peak_rss_mib   process.resourceUsage().maxRSS of that process (build + one epoch)
 *   images_per_s   train images / wall time of the epoch's training steps
 *   data_wait      fraction of that time the trainer spent waiting for the next batch (time inside the batch
 *                  iterator's next(): decoding not hidden by read-ahead, pixel copy, tensor creation)
 * and, at the end, the ratio of the two peaks (the issue's target: ≤ ~1.3).
 *
 *   node_modules/.bin/tsx bench/data_memory.ts [--backend wasm] [--sizes 2000,20000] [--cache none] [--dir DIR]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRecipe } from '../src/core/config/index.js';
import type { Callback } from '../src/core/trainer/types.js';
import type { CliIO } from '../src/cli/types.js';
import { ImageSplit } from '../tasks/image_classification/data/data_split.js';
import { trainImageClassifier } from '../tasks/image_classification/train.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnistAvailable, writeFashionMnistFolders } from './fashion_mnist_folders.js';

const log = (m: string) => process.stderr.write(`${m}\n`);

/** Times what the trainer waits for data: the time spent inside the batch iterator's next() while training. */
function instrumentBatches(): { wait: () => number } {
  let waited = 0;
  const original = ImageSplit.prototype.batches;
  ImageSplit.prototype.batches = async function* (this: ImageSplit, opts) {
    const it = original.call(this, opts);
    for (;;) {
      const t = performance.now();
      const r = await it.next();
      waited += performance.now() - t;
      if (r.done) return;
      yield r.value;
    }
  } as typeof original;
  return { wait: () => waited };
}

async function child(folder: string, images: number, backend: string, cache: string): Promise<void> {
  const waits = instrumentBatches();
  const runDir = await mkdtemp(join(tmpdir(), 'flash-bench-data-run-'));
  const io: CliIO = { out: (t) => process.stderr.write(t), err: (t) => process.stderr.write(t), isTTY: false, cwd: process.cwd(), env: process.env };
  const recipe = defaultRecipe('image_classification');
  recipe.model.backbone = 'simple_cnn';
  recipe.trainer.max_epochs = 1;
  recipe.trainer.backend = backend;
  recipe.trainer.output_dir = runDir;
  recipe.trainer.quiet = true;
  recipe.data.folder = folder;
  recipe.data.val_split = 0;
  recipe.data.cache = cache as 'none';
  let start = 0;
  let end = 0;
  let wait0 = 0;
  let wait1 = 0;
  let seen = 0;
  const timer: Callback = {
    onEpochStart: () => {
      start = performance.now();
      wait0 = waits.wait();
    },
    onBatchEnd: (_ctx, _i, logs) => {
      end = performance.now();
      wait1 = waits.wait();
      seen += logs.size;
    },
  };
  try {
    await trainImageClassifier({ recipe, io, callbacks: [timer] });
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
  const seconds = (end - start) / 1000;
  const line = {
    bench: 'data_memory',
    cache,
    backend,
    network: 'simple_cnn',
    epochs: 1,
    images,
    trained: seen,
    peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    images_per_s: Math.round((seen / seconds) * 10) / 10,
    data_wait: Math.round(((wait1 - wait0) / (end - start)) * 1000) / 1000,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child ${args.join(' ')} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      sizes: { type: 'string', default: '2000,20000' },
      cache: { type: 'string', default: 'none' },
      dir: { type: 'string' },
      child: { type: 'string' },
      images: { type: 'string' },
    },
    strict: true,
  });
  if (values.child !== undefined) {
    await child(values.child, Number(values.images), values.backend!, values.cache!);
    return;
  }
  if (!fashionMnistAvailable()) {
    log(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR`);
    process.exit(1);
  }
  const root = values.dir ?? join(tmpdir(), 'flash-bench-data');
  const sizes = values.sizes!.split(',').map(Number);
  const lines: { images: number; peak_rss_mib: number }[] = [];
  for (const images of sizes) {
    const perClass = Math.ceil(images / FASHION_MNIST_CLASSES.length);
    const folder = join(root, `fashion-${perClass}`);
    if (!existsSync(join(folder, FASHION_MNIST_CLASSES[0]))) {
      log(`writing ${perClass * FASHION_MNIST_CLASSES.length} PNGs to ${folder}`);
      await writeFashionMnistFolders({ outDir: folder, perClass, split: 'train' });
    }
    const line = await runChild(['--child', folder, '--images', String(images), '--backend', values.backend!, '--cache', values.cache!]);
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as { images: number; peak_rss_mib: number });
  }
  if (lines.length >= 2) {
    const [a, b] = [lines[0], lines[lines.length - 1]];
    process.stdout.write(
      `${JSON.stringify({ bench: 'data_memory', rss_ratio: Math.round((b.peak_rss_mib / a.peak_rss_mib) * 100) / 100, of: `${b.images}/${a.images}` })}\n`,
    );
  }
}

main().catch((err) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
