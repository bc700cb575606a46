/**
 * Transfer from a real pretrained checkpoint (issue 18): nsfwjs's Keras-applications MobileNetV2 (ImageNet-
 * initialised, then trained by nsfwjs on its own 5 classes; a devDependency, see test/helpers/nsfwjs.ts) frozen
 * as `mobilenet_v2_100` versus the same network from scratch, on the target classes of bench/transfer.ts
 * (Fashion-MNIST 2, 3, 4, 5, 6: Pullover, Dress, Coat, Sandal, Shirt) at 96 px. A small version for a 2-core
 * machine; not part of `npm test`.
 *
 *   npm run build && node dist/bench/transfer_pretrained.js [--per_class 100] [--val_per_class 20]
 *       [--test_per_class 50] [--epochs 1,3] [--seeds 42] [--inits pretrained_freeze,scratch] [--image_size 96]
 *
 *   - pretrained_freeze: `--model.pretrained <the checkpoint folder> --finetune.strategy freeze
 *     --finetune.train_bn false --data.augment false --model.learning_rate 0.003` (BatchNorm in inference mode,
 *     so the feature cache applies: the backbone runs once per image);
 *   - scratch: `--model.backbone mobilenet_v2_100` with random weights, the default no_freeze, lr 1e-3.
 * One learning rate each (no sweep). Every run goes through trainImageClassifier; the images are 1-channel, so the
 * checkpoint's RGB Conv1 kernel is summed over colour. Prints one JSON line per run on stdout.
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

const TARGET_CLASSES = [2, 3, 4, 5, 6];
const INITS = ['pretrained_freeze', 'scratch'];

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
      backend: { type: 'string', default: 'wasm' },
      cache: { type: 'string' },
    },
    strict: true,
  });
  const perClass = intArg('per_class', values.per_class, 100);
  const valPerClass = intArg('val_per_class', values.val_per_class, 20);
  const testPerClass = intArg('test_per_class', values.test_per_class, 50);
  const imageSize = intArg('image_size', values.image_size, 96);
  const budgets = (values.epochs ?? '1,3').split(',').map((e) => intArg('epochs', e, 1));
  const seeds = (values.seeds ?? '42').split(',').map((s) => intArg('seeds', s, 42, 0));
  const inits = (values.inits ?? '').split(',').filter(Boolean);
  for (const i of inits) if (!INITS.includes(i)) throw new Error(`--inits: unknown '${i}' (one of ${INITS.join(', ')})`);
  if (!fashionMnistAvailable()) throw new Error(`Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}`);
  const ckpt = nsfwjsMobileNetV2();
  if (!ckpt) throw new Error(nsfwjsMissing);

  const cacheRoot = values.cache ?? join(tmpdir(), 'flash-bench');
  const dataDir = join(cacheRoot, `transfer-pretrained-${perClass}-${valPerClass}-${testPerClass}`);
  await writeSplitFoldersOnce(dataDir, { perClass, valPerClass, testPerClass }, { perClass, valPerClass, testPerClass, target: TARGET_CLASSES }, log, async (d) => {
    for (const sub of ['train', 'val', 'test']) {
      await mkdir(join(d, 'target', sub), { recursive: true });
      for (const c of TARGET_CLASSES) await rename(join(d, sub, FASHION_MNIST_CLASSES[c]), join(d, 'target', sub, FASHION_MNIST_CLASSES[c]));
      await rm(join(d, sub), { recursive: true, force: true });
    }
  });
  const runsDir = await mkdtemp(join(tmpdir(), 'flash-bench-transfer-pretrained-'));
  const checkpoint = join(runsDir, 'nsfwjs-mobilenet_v2');
  await writeNsfwjsModelFolder(ckpt, checkpoint);
  const io: CliIO = { out: (t) => process.stderr.write(t), err: (t) => process.stderr.write(t), isTTY: false, cwd: process.cwd(), env: process.env };
  try {
    for (const seed of seeds) {
      for (const epochs of budgets) {
        for (const init of inits) {
          const recipe = defaultImageRecipe();
          recipe.model.backbone = 'mobilenet_v2_100';
          recipe.data.folder = join(dataDir, 'target');
          recipe.data.image_size = imageSize;
          recipe.trainer.max_epochs = epochs;
          recipe.trainer.output_dir = join(runsDir, `${init}-${epochs}-${seed}`);
          recipe.trainer.backend = values.backend ?? 'wasm';
          recipe.trainer.quiet = true;
          recipe.trainer.seed = seed;
          if (init === 'pretrained_freeze') {
            recipe.model.pretrained = checkpoint;
            recipe.finetune.strategy = 'freeze';
            recipe.finetune.train_bn = false;
            recipe.data.augment = false;
            recipe.model.learning_rate = 0.003;
          } else {
            recipe.model.learning_rate = 0.001;
          }
          log(`\n== mobilenet_v2_100 ${init}, ${epochs} epoch(s), seed ${seed}, ${imageSize} px`);
          const t0 = performance.now();
          const result = await trainImageClassifier({ recipe, io });
          const seconds = (performance.now() - t0) / 1000;
          const flashJson = JSON.parse(await readFile(join(result.runDir, 'flash.json'), 'utf8')) as { data: { train: number } };
          const row = {
            bench: 'transfer_pretrained',
            network: 'mobilenet_v2_100',
            init,
            epochs,
            seed,
            lr: recipe.model.learning_rate,
            image_size: imageSize,
            val_accuracy: round(result.metrics.val_accuracy, 4),
            test_accuracy: round(result.metrics.test_accuracy ?? NaN, 4),
            train_images: flashJson.data.train,
            seconds: round(seconds, 1),
          };
          process.stdout.write(`${JSON.stringify(row)}\n`);
        }
      }
    }
  } finally {
    await rm(runsDir, { recursive: true, force: true });
  }
}

runBench(main);
