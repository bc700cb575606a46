/**
 * Transfer benchmark (issue 4): does a backbone flash trained earlier help on new classes?
 *
 *   npm run build && node dist/bench/transfer.js [--networks simple_cnn,resnet18] [--per_class 300]
 *       [--source_per_class 2000] [--val_per_class 50] [--test_per_class 100] [--source_epochs 3] [--epochs 1,3]
 *       [--inits saved_backbone_freeze,saved_backbone_freeze_cut,scratch[,saved_backbone_no_freeze]]
 *       [--lrs 0.001,0.003,0.01] [--seeds 42[,43,…]] [--backend auto] [--cache DIR] [--keep]
 *
 * Data: Fashion-MNIST from Debian's `dataset-fashion-mnist` IDX files (or $FASHION_MNIST_DIR), written once as PNG
 * class folders (bench/fashion_mnist_folders.ts) into `<cache>/transfer-<per_class>-<val>-<test>/{source,target}/
 * {train,val,test}/<class>/` (default cache: $TMPDIR/flash-bench). train/ holds the first `per_class` images of
 * each class of the IDX train split, val/ the next `val_per_class` (disjoint), test/ the first `test_per_class`
 * of the IDX test split (held out: never seen by any run before its final test). The source classes are read from
 * the folders written with `source_per_class` (default 2,000) and the target classes from those written with
 * `per_class` (default 300): a large source set and a small target set, the case transfer learning is for.
 *   - source: classes 0, 1, 7, 8, 9 (T-shirt_top, Trouser, Sneaker, Bag, Ankle boot)
 *   - target: classes 2, 3, 4, 5, 6 (Pullover, Dress, Coat, Sandal, Shirt) — the hard, mutually similar ones
 *
 * For each network (default simple_cnn; resnet18 is slow on a 2-core CPU):
 *   1. run A: train the network from scratch on the source classes at 32 px for `source_epochs` (3) epochs and save
 *      it (a normal flash run folder);
 *   2. for each budget E in `epochs` (default 1 and 3; each a separate run with max_epochs E) and each learning
 *      rate in `lrs` (default 1e-3, 3e-3 and 1e-2):
 *      - saved_backbone_freeze: `model.backbone = <run A>` with `finetune.strategy = freeze` on the target classes;
 *      - saved_backbone_freeze_cut (networks with a cut in CUTS): the same, with `model.cut` / `model.pooling`
 *        taking the features from an earlier layer of run A's backbone (resnet18: its second stage's 4×4×128 map,
 *        flattened) rather than its last, source-specific one;
 *      - scratch: `model.backbone = <network>` (random init, the default no_freeze strategy), same recipe otherwise;
 *      - saved_backbone_no_freeze (only with --inits): `model.backbone = <run A>` with `finetune.strategy = no_freeze`.
 *   Each init is compared at its own best learning rate, chosen by validation accuracy (never by test accuracy).
 *
 * Every run goes through flash's real path, `trainImageClassifier` (the function behind `flash
 * image_classification`), with `defaultImageRecipe()` and `data.image_size = 32`; the test
 * accuracy is the one that function reports for the saved best model (`metrics.test_accuracy`).
 *
 * Prints one JSON line per (seed, network, init, epochs, learning rate) on stdout, then one per (seed, network,
 * init, epochs) with `"lr":"best_val"` repeating the row whose val accuracy was highest (the lower rate on a tie);
 * logs go to stderr:
 *   {"bench":"transfer","network":"simple_cnn","init":"saved_backbone_freeze","epochs":1,"seed":42,"lr":0.001,
 *    "val_accuracy":…,"test_accuracy":…,"train_images":1500,"seconds":…}
 * `seconds` is the wall time of the whole trainImageClassifier call (data decode, training, validation, checkpoint
 * writes, test). Run A's own line is logged to stderr, not printed as a row.
 */
import { intArg, log, round, runBench } from './common.js';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRecipe, type Recipe } from '../src/core/config/index.js';
import type { CliIO } from '../src/cli/types.js';
import { trainImageClassifier, type TrainImageClassifierResult } from '../tasks/image_classification/train.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnistAvailable, writeSplitFoldersOnce } from './fashion_mnist_folders.js';
import { defaultImageRecipe, type ImageRecipe } from '../tasks/image_classification/schema.js';

/** Class indices (into FASHION_MNIST_CLASSES) of the set the saved backbone is trained on. */
const SOURCE_CLASSES = [0, 1, 7, 8, 9];
/** Class indices of the set it is transferred to. */
const TARGET_CLASSES = [2, 3, 4, 5, 6];
const IMAGE_SIZE = 32;
const NETWORKS = ['simple_cnn', 'resnet18'];
/**
 * How the target runs start: the saved run A as a frozen backbone (strategy freeze), the same network with random
 * weights (the default no_freeze strategy), or — opt-in, a diagnostic — run A's backbone with every layer training
 * (strategy no_freeze).
 */
const INITS = ['saved_backbone_freeze', 'saved_backbone_freeze_cut', 'scratch', 'saved_backbone_no_freeze'];
/**
 * Where saved_backbone_freeze_cut cuts each network's saved backbone. resnet18 at 32 px: its last stage is a 1×1
 * map whose 512 features were trained to tell the source classes apart; the second stage's output (conv3_block2_out,
 * 4×4×128) is more general and flattening it keeps where in the image a feature is. simple_cnn's backbone already
 * ends at its flattened convolutional features, so it has no cut row.
 */
const CUTS: Record<string, { cut: string; pooling: ImageRecipe['model']['pooling'] }> = {
  resnet18: { cut: 'conv3_block2_out', pooling: 'flatten' },
};


function listArg(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Writes `<dir>/{source,target}/{train,val,test}/<class>/*.png` unless a previous run wrote the same (a marker
 * says so).
 */
function ensureData(root: string, perClass: number, valPerClass: number, testPerClass: number): Promise<string> {
  const dir = join(root, `transfer-${perClass}-${valPerClass}-${testPerClass}`);
  const key = { perClass, valPerClass, testPerClass, source: SOURCE_CLASSES, target: TARGET_CLASSES, classes: FASHION_MNIST_CLASSES };
  // All 10 classes are written into dir/{train,val,test}; then the chosen ones move to source/ and target/.
  return writeSplitFoldersOnce(dir, { perClass, valPerClass, testPerClass }, key, log, async (d) => {
    for (const sub of ['train', 'val', 'test']) {
      for (const [set, classes] of [['source', SOURCE_CLASSES], ['target', TARGET_CLASSES]] as const) {
        await mkdir(join(d, set, sub), { recursive: true });
        for (const c of classes) await rename(join(d, sub, FASHION_MNIST_CLASSES[c]), join(d, set, sub, FASHION_MNIST_CLASSES[c]));
      }
      await rm(join(d, sub), { recursive: true, force: true });
    }
  });
}

interface RunSpec {
  backbone: string;
  folder: string;
  epochs: number;
  outDir: string;
  strategy: string | null;
  cut: (typeof CUTS)[string] | null;
  /** null = the optimizer's default (run A). */
  learningRate: number | null;
  backend: string;
  /** trainer.seed: weight init, shuffling, augmentation. */
  seed: number;
}

async function run(spec: RunSpec, io: CliIO): Promise<{ result: TrainImageClassifierResult; seconds: number }> {
  const recipe: ImageRecipe = defaultImageRecipe();
  recipe.model.backbone = spec.backbone;
  recipe.data.folder = spec.folder;
  recipe.data.image_size = IMAGE_SIZE;
  recipe.trainer.max_epochs = spec.epochs;
  recipe.trainer.output_dir = spec.outDir;
  recipe.trainer.backend = spec.backend;
  recipe.trainer.quiet = true;
  recipe.finetune.strategy = spec.strategy;
  recipe.model.learning_rate = spec.learningRate;
  if (spec.cut) {
    recipe.model.cut = spec.cut.cut;
    recipe.model.pooling = spec.cut.pooling;
  }
  recipe.trainer.seed = spec.seed;
  const t0 = performance.now();
  const result = await trainImageClassifier({ recipe, io });
  const seconds = (performance.now() - t0) / 1000;
  if (result.metrics.test_accuracy === undefined) throw new Error(`run ${spec.outDir} reported no test_accuracy (metrics: ${JSON.stringify(result.metrics)})`);
  return { result, seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      networks: { type: 'string', default: 'simple_cnn' },
      epochs: { type: 'string', default: '1,3' },
      inits: { type: 'string', default: 'saved_backbone_freeze,saved_backbone_freeze_cut,scratch' },
      lrs: { type: 'string', default: '0.001,0.003,0.01' },
      source_epochs: { type: 'string' },
      source_per_class: { type: 'string' },
      per_class: { type: 'string' },
      val_per_class: { type: 'string' },
      test_per_class: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      cache: { type: 'string' },
      keep: { type: 'boolean', default: false },
      seeds: { type: 'string', default: '42' },
    },
    strict: true,
  });
  const networks = listArg(values.networks ?? 'simple_cnn');
  for (const n of networks) {
    if (!NETWORKS.includes(n)) {
      log(`--networks: unknown network '${n}' (one of ${NETWORKS.join(', ')})`);
      process.exit(2);
    }
  }
  const inits = listArg(values.inits ?? 'saved_backbone_freeze,saved_backbone_freeze_cut,scratch');
  for (const i of inits) {
    if (!INITS.includes(i)) {
      log(`--inits: unknown init '${i}' (one of ${INITS.join(', ')})`);
      process.exit(2);
    }
  }
  const lrs = listArg(values.lrs ?? '0.001,0.003,0.01').map((v) => {
    const lr = Number(v);
    if (!(lr > 0)) {
      log(`--lrs: '${v}' is not a positive number`);
      process.exit(2);
    }
    return lr;
  });
  const budgets = listArg(values.epochs ?? '1,3').map((e) => intArg('epochs', e, 1));
  const sourceEpochs = intArg('source_epochs', values.source_epochs, 3);
  const perClass = intArg('per_class', values.per_class, 300);
  const sourcePerClass = intArg('source_per_class', values.source_per_class, 2000);
  const valPerClass = intArg('val_per_class', values.val_per_class, 50);
  const testPerClass = intArg('test_per_class', values.test_per_class, 100);
  const backend = values.backend ?? 'auto';
  const seeds = listArg(values.seeds ?? '42').map((s) => intArg('seeds', s, 42, 0));
  if (!fashionMnistAvailable()) {
    log(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR`);
    process.exit(1);
  }
  const cacheRoot = values.cache ?? join(tmpdir(), 'flash-bench');
  // Transfer's usual shape: a large source set for run A, a small target set (per_class) for the runs compared.
  const source = join(await ensureData(cacheRoot, sourcePerClass, valPerClass, testPerClass), 'source');
  const target = join(await ensureData(cacheRoot, perClass, valPerClass, testPerClass), 'target');
  const runsDir = await mkdtemp(join(tmpdir(), 'flash-bench-transfer-'));
  const io: CliIO = { out: (t) => process.stderr.write(t), err: (t) => process.stderr.write(t), isTTY: false, cwd: process.cwd(), env: process.env };

  try {
    for (const seed of seeds) {
      for (const network of networks) {
        const runA = join(runsDir, `${network}-source-${seed}`);
        log(`\n== ${network}: run A, ${sourceEpochs} epoch(s) from scratch on source classes ${SOURCE_CLASSES.map((c) => FASHION_MNIST_CLASSES[c]).join(', ')}`);
        const a = await run({ backbone: network, folder: source, epochs: sourceEpochs, outDir: runA, strategy: null, cut: null, learningRate: null, backend, seed }, io);
        log(`run A (${network}): source test_accuracy ${a.result.metrics.test_accuracy.toFixed(4)} in ${a.seconds.toFixed(1)} s, saved to ${runA}`);
        for (const epochs of budgets) {
          for (const init of inits) {
            const cut = init === 'saved_backbone_freeze_cut' ? CUTS[network] : null;
            if (init === 'saved_backbone_freeze_cut' && !cut) continue;
            const fromSaved = init !== 'scratch';
            const rows: Array<Record<string, unknown> & { val_accuracy: number }> = [];
            for (const learningRate of lrs) {
              log(`\n== ${network}: ${init}, ${epochs} epoch(s), lr ${learningRate} on target classes ${TARGET_CLASSES.map((c) => FASHION_MNIST_CLASSES[c]).join(', ')}`);
              const { result, seconds } = await run(
                {
                  backbone: fromSaved ? runA : network,
                  folder: target,
                  epochs,
                  outDir: join(runsDir, `${network}-${init}-${epochs}-${learningRate}-${seed}`),
                  strategy: init === 'scratch' ? null : init === 'saved_backbone_no_freeze' ? 'no_freeze' : 'freeze',
                  cut,
                  learningRate,
                  backend,
                  seed,
                },
                io,
              );
              const flashJson = JSON.parse(await readFile(join(result.runDir, 'flash.json'), 'utf8')) as { data: { train: number } };
              const row = {
                bench: 'transfer',
                network,
                init,
                epochs,
                seed,
                lr: learningRate,
                ...(cut ? { cut: `${cut.cut}:${cut.pooling}` } : {}),
                val_accuracy: round(result.metrics.val_accuracy, 4),
                test_accuracy: round(result.metrics.test_accuracy, 4),
                train_images: flashJson.data.train,
                seconds: round(seconds, 1),
              };
              rows.push(row);
              process.stdout.write(`${JSON.stringify(row)}\n`);
            }
            // Each init at its own best learning rate, picked on validation accuracy (the first, lower rate on a tie).
            const best = rows.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a));
            process.stdout.write(`${JSON.stringify({ ...best, lr: 'best_val', lr_chosen: best.lr })}\n`);
          }
        }
      }
    }
  } finally {
    if (values.keep) log(`run folders kept: ${runsDir}`);
    else await rm(runsDir, { recursive: true, force: true });
  }
}


runBench(main);
