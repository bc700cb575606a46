/**
 * Data-layer benchmark: does peak memory stay flat as the dataset grows when images are streamed, and how much
 * of a training step is spent waiting for data with each `--data.cache` mode?
 *
 * Writes Fashion-MNIST (Debian's dataset-fashion-mnist, or $FASHION_MNIST_DIR) as PNG class folders of 2,000 and
 * 20,000 training images, then for each (cache mode, size) spawns a fresh Node process that trains `simple_cnn`
 * for `--epochs` epochs (default 2) through flash's real training path (`trainImageClassifier`, recipe
 * `defaultImageRecipe()`, no validation split; `disk` gets a fresh FLASH_CACHE_DIR, so its
 * build decodes and writes every entry) and prints one JSON line per workload:
 *   peak_rss_mib     process.resourceUsage().maxRSS of that process (build + all epochs)
 *   build_s          time to build the data module (scan, check and decode or cache every image)
 *   images_per_s     train images / wall time of the last epoch's training steps (steady state)
 *   data_wait_share  fraction of that time the trainer spent waiting for the next batch (time inside the batch
 *                    iterator's next(): reads or decodes not hidden by read-ahead, pixel copy, tensor creation)
 *   first_epoch_data_wait_share  the same for the first epoch
 *   other_cpu_cores  CPU other processes used during the last epoch, in cores (/proc/stat minus this process);
 *                    contended: more than 0.2 of a core
 * With disk, a second process then runs on the same cache folder (its line says run: "second, same cache").
 * And, per cache mode with two sizes or more, the ratio of the largest size's peak to the smallest's (the issue's
 * target for streaming: ≤ ~1.3).
 *
 *   node_modules/.bin/tsx bench/data_memory.ts [--backend wasm] [--sizes 2000,20000] [--cache none,disk,memory]
 *     [--epochs 2] [--dir DIR]
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
import { cpuJiffies, CONTENDED_CORES, HZ, log, runBench } from './common.js';
import { defaultImageRecipe } from '../tasks/image_classification/schema.js';

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

async function child(folder: string, images: number, backend: string, cache: string, epochs: number): Promise<void> {
  const waits = instrumentBatches();
  const runDir = await mkdtemp(join(tmpdir(), 'flash-bench-data-run-'));
  const io: CliIO = { out: (t) => process.stderr.write(t), err: (t) => process.stderr.write(t), isTTY: false, cwd: process.cwd(), env: process.env };
  const recipe = defaultImageRecipe();
  recipe.model.backbone = 'simple_cnn';
  recipe.trainer.max_epochs = epochs;
  recipe.trainer.backend = backend;
  recipe.trainer.output_dir = runDir;
  recipe.trainer.quiet = true;
  recipe.data.folder = folder;
  recipe.data.val_split = 0;
  recipe.data.cache = cache as 'none';
  // Per epoch: wall time from its start to its last batch, time waited for data, images, other processes' CPU.
  interface EpochTiming { start: number; end: number; wait0: number; wait1: number; seen: number; cpu0: [number, number]; cpu1: [number, number] }
  const timings: EpochTiming[] = [];
  const t0 = performance.now();
  let built = 0;
  const timer: Callback = {
    onEpochStart: () => {
      if (timings.length === 0) built = performance.now();
      timings.push({ start: performance.now(), end: 0, wait0: waits.wait(), wait1: 0, seen: 0, cpu0: cpuJiffies(), cpu1: [0, 0] });
    },
    onBatchEnd: (_ctx, _i, logs) => {
      const t = timings[timings.length - 1];
      t.end = performance.now();
      t.wait1 = waits.wait();
      t.cpu1 = cpuJiffies();
      t.seen += logs.size;
    },
  };
  try {
    await trainImageClassifier({ recipe, io, callbacks: [timer] });
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
  const share = (t: EpochTiming) => Math.round(((t.wait1 - t.wait0) / (t.end - t.start)) * 1000) / 1000;
  const last = timings[timings.length - 1];
  const seconds = (last.end - last.start) / 1000;
  const other = Math.max(0, (last.cpu1[0] - last.cpu0[0] - (last.cpu1[1] - last.cpu0[1])) / HZ / seconds);
  const line = {
    bench: 'data_memory',
    cache,
    backend,
    network: 'simple_cnn',
    epochs: timings.length,
    images,
    trained: last.seen,
    peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    build_s: Math.round((built - t0) / 100) / 10,
    images_per_s: Math.round((last.seen / seconds) * 10) / 10,
    data_wait_share: share(last),
    first_epoch_data_wait_share: share(timings[0]),
    other_cpu_cores: Math.round(other * 100) / 100,
    contended: other > CONTENDED_CORES,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function runChild(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
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
      cache: { type: 'string', default: 'none,disk,memory' },
      epochs: { type: 'string', default: '2' },
      dir: { type: 'string' },
      child: { type: 'string' },
      images: { type: 'string' },
    },
    strict: true,
  });
  if (values.child !== undefined) {
    await child(values.child, Number(values.images), values.backend!, values.cache!, Number(values.epochs));
    return;
  }
  if (!fashionMnistAvailable()) {
    log(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR`);
    process.exit(1);
  }
  const root = values.dir ?? join(tmpdir(), 'flash-bench-data');
  const sizes = values.sizes!.split(',').map(Number);
  const caches = values.cache!.split(',');
  for (const c of caches) {
    if (!['none', 'disk', 'memory', 'auto'].includes(c)) throw new Error(`--cache takes none, disk, memory or auto (comma-separated), got '${c}'`);
  }
  const folders = new Map<number, string>();
  for (const images of sizes) {
    const perClass = Math.ceil(images / FASHION_MNIST_CLASSES.length);
    const folder = join(root, `fashion-${perClass}`);
    if (!existsSync(join(folder, FASHION_MNIST_CLASSES[0]))) {
      log(`writing ${perClass * FASHION_MNIST_CLASSES.length} PNGs to ${folder}`);
      await writeFashionMnistFolders({ outDir: folder, perClass, split: 'train' });
    }
    folders.set(images, folder);
  }
  for (const cache of caches) {
    const lines: { images: number; peak_rss_mib: number }[] = [];
    for (const images of sizes) {
      // A fresh cache folder per workload: the disk build decodes and writes every entry, the epochs read them.
      const cacheDir = await mkdtemp(join(tmpdir(), 'flash-bench-data-cache-'));
      try {
        const args = ['--child', folders.get(images)!, '--images', String(images), '--backend', values.backend!, '--cache', cache, '--epochs', values.epochs!];
        const line = await runChild(args, { ...process.env, FLASH_CACHE_DIR: cacheDir });
        process.stdout.write(`${line}\n`);
        lines.push(JSON.parse(line) as { images: number; peak_rss_mib: number });
        if (cache === 'disk') {
          // A later run on the same cache: its build reads every entry instead of decoding.
          const again = JSON.parse(await runChild(args, { ...process.env, FLASH_CACHE_DIR: cacheDir })) as Record<string, unknown>;
          process.stdout.write(`${JSON.stringify({ ...again, cache: 'disk', run: 'second, same cache' })}\n`);
        }
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    }
    if (lines.length >= 2) {
      const [a, b] = [lines[0], lines[lines.length - 1]];
      const ratio = Math.round((b.peak_rss_mib / a.peak_rss_mib) * 100) / 100;
      process.stdout.write(`${JSON.stringify({ bench: 'data_memory', cache, rss_ratio: ratio, of: `${b.images}/${a.images}` })}\n`);
    }
  }
}

runBench(main);
