/**
 * Fashion-MNIST benchmark: trains `simple_cnn` through flash's real training path (`trainImageClassifier`, the
 * function behind `flash image_classification`) on Fashion-MNIST PNG class folders, then predicts the test set.
 *
 *   npm run bench            (= npm run build && node dist/bench/fashion_mnist.js)
 *   node dist/bench/fashion_mnist.js [--backend auto|wasm|cpu|…] [--epochs 2] [--per_class 1000]
 *                                    [--test_per_class 200] [--val_per_class 100] [--cache DIR] [--keep]
 *
 * Data: written once from Debian's `dataset-fashion-mnist` IDX files (or $FASHION_MNIST_DIR) into
 * `<cache>/fashion_mnist-<per_class>-<val_per_class>-<test_per_class>/{train,val,test}/<class>/*.png` and reused
 * on later runs (default cache: $TMPDIR/flash-bench). train/ holds the first `per_class` images of each class of
 * the IDX train split, val/ the next `val_per_class` (disjoint), test/ the first `test_per_class` of the test split.
 *
 * Prints exactly one JSON line on stdout; every log line goes to stderr:
 *   {"bench":"fashion_mnist","backend":…,"network":"simple_cnn","epochs":2,"train_images":10000,
 *    "train_images_per_s":…,"predict_images_per_s":…,"peak_rss_mib":…,"test_accuracy":…,"contended":…}
 *
 * - train_images_per_s: train images × epochs / time inside the training epochs, measured by a Trainer callback
 *   from each epoch's start to its last batch — so decoding (done once, before fit), validation and checkpoint
 *   writes are excluded.
 * - predict_images_per_s: the saved best model loaded with `ImageClassifier.load`, run over the already-decoded
 *   test images (`runSplit`, the code `predictFiles` runs after decoding), after one untimed warm-up pass, over
 *   whole passes until 3 s add up. The end-to-end rate of `predictFiles` (PNG decode + resize + model, one pass)
 *   is logged to stderr.
 * - peak_rss_mib: `process.resourceUsage().maxRSS` (KiB) / 1024, for the whole process.
 * - test_accuracy: top-1 accuracy of the saved best model's `predictFiles` labels on test/.
 * - contended: other processes used more than 0.2 of a core on average inside the timed windows (training epochs
 *   and model-only predict passes): all cores' busy time from `os.cpus()` minus this process's
 *   `process.cpuUsage()`, over the windows' length. The figure is logged.
 */
import { CONTENDED_CORES, intArg, log, round, runBench } from './common.js';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRecipe } from '../src/core/config/index.js';
import { runSplit } from '../src/core/trainer/evaluate.js';
import type { Callback } from '../src/core/trainer/types.js';
import type { CliIO } from '../src/cli/types.js';
import { splitFromPixels } from '../tasks/image_classification/data/index.js';
import { ImageClassifier } from '../tasks/image_classification/model.js';
import { decodeForModel, predictFiles } from '../tasks/image_classification/predict.js';
import { trainImageClassifier } from '../tasks/image_classification/train.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnistAvailable, writeSplitFoldersOnce } from './fashion_mnist_folders.js';
import { defaultImageRecipe } from '../tasks/image_classification/schema.js';

/** The model-only predict rate is timed over whole passes of the test set until this many seconds add up. */
const PREDICT_SECONDS = 3;


/** The train/val/test folders of this bench, written once and reused. */
function ensureData(root: string, perClass: number, valPerClass: number, testPerClass: number): Promise<string> {
  const dir = join(root, `fashion_mnist-${perClass}-${valPerClass}-${testPerClass}`);
  return writeSplitFoldersOnce(dir, { perClass, valPerClass, testPerClass }, { perClass, valPerClass, testPerClass, classes: FASHION_MNIST_CLASSES }, log);
}

/** Busy CPU time of the whole machine and of this process, in ms. */
function cpuMs(): { all: number; self: number } {
  let all = 0;
  for (const c of cpus()) all += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  const u = process.cpuUsage();
  return { all, self: (u.user + u.system) / 1000 };
}

/** Seconds timed and other processes' CPU time (ms) within them, summed over the timed windows. */
class Window {
  seconds = 0;
  otherMs = 0;
  private t = 0;
  private cpu = { all: 0, self: 0 };

  begin(): void {
    this.cpu = cpuMs();
    this.t = performance.now();
  }

  /** Ends the window; returns its length in seconds. */
  end(): number {
    const s = (performance.now() - this.t) / 1000;
    const c = cpuMs();
    this.seconds += s;
    this.otherMs += Math.max(0, c.all - this.cpu.all - (c.self - this.cpu.self));
    return s;
  }
}

/** Times the training epochs: from each epoch's start to the end of its last batch, and counts the images. */
class EpochTimer implements Callback {
  readonly window = new Window();
  images = 0;
  perEpoch: { images: number; seconds: number }[] = [];
  private epochImages = 0;

  onEpochStart(): void {
    this.epochImages = 0;
    this.window.begin();
  }

  onBatchEnd(ctx: { batchesPerEpoch: number }, batch: number, logs: { size: number }): void {
    this.epochImages += logs.size;
    if (batch === ctx.batchesPerEpoch - 1) {
      const s = this.window.end();
      this.images += this.epochImages;
      this.perEpoch.push({ images: this.epochImages, seconds: s });
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      epochs: { type: 'string' },
      per_class: { type: 'string' },
      val_per_class: { type: 'string' },
      test_per_class: { type: 'string' },
      cache: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const epochs = intArg('epochs', values.epochs, 2);
  const perClass = intArg('per_class', values.per_class, 1000);
  const valPerClass = intArg('val_per_class', values.val_per_class, 100, 0);
  const testPerClass = intArg('test_per_class', values.test_per_class, 200);
  if (!fashionMnistAvailable()) {
    log(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR`);
    process.exit(1);
  }
  const dataDir = await ensureData(values.cache ?? join(tmpdir(), 'flash-bench'), perClass, valPerClass, testPerClass);
  const runDir = await mkdtemp(join(tmpdir(), 'flash-bench-run-'));

  const io: CliIO = { out: (t) => process.stderr.write(t), err: (t) => process.stderr.write(t), isTTY: false, cwd: process.cwd(), env: process.env };
  const recipe = defaultImageRecipe();
  recipe.model.backbone = 'simple_cnn';
  recipe.trainer.max_epochs = epochs;
  recipe.trainer.backend = values.backend ?? 'auto';
  recipe.trainer.output_dir = runDir;
  recipe.trainer.quiet = true;
  recipe.data.folder = dataDir;
  // Without val/ flash would hold out 20% of train/; keep every train image in training instead.
  if (valPerClass === 0) recipe.data.val_split = 0;

  try {
    const timer = new EpochTimer();
    const result = await trainImageClassifier({ recipe, io, callbacks: [timer] });
    const flashJson = JSON.parse(await readFile(join(result.runDir, 'flash.json'), 'utf8')) as { backend: string };
    if (timer.perEpoch.length !== epochs) throw new Error(`timed ${timer.perEpoch.length} epochs, expected ${epochs} (${result.fit.reason ?? result.fit.status})`);
    for (const [i, e] of timer.perEpoch.entries()) log(`epoch ${i + 1}: ${e.images} images in ${e.seconds.toFixed(2)} s (${(e.images / e.seconds).toFixed(1)} images/s)`);

    // Predict: the saved best model, as `flash predict` loads it.
    const model = await ImageClassifier.load(result.runDir);
    const testFiles: string[] = [];
    const testLabels: string[] = [];
    for (const name of FASHION_MNIST_CLASSES) {
      const dir = join(dataDir, 'test', name);
      for (const f of (await readdir(dir)).filter((f) => f.endsWith('.png')).sort()) {
        testFiles.push(join(dir, f));
        testLabels.push(name);
      }
    }
    const batchSize = recipe.data.batch_size;
    // End to end (decode + model), as `flash predict --files` runs; its labels give the test accuracy.
    const tp = performance.now();
    const preds = await predictFiles(model, testFiles, { batchSize, onWarning: (m) => log(`warning: ${m}`) });
    const endToEnd = preds.length / ((performance.now() - tp) / 1000);
    const byFile = new Map(testFiles.map((f, i) => [f, testLabels[i]]));
    const correct = preds.filter((p) => byFile.get(p.file) === p.label).length;
    const testAccuracy = correct / testFiles.length;
    // Model only: the decoded images through runSplit (what predictFiles does after decoding), warm.
    const decoded = await decodeForModel(model, testFiles.map((file) => ({ file, label: -1 })));
    const split = splitFromPixels(model.spec!, decoded);
    await runSplit(model, split, batchSize, false);
    const predictWindow = new Window();
    let predicted = 0;
    while (predictWindow.seconds < PREDICT_SECONDS) {
      predictWindow.begin();
      predicted += (await runSplit(model, split, batchSize, false)).ids.length;
      predictWindow.end();
    }
    const predictRate = predicted / predictWindow.seconds;
    model.network().dispose();

    const timed = timer.window.seconds + predictWindow.seconds;
    const otherCores = (timer.window.otherMs + predictWindow.otherMs) / 1000 / timed;
    log(`predict: ${predictRate.toFixed(1)} images/s model only, ${endToEnd.toFixed(1)} images/s with PNG decode (predictFiles), ${preds.length} images`);
    log(`test accuracy: predictFiles ${testAccuracy.toFixed(4)}, trainer.test ${result.metrics.test_accuracy?.toFixed(4) ?? 'n/a'}`);
    log(`other processes' CPU: ${otherCores.toFixed(2)} cores on average in the ${timed.toFixed(1)} s timed (training epochs and predict passes; ${cpus().length} cores)`);

    const row = {
      bench: 'fashion_mnist',
      backend: flashJson.backend,
      network: 'simple_cnn',
      epochs,
      train_images: timer.images / epochs,
      train_images_per_s: round(timer.images / timer.window.seconds, 1),
      predict_images_per_s: round(predictRate, 1),
      peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 1),
      test_accuracy: round(testAccuracy, 4),
      contended: otherCores > CONTENDED_CORES,
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    if (values.keep) log(`run folder kept: ${runDir}`);
    else await rm(runDir, { recursive: true, force: true });
  }
}


runBench(main);
