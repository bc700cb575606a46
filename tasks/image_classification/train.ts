import { existsSync } from 'node:fs';
import { access, mkdir, constants as fsConstants } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { backbones, type BackboneSpec } from '../../backbones/index.js';
import { loadBackbone, looksLikePath } from '../../backbones/saved.js';
import { parsePretrained } from '../../backbones/weights.js';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { EarlyStopping, ModelCheckpoint, ProgressCallback, formatLogs } from '../../src/core/callbacks/index.js';
import { recipeToYaml, type Recipe } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { cacheDir } from '../../src/core/data/index.js';
import { defaultStrategy, isBatchNorm, strategies } from '../../src/core/finetuning/index.js';
import { fsUserError, writeFileAtomic } from '../../src/core/io/atomic.js';
import { loadCheckpoint } from '../../src/core/io/checkpoint.js';
import { StepMetricsCallback, loggers } from '../../src/core/loggers/index.js';
import { withSeededRandom } from '../../src/core/random.js';
import { briefCheck } from './check.js';
import { writeRunReport } from './report/index.js';
import { chooseClassWeights, IMBALANCE_RATIO } from './data/imbalance.js';
import { table } from './predict.js';
import { Trainer, type FitResult, type ResumeState } from '../../src/core/trainer/trainer.js';
import type { Callback, DataModuleLike, EpochLogs } from '../../src/core/trainer/types.js';
import type { CliIO } from '../../src/cli/types.js';
import { builders, recipeHasNoData } from './builders.js';
import type { ImageClassificationData } from './data/index.js';
import { ImageClassifier, readFlashJson } from './model.js';
import { multiLabelMode, multiLabelRun, perLabelTable } from './multi_label.js';
import { versions, writeFlashJson, type FlashJson } from './run_metadata.js';

export interface TrainImageClassifierArgs {
  // The same fields as the CLI's TrainArgs, plus programmatic extras.
  recipe: Recipe;
  /** A run folder to continue (its saved recipe is used). */
  resume?: string;
  io: CliIO;
  /** Extra callbacks (programmatic use). */
  callbacks?: Callback[];
  /** Lets the caller interrupt (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
}

export interface TrainImageClassifierResult {
  runDir: string;
  fit: FitResult;
  /** Metrics of the saved (best) model: its val metrics, plus test metrics when there is a test split. */
  metrics: Record<string, number>;
}

/** `runs/image_classification-20261123-201500` (relative to cwd), unique. */
function defaultRunDir(cwd: string, task: string): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return resolve(cwd, 'runs', `${task}-${stamp}`);
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, fsConstants.W_OK);
  } catch (err) {
    throw fsUserError(err, dir, 'write to output folder');
  }
}

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
export async function buildData(recipe: Recipe, io: CliIO, resolved?: string | BackboneSpec): Promise<ImageClassificationData> {
  const spec = resolved ?? (await resolveBackbone(recipe.model.backbone, io.cwd));
  const backbone = typeof spec === 'string' ? backbones.get(spec) : spec;
  const d = recipe.data;
  const fixed = backbone.fixedInput;
  return builders.get(d.builder).build(
    d,
    {
      batchSize: d.batch_size,
      imageSize: d.image_size ?? backbone.defaultImageSize,
      // A saved backbone fixes the channels; a mismatching explicit setting is reported when the model is built.
      channels: fixed && d.channels === 'auto' ? (fixed[2] as 1 | 3) : d.channels,
      valSplit: d.val_split,
      seed: recipe.trainer.seed,
      strict: recipe.trainer.strict,
      augment: d.augment,
      augmentations: d.augmentations,
      sampler: d.sampler,
      cacheDir: cacheDir(io.env),
      multiLabel: multiLabelMode(recipe),
      onWarning: (m) => io.err(`warning: ${m}\n`),
    },
    io.cwd,
  );
}

/**
 * Trains an image classifier as the recipe says and writes the run folder: best model (model.json + weights),
 * flash.json, recipe.yaml, metrics.csv and last/ for resuming. The function behind `flash image_classification`.
 */
export async function trainImageClassifier(args: TrainImageClassifierArgs): Promise<TrainImageClassifierResult> {
  const { io } = args;
  const say = (line: string) => io.out(`${line}\n`);
  let recipe = args.recipe;
  let runDir: string;
  let resumeState: ResumeState | undefined;
  let resumeWeights: import('@tensorflow/tfjs').LayersModel | undefined;
  if (args.resume) {
    runDir = resolve(io.cwd, args.resume);
    // The CLI resolves the run's recipe.yaml with any flags on top (say a larger max_epochs); the run folder stays.
    await readFlashJson(runDir);
    recipe = { ...recipe, trainer: { ...recipe.trainer, output_dir: runDir } };
    const ckpt = await loadCheckpoint(join(runDir, 'last'));
    resumeState = { epoch: ckpt.state.epoch, history: ckpt.state.history, optimizerWeights: ckpt.optimizerWeights };
    resumeWeights = ckpt.network;
    if (ckpt.state.epoch >= recipe.trainer.max_epochs) {
      throw new FlashUserError(`run '${args.resume}' already finished its ${recipe.trainer.max_epochs} epochs; nothing to resume`);
    }
  } else {
    runDir = recipe.trainer.output_dir ? resolve(io.cwd, recipe.trainer.output_dir) : defaultRunDir(io.cwd, recipe.task);
  }
  await ensureWritableDir(runDir);

  const backend = await selectBackend(recipe.trainer.backend, { threads: recipe.trainer.threads });
  say(describeBackend(backend));
  if (!args.resume && recipeHasNoData(recipe.data)) say('no data given: training on the bundled Fashion-MNIST demo set (data/demo/fashion_mnist)');
  const backbone = await resolveBackbone(recipe.model.backbone, io.cwd);
  await briefCheck(recipe, io, say);
  if (recipe.data.sampler === 'balanced' && recipe.model.multi_label === 'true') {
    throw new FlashUserError('--data.sampler balanced draws by class and multi-label images have several; use --data.sampler none');
  }
  const data = await buildData(recipe, io, backbone);
  say(`data: ${data.summary()}`);
  if (recipe.model.multi_label === 'true' && !data.multiLabel) {
    throw new FlashUserError(`--model.multi_label true needs multi-label data: from_csv with several 0/1 target columns or one column of separated labels (builder: ${recipe.data.builder})`);
  }
  const multi = multiLabelRun(recipe, data.multiLabel, say);
  if (data.ignored.length > 0) say(`ignored ${data.ignored.length} non-image file(s), e.g. ${data.ignored[0]}`);

  const model = new ImageClassifier({
    backbone,
    labels: data.labels,
    head: recipe.model.head ?? undefined,
    cut: recipe.model.cut,
    pooling: recipe.model.pooling,
    optimizer: recipe.model.optimizer,
    learningRate: recipe.model.learning_rate,
    weightDecay: recipe.model.weight_decay,
    dropout: recipe.model.dropout,
    multiLabel: data.multiLabel,
    threshold: recipe.model.threshold,
    // On --resume the checkpoint's weights replace whatever the backbone starts with.
    pretrained: args.resume ? false : parsePretrained(recipe.model.pretrained),
    backboneLrMult: recipe.finetune.backbone_lr_mult,
    pretrainedOptions: {
      cacheDir: io.env.FLASH_CACHE_DIR || undefined,
      cwd: io.cwd,
      log: say,
      progress: downloadProgress(io),
    },
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

  const ft = recipe.finetune;
  const pendingPhaseLines: string[] = [];
  const trainedBackbone = model.backboneTrained || parsePretrained(recipe.model.pretrained) !== false;
  const strategyName = ft.strategy ?? defaultStrategy(trainedBackbone);
  const phases = strategies.get(strategyName)({
    maxEpochs: recipe.trainer.max_epochs,
    unfreezeEpoch: ft.unfreeze_epoch,
    milestones: ft.milestones,
    numLayers: ft.num_layers,
    trainBn: ft.train_bn,
    // Printed at the next epoch start, under the trainer's "phase i/n" line.
    log: (line) => pendingPhaseLines.push(`  ${line}`),
  });
  const why = ft.strategy ? '' : trainedBackbone ? ' (default for a pretrained or saved backbone)' : ' (default for a backbone trained from scratch)';
  say(`finetuning: ${strategyName}${why}, ${model.layerGroups().length} backbone layer groups`);
  if (resumeWeights) {
    model.loadWeightsFrom(resumeWeights);
    resumeWeights.dispose();
    say(`resuming ${relative(io.cwd, runDir) || '.'} after epoch ${resumeState?.epoch}`);
  }

  const counts: Record<string, number> = { train: data.train.size, val: data.val?.size ?? 0, test: data.test?.size ?? 0 };
  const meta = (status: FlashJson['status'], metrics: Record<string, number>, bestEpoch?: number): FlashJson => ({
    task: 'image_classification',
    labels: data.labels,
    ...(data.multiLabel ? { multi_label: true, threshold: recipe.model.threshold } : {}),
    input: { ...data.spec, range: [0, 255], layout: 'NHWC' },
    backbone: recipe.model.backbone,
    recipe,
    versions: versions(),
    backend: backend.name,
    best_epoch: bestEpoch,
    metrics,
    data: counts,
    created: new Date().toISOString(),
    status,
  });
  await writeFileAtomic(join(runDir, 'recipe.yaml'), recipeToYaml(recipe));

  const monitor = data.val ? multi.monitor : 'train_loss';
  if (!data.val) say(`no validation split: monitoring train_loss instead of ${multi.monitor}`);
  const checkpoint = new ModelCheckpoint({
    dir: runDir,
    monitor,
    mode: data.val ? multi.monitorMode : 'min',
    onBest: (logs, epoch) => writeFlashJson(runDir, meta('running', stripEpoch(logs), epoch)),
  });
  const callbacks: Callback[] = [
    { onEpochStart: () => void pendingPhaseLines.splice(0).forEach(say) },
    new ProgressCallback({ bar: io.isTTY && !recipe.trainer.quiet && !io.env.NO_COLOR, write: say }),
    checkpoint,
  ];
  if (recipe.trainer.early_stopping_patience != null) {
    callbacks.push(new EarlyStopping({ monitor, mode: data.val ? multi.monitorMode : 'min', patience: recipe.trainer.early_stopping_patience }));
  }
  callbacks.push(...(args.callbacks ?? []));
  const runLoggers = recipe.trainer.logger.map((name) => loggers.get(name).create(runDir));
  for (const l of runLoggers) {
    if (resumeState) await l.restore?.();
    await l.logHyperparams?.(recipe as unknown as Record<string, unknown>);
  }
  callbacks.push(new StepMetricsCallback(runLoggers));

  const trainer = new Trainer({ maxEpochs: recipe.trainer.max_epochs, seed: recipe.trainer.seed, callbacks, loggers: runLoggers, log: say, phases });
  // A frozen backbone without augmentation sees the same images every epoch: compute its features once.
  // (With train_bn, BatchNorm layers keep training in a "frozen" backbone, so its features change: no cache.)
  const bnTrains = ft.train_bn && model.backbone().layers.some(isBatchNorm);
  const frozenSomewhere = !bnTrains && phases.some((p) => p.plan.unfrozen === 0);
  let fitData: DataModuleLike = data;
  // (The balanced sampler draws a new order of the source split every epoch: no cache.)
  if (frozenSomewhere) {
    const cacheTrain = !recipe.data.augment && recipe.data.sampler !== 'balanced';
    const train = cacheTrain
      ? model.withFeatureCache(data.train, (n, f) =>
          say(`feature cache: the backbone is frozen and augmentation is off, so it ran once over the ${n} training images; the head trains from their ${f} cached features`),
        )
      : data.train;
    // Validation images are never augmented, so while the backbone is frozen their features are computed once too.
    const val = data.val ? model.withFeatureCache(data.val) : undefined;
    fitData = { train, val, test: data.test, batchSize: data.batchSize };
    if (recipe.data.augment) say('note: with --data.augment false the frozen backbone would run once and the head train from cached features');
  }
  const onAbort = () => trainer.interrupt();
  args.signal?.addEventListener('abort', onAbort);
  let fit: FitResult;
  try {
    fit = await trainer.fit(model, fitData, resumeState);
  } catch (err) {
    for (const l of runLoggers) await l.finalize?.('failed');
    throw err;
  } finally {
    args.signal?.removeEventListener('abort', onAbort);
    resumeState?.optimizerWeights?.forEach((w) => w.tensor.dispose());
  }
  const where = relative(io.cwd, runDir) || '.';
  if (fit.status === 'interrupted') {
    for (const l of runLoggers) await l.finalize?.('interrupted');
    const done = fit.history.length;
    const hint = done > 0 ? `resume with: flash ${recipe.task} --resume ${where}` : 'no epoch had finished, so there is nothing to resume';
    throw new FlashUserError(`interrupted after ${done} completed epoch(s); ${hint}`, 130);
  }
  if (fit.reason) say(fit.reason);

  // Evaluate the saved best model, the one a user will load, not the last in memory.
  const best = await ImageClassifier.load(runDir);
  const bestLogs = stripEpoch(fit.history[(checkpoint.bestEpoch ?? fit.history.length) - 1] ?? {});
  const metrics: Record<string, number> = { ...bestLogs };
  if (data.test) {
    const testLogs = await trainer.test(best, data);
    Object.assign(metrics, testLogs);
    say(`test (best model, epoch ${checkpoint.bestEpoch}): ${formatLogs(testLogs)}`);
  }
  best.network().dispose();
  model.network().dispose();
  await writeFlashJson(runDir, meta(fit.status, metrics, checkpoint.bestEpoch));
  // The report is a convenience: a failure to draw it is a warning, never a lost run.
  const evalSplit = data.test ? { name: 'test' as const, split: data.test } : data.val ? { name: 'val' as const, split: data.val } : null;
  // The report's confusion matrix and curves are single-label (it says so); a multi-label run gets its per-label table below.
  const reportSplit = evalSplit;
  try {
    const report = await writeRunReport(runDir, { split: reportSplit, cwd: io.cwd, loggers: runLoggers, step: fit.history.length, onWarning: (m) => io.err(`warning: ${m}\n`) });
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
      const table = await perLabelTable(reloaded, evalSplit.split, data.batchSize);
      say(`per-label metrics (best model, ${evalSplit.name} split, threshold ${reloaded.threshold}):\n${table}`);
    } finally {
      reloaded.network().dispose();
    }
  }
  for (const l of runLoggers) await l.finalize?.('success');
  say(`best model (epoch ${checkpoint.bestEpoch}, ${monitor} ${fmt(bestLogs[monitor])}) → ${where}/model.json`);
  say(`run folder: ${where} (flash.json, recipe.yaml, ${runLoggers.map((l) => LOGGER_FILES[l.name] ?? l.name).join(', ')}, last/ for --resume)`);
  say(`predict with: flash predict --model ${where} --folder <images>${data.multiLabel ? ` --threshold ${recipe.model.threshold}` : ''}`);
  return { runDir, fit, metrics };
}

/** Download progress on stderr: a bar redrawn in place on a terminal, nothing otherwise (the notes say what happens). */
function downloadProgress(io: CliIO): ((file: string, received: number, total: number | undefined) => void) | undefined {
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

/** What each built-in logger writes, for the closing summary. */
const LOGGER_FILES: Record<string, string> = { csv: 'metrics.csv', jsonl: 'metrics.jsonl', tensorboard: 'events.out.tfevents.*' };

function stripEpoch(logs: EpochLogs): Record<string, number> {
  const { epoch: _epoch, ...rest } = logs;
  return rest;
}

function fmt(v: number | undefined): string {
  return v === undefined ? 'n/a' : v.toFixed(4);
}
