/**
 * Transfer from a real pretrained checkpoint (issue 18): nsfwjs's Keras-applications MobileNetV2 (ImageNet-
 * initialised, then trained by nsfwjs on its own 5 classes; a devDependency, see test/helpers/nsfwjs.ts) frozen
 * as `mobilenet_v2_100`, flash's own saved MobileNetV2 (run A, below) frozen, and the network from scratch, on
 * the target classes of bench/transfer.ts (Fashion-MNIST 2, 3, 4, 5, 6: Pullover, Dress, Coat, Sandal, Shirt)
 * at 96 px. A small version for a 2-core machine; not part of `npm test`.
 *
 *   npm run build && node dist/bench/transfer_pretrained.js [--per_class 100] [--val_per_class 20]
 *       [--test_per_class 50] [--epochs 1,3] [--seeds 42] [--inits pretrained_freeze,saved_freeze,scratch]
 *       [--image_size 96] [--train_bn false,true] [--lrs 0.001,0.003,0.01]
 *       [--source_network mobilenet_v2_035] [--source_per_class 400] [--source_epochs 3]
 *
 *   - pretrained_freeze: `--model.pretrained <the checkpoint folder> --finetune.strategy freeze
 *     --finetune.train_bn <each of --train_bn> --data.augment false --model.learning_rate <each of --lrs>`;
 *     with train_bn false BatchNorm runs in inference mode, so the feature cache applies (the backbone runs once
 *     per image); with train_bn true the BatchNorm layers train and the whole backbone runs every step;
 *   - saved_freeze: run A, flash's own `--source_network` trained from scratch on the source classes 0, 1, 7, 8, 9
 *     (disjoint from the target ones) at the same image size, saved as a run folder (once, seed 42), then
 *     `--model.backbone <source_network> --model.pretrained <run A folder>` frozen like pretrained_freeze;
 *   - scratch: `--model.backbone mobilenet_v2_100` with random weights, the default no_freeze, lr 1e-3.
 * Every run goes through trainImageClassifier; the images are 1-channel, so the checkpoint's RGB Conv1 kernel is
 * summed over colour. Prints one JSON line per run on stdout (run A's line first), seeds outermost, so an
 * interrupted run still leaves whole seeds.
 */
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIO } from '../src/cli/types.js';
import { trainImageClassifier } from '../tasks/image_classification/train.js';
import { defaultImageRecipe } from '../tasks/image_classification/schema.js';
import { nsfwjsMissing, nsfwjsMobileNetV2, writeNsfwjsModelFolder } from '../test/helpers/nsfwjs.js';
import { intArg, log, round, runBench } from './common.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnistAvailable, writeSplitFoldersOnce } from './fashion_mnist_folders.js';

const SOURCE_CLASSES = [0, 1, 7, 8, 9];
const TARGET_CLASSES = [2, 3, 4, 5, 6];
const INITS = ['pretrained_freeze', 'saved_freeze', 'scratch'];

/** Writes train/val/test PNG folders of Fashion-MNIST once, keeping only `classes` (under `<dir>/<name>/`). */
async function classFolders(dir: string, name: string, classes: number[], sizes: { perClass: number; valPerClass: number; testPerClass: number }): Promise<string> {
  await writeSplitFoldersOnce(dir, sizes, { ...sizes, [name]: classes }, log, async (d) => {
    for (const sub of ['train', 'val', 'test']) {
      await mkdir(join(d, name, sub), { recursive: true });
      for (const c of classes) await rename(join(d, sub, FASHION_MNIST_CLASSES[c]), join(d, name, sub, FASHION_MNIST_CLASSES[c]));
      await rm(join(d, sub), { recursive: true, force: true });
    }
  });
  return join(dir, name);
}

const list = (raw: string | undefined, fallback: string): string[] => (raw ?? fallback).split(',').filter(Boolean);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      per_class: { type: 'string' },
      val_per_class: { type: 'string' },
      test_per_class: { type: 'string' },
      epochs: { type: 'string', default: '1,3' },
      seeds: { type: 'string', default: '42' },
      inits: { type: 'string', default: INITS.join(',') },
      image_size: { type: 'string' },
      train_bn: { type: 'string', default: 'false' },
      lrs: { type: 'string', default: '0.003' },
      source_network: { type: 'string', default: 'mobilenet_v2_035' },
      source_per_class: { type: 'string' },
      source_epochs: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      cache: { type: 'string' },
    },
    strict: true,
  });
  const perClass = intArg('per_class', values.per_class, 100);
  const valPerClass = intArg('val_per_class', values.val_per_class, 20);
  const testPerClass = intArg('test_per_class', values.test_per_class, 50);
  const imageSize = intArg('image_size', values.image_size, 96);
  const sourcePerClass = intArg('source_per_class', values.source_per_class, 400);
  const sourceEpochs = intArg('source_epochs', values.source_epochs, 3);
  const sourceNetwork = values.source_network ?? 'mobilenet_v2_035';
  const budgets = list(values.epochs, '1,3').map((e) => intArg('epochs', e, 1));
  const seeds = list(values.seeds, '42').map((s) => intArg('seeds', s, 42, 0));
  const inits = list(values.inits, '');
  const trainBns = list(values.train_bn, 'false').map((v) => {
    if (v !== 'true' && v !== 'false') throw new Error(`--train_bn: true or false, got '${v}'`);
    return v === 'true';
  });
  const lrs = list(values.lrs, '0.003').map((v) => {
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--lrs: positive numbers, got '${v}'`);
    return n;
  });
  for (const i of inits) if (!INITS.includes(i)) throw new Error(`--inits: unknown '${i}' (one of ${INITS.join(', ')})`);
  if (!fashionMnistAvailable()) throw new Error(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}`);
  const ckpt = nsfwjsMobileNetV2();
  if (!ckpt) throw new Error(nsfwjsMissing);

  const cacheRoot = values.cache ?? join(tmpdir(), 'flash-bench');
  const target = await classFolders(join(cacheRoot, `transfer-pretrained-${perClass}-${valPerClass}-${testPerClass}`), 'target', TARGET_CLASSES, { perClass, valPerClass, testPerClass });
  const runsDir = await mkdtemp(join(tmpdir(), 'flash-bench-transfer-pretrained-'));
  const checkpoint = join(runsDir, 'nsfwjs-mobilenet_v2');
  await writeNsfwjsModelFolder(ckpt, checkpoint);
  // Whether a run used the feature cache: its log says so.
  let cacheUsed = false;
  const io: CliIO = {
    out: (t) => {
      if (t.startsWith('feature cache:')) cacheUsed = true;
      process.stderr.write(t);
    },
    err: (t) => process.stderr.write(t),
    isTTY: false,
    cwd: process.cwd(),
    env: process.env,
  };
  const base = (folder: string, network: string, epochs: number, seed: number, out: string) => {
    const recipe = defaultImageRecipe();
    recipe.model.backbone = network;
    recipe.data.folder = folder;
    recipe.data.image_size = imageSize;
    recipe.trainer.max_epochs = epochs;
    recipe.trainer.output_dir = join(runsDir, out);
    recipe.trainer.backend = values.backend ?? 'wasm';
    recipe.trainer.quiet = true;
    recipe.trainer.seed = seed;
    return recipe;
  };
  type Recipe = ReturnType<typeof base>;
  const run = async (recipe: Recipe, fields: Record<string, unknown>) => {
    cacheUsed = false;
    const t0 = performance.now();
    const result = await trainImageClassifier({ recipe, io });
    const seconds = (performance.now() - t0) / 1000;
    const flashJson = JSON.parse(await readFile(join(result.runDir, 'flash.json'), 'utf8')) as { data: { train: number } };
    const row = {
      bench: 'transfer_pretrained',
      ...fields,
      lr: recipe.model.learning_rate,
      train_bn: recipe.finetune.train_bn,
      feature_cache: cacheUsed,
      image_size: imageSize,
      val_accuracy: round(result.metrics.val_accuracy, 4),
      test_accuracy: round(result.metrics.test_accuracy ?? NaN, 4),
      train_images: flashJson.data.train,
      seconds: round(seconds, 1),
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return result;
  };
  try {
    // Run A: flash's own backbone, trained on the source classes (disjoint from the target ones), saved as a run folder.
    let runA: string | undefined;
    if (inits.includes('saved_freeze')) {
      const source = await classFolders(join(cacheRoot, `transfer-pretrained-source-${sourcePerClass}-50-50`), 'source', SOURCE_CLASSES, { perClass: sourcePerClass, valPerClass: 50, testPerClass: 50 });
      const recipe = base(source, sourceNetwork, sourceEpochs, 42, 'run_a');
      log(`\n== run A: ${sourceNetwork} from scratch on the source classes, ${sourceEpochs} epoch(s), ${imageSize} px`);
      runA = (await run(recipe, { network: sourceNetwork, init: 'run_a_source', epochs: sourceEpochs, seed: 42 })).runDir;
    }
    for (const seed of seeds) {
      for (const epochs of budgets) {
        for (const init of inits) {
          if (init === 'scratch') {
            const recipe = base(target, 'mobilenet_v2_100', epochs, seed, `${init}-${epochs}-${seed}`);
            recipe.model.learning_rate = 0.001;
            log(`\n== mobilenet_v2_100 scratch, ${epochs} epoch(s), seed ${seed}, ${imageSize} px`);
            await run(recipe, { network: 'mobilenet_v2_100', init, epochs, seed });
            continue;
          }
          const network = init === 'saved_freeze' ? sourceNetwork : 'mobilenet_v2_100';
          for (const trainBn of init === 'saved_freeze' ? [false] : trainBns) {
            for (const lr of lrs) {
              const recipe = base(target, network, epochs, seed, `${init}-${epochs}-${seed}-${trainBn}-${lr}`);
              recipe.model.pretrained = init === 'saved_freeze' ? runA! : checkpoint;
              recipe.finetune.strategy = 'freeze';
              recipe.finetune.train_bn = trainBn;
              recipe.data.augment = false;
              recipe.model.learning_rate = lr;
              log(`\n== ${network} ${init}, train_bn ${trainBn}, lr ${lr}, ${epochs} epoch(s), seed ${seed}, ${imageSize} px`);
              await run(recipe, { network, init, epochs, seed });
            }
          }
        }
      }
    }
  } finally {
    await rm(runsDir, { recursive: true, force: true });
  }
}

runBench(main);
