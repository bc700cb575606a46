import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { backbones, type BackboneSpec } from '../../backbones/index.js';
import { loadBackbone, looksLikePath } from '../../backbones/saved.js';
import { parsePretrained } from '../../backbones/weights.js';
import { fixedLearningRate, monitorDirection } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { isArchiveSource } from '../../src/core/data/index.js';
import { isBatchNorm } from '../../src/core/finetuning/index.js';
import { commandHint } from '../../src/core/hints.js';
import { withSeededRandom } from '../../src/core/random.js';
import { trainRun, type RunContext, type TrainRunHooks, type TrainRunResult } from '../../src/core/run/train_run.js';
import { lrFindRun, type LrFindResult } from '../../src/core/run/lr_find.js';
import type { TaskIO } from '../../src/core/task_io.js';
import type { Callback, DataModuleLike } from '../../src/core/trainer/types.js';
import { builders, demoDataFolder, recipeHasNoData } from './builders.js';
import { briefCheck } from './check.js';
import { chooseClassWeights, IMBALANCE_RATIO } from './data/imbalance.js';
import type { ImageClassificationData } from './data/index.js';
import { dataOptions } from './data_options.js';
import { ImageClassifier } from './model.js';
import { multiLabelRun, perLabelTable } from '../classification/multi_label.js';
import { table } from './predict.js';
import { writeRunReport } from './report/index.js';
import { IMAGE_SCHEMA, type ImageRecipe } from './schema.js';

export interface TrainImageClassifierArgs {
  recipe: ImageRecipe;
  /** A run folder to continue (its saved recipe is used). */
  resume?: string;
  io: TaskIO;
  /** Extra callbacks (programmatic use). */
  callbacks?: Callback[];
  /** Lets the caller interrupt (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Replace what the output folder holds (`--overwrite`). */
  overwrite?: boolean;
}

export type TrainImageClassifierResult = TrainRunResult;

/**
 * The recipe's `model.backbone`: a registered name, or a path (a flash run folder or its model.json) whose
 * backbone is loaded with its weights, input size and normalisation.
 */
export async function resolveBackbone(name: string, cwd: string): Promise<string | BackboneSpec> {
  // A registered name wins over a folder of the same name (write ./resnet18 for the folder).
  if (backbones.has(name) || (!looksLikePath(name) && !existsSync(resolve(cwd, name)))) return name;
  return loadBackbone(resolve(cwd, name));
}

/** Builds the data a recipe describes, at the backbone's input size unless the recipe sets one. */
export async function buildData(recipe: ImageRecipe, io: TaskIO, resolved?: string | BackboneSpec): Promise<ImageClassificationData> {
  const spec = resolved ?? (await resolveBackbone(recipe.model.backbone, io.cwd));
  const backbone = typeof spec === 'string' ? backbones.get(spec) : spec;
  const d = recipe.data;
  const fixed = backbone.fixedInput;
  const common = dataOptions(recipe, io, {
    imageSize: d.image_size ?? backbone.defaultImageSize,
    // A saved backbone fixes the channels; a mismatching explicit setting is reported when the model is built.
    channels: fixed && d.channels === 'auto' ? (fixed[2] as 1 | 3) : d.channels,
  });
  return builders.get(d.builder).build(d, common, io.cwd);
}

/** image_classification's part of a run: its data, its classifier, its flash.json fields and its report. */
function imageHooks(): TrainRunHooks<ImageRecipe, ImageClassificationData, ImageClassifier> {
  let backbone: string | BackboneSpec = 'simple_cnn';
  let multi = { monitor: 'val_accuracy', monitorMode: 'auto' as 'auto' | 'max' | 'min' };
  return {
    async beforeData(ctx) {
      const { recipe, say } = ctx;
      if (!ctx.resuming && recipeHasNoData(recipe.data)) say('no data given: training on the bundled Fashion-MNIST demo set (data/demo/fashion_mnist)');
      backbone = await resolveBackbone(recipe.model.backbone, ctx.io.cwd);
      await briefCheck(recipe, ctx.io, say);
      if (recipe.data.sampler === 'balanced' && recipe.model.multi_label === 'true') {
        throw new FlashUserError('--data.sampler balanced draws by class and multi-label images have several; use --data.sampler none');
      }
    },
    async buildData(ctx) {
      const { recipe, say } = ctx;
      const data = await buildData(recipe, ctx.io, backbone);
      say(`data: ${data.summary()}`);
      if (recipe.model.multi_label === 'true' && !data.multiLabel) {
        throw new FlashUserError(`--model.multi_label true needs multi-label data: from_csv with several 0/1 target columns or one column of separated labels (builder: ${recipe.data.builder})`);
      }
      multi = multiLabelRun(recipe, data.multiLabel, say);
      if (data.ignored.length > 0) say(`ignored ${data.ignored.length} non-image file(s), e.g. ${data.ignored[0]}`);
      return data;
    },
    async buildModule(data, ctx) {
      const { recipe, say, io } = ctx;
      const model = new ImageClassifier({
        backbone,
        labels: data.labels,
        head: recipe.model.head ?? undefined,
        cut: recipe.model.cut,
        pooling: recipe.model.pooling,
        optimizer: recipe.model.optimizer,
        learningRate: fixedLearningRate(recipe.model.learning_rate),
        weightDecay: recipe.model.weight_decay,
        dropout: recipe.model.dropout,
        multiLabel: data.multiLabel,
        threshold: recipe.model.threshold,
        // On --resume the checkpoint's weights replace whatever the backbone starts with.
        pretrained: ctx.resuming ? false : parsePretrained(recipe.model.pretrained),
        backboneLrMult: recipe.finetune.backbone_lr_mult,
        pretrainedOptions: { cacheDir: io.env.FLASH_CACHE_DIR || undefined, cwd: io.cwd, log: say, progress: downloadProgress(io) },
      });
      if (typeof backbone !== 'string') say(`backbone: ${backbone.description}`);
      await withSeededRandom(recipe.trainer.seed, () => model.setup(data));
      if (model.cutInfo) {
        const { layer, shape, pooling, numFeatures } = model.cutInfo;
        say(`backbone cut after '${layer}' (${shape.join('×')}${shape.length === 3 ? `, ${pooling}` : ''} → ${numFeatures} features)`);
      }
      // Class imbalance: inverse-frequency loss weights (auto: when the largest class > 3x the smallest), or oversampling.
      const trainCounts = data.train.classCounts(data.numClasses);
      if (data.multiLabel) {
        // Inverse-frequency weights are defined per class of a one-label image; with several labels per image they are not.
        say(`class weights: off (multi-label: binary cross-entropy per label; train images per label: ${data.labels.map((l, i) => `${l} ${trainCounts[i]}`).join(', ')})`);
      } else if (recipe.data.sampler === 'balanced') {
        say(`sampler: balanced — each epoch draws ${data.train.size} train images with every class about equally often; class weights off`);
      } else {
        const weighting = chooseClassWeights(recipe.data.class_weights, trainCounts, data.labels);
        model.classWeights = weighting.weights;
        if (weighting.weights || weighting.ratio > IMBALANCE_RATIO) say(weighting.message);
      }
      return model;
    },
    backboneTrained: (model, ctx) => model.backboneTrained || parsePretrained(ctx.recipe.model.pretrained) !== false,
    monitor: () => ({ monitor: multi.monitor, mode: monitorDirection(multi.monitor, multi.monitorMode) }),
    fitData(model, data, phases, ctx) {
      const { recipe, say } = ctx;
      // A frozen backbone without augmentation sees the same images every epoch: compute its features once.
      // (With train_bn, BatchNorm layers keep training in a "frozen" backbone, so its features change: no cache.)
      const hasBn = model.backbone().layers.some(isBatchNorm);
      const frozenSomewhere = phases.some((p) => p.plan.unfrozen === 0 && !(p.plan.trainBn && hasBn));
      if (!frozenSomewhere) return data;
      // (The balanced sampler draws a new order of the source split every epoch: no cache.)
      const cacheTrain = !recipe.data.augment && recipe.data.sampler !== 'balanced';
      const train = cacheTrain
        ? model.withFeatureCache(data.train, (n, f) =>
            say(`feature cache: the backbone is frozen and augmentation is off, so it ran once over the ${n} training images; the head trains from their ${f} cached features`),
          )
        : data.train;
      // Validation images are never augmented, so while the backbone is frozen their features are computed once too.
      const val = data.val ? model.withFeatureCache(data.val) : undefined;
      if (recipe.data.augment) say('note: with --data.augment false the frozen backbone would run once and the head train from cached features');
      const fit: DataModuleLike = { train, val, test: data.test, batchSize: data.batchSize };
      return fit;
    },
    // The backbone as flash.json records it: a registered name, or the saved backbone's path as given.
    metadata: (model, data, ctx) => ({ ...model.metadata(data.spec), backbone: ctx.recipe.model.backbone }),
    load: (runDir) => ImageClassifier.load(runDir),
    async afterRun(ctx, data, done) {
      const { io, say, runDir } = ctx;
      // The report is a convenience: a failure to draw it is a warning, never a lost run.
      const evalSplit = data.test ? { name: 'test' as const, split: data.test } : data.val ? { name: 'val' as const, split: data.val } : null;
      try {
        const report = await writeRunReport(runDir, { split: evalSplit, cwd: io.cwd, loggers: done.loggers, step: done.fit.history.length, onWarning: (m) => io.err(`warning: ${m}\n`) });
        say(`report: ${relative(io.cwd, report.html)} (plots: ${Object.keys(report.pngs).map((n) => `${n}.png`).join(', ')})`);
        const ev = report.data.evaluation;
        if (ev) {
          const rows = ev.perClass.map((r) => [r.label, r.precision.toFixed(3), r.recall.toFixed(3), r.f1.toFixed(3), String(r.support)]);
          say(`per-class metrics (best model, ${ev.source}):\n${table(['class', 'precision', 'recall', 'f1', 'support'], rows)}`);
        }
      } catch (err) {
        io.err(`warning: could not write the run report: ${(err as Error).message}\n`);
      }
      if (data.multiLabel && evalSplit) {
        const reloaded = await ImageClassifier.load(runDir);
        try {
          const perLabel = await perLabelTable(reloaded, evalSplit.split, data.batchSize, 'images');
          say(`per-label metrics (best model, ${evalSplit.name} split, threshold ${reloaded.threshold}):\n${perLabel}`);
        } finally {
          reloaded.network().dispose();
        }
      }
    },
    hints(ctx, data) {
      const threshold = data.multiLabel ? ['--threshold', String(ctx.recipe.model.threshold)] : [];
      return [`predict with: ${commandHint(['predict', '--model', { path: ctx.runDir }, '--folder', '<images>', ...threshold], { cwd: ctx.io.cwd, env: ctx.io.env })}`];
    },
    dispose: (model) => model.network().dispose(),
    dataFolders(recipe, cwd) {
      const d = recipe.data;
      const local = [d.folder, d.train_folder, d.val_folder, d.test_folder, d.predict_folder, d.images_root].filter((f): f is string => f !== null && !isArchiveSource(f));
      return [...local.map((f) => resolve(cwd, f)), ...(recipeHasNoData(d) ? [demoDataFolder()] : [])];
    },
  };
}

/**
 * Trains an image classifier as the recipe says and writes the run folder: best model (model.json + weights),
 * flash.json, recipe.yaml, metrics.csv and last/ for resuming. The function behind `flash image_classification`.
 */
export async function trainImageClassifier(args: TrainImageClassifierArgs): Promise<TrainImageClassifierResult> {
  return trainRun(imageHooks(), { ...args, schema: IMAGE_SCHEMA });
}

/** `flash lr_find image_classification …`: the LR finder on the recipe's data and a throwaway classifier. */
export async function findImageLearningRate(args: { recipe: ImageRecipe; io: TaskIO }): Promise<LrFindResult> {
  return lrFindRun(imageHooks(), args);
}

/** Download progress on stderr: a bar redrawn in place on a terminal, nothing otherwise (the notes say what happens). */
function downloadProgress(io: TaskIO): ((file: string, received: number, total: number | undefined) => void) | undefined {
  if (!io.isTTY) return undefined;
  let last = -1;
  return (file, received, total) => {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const pct = total ? Math.floor((100 * received) / total) : -1;
    if (pct === last && total) return;
    last = pct;
    const width = 24;
    const bar = total ? `[${'#'.repeat(Math.round((width * received) / total)).padEnd(width, '.')}] ${pct}%` : `${mb(received)} MB`;
    io.err(`\r${file.split('/').pop()} ${bar} ${total ? `${mb(received)}/${mb(total)} MB` : ''}${total && received >= total ? '\n' : ''}`);
  };
}
