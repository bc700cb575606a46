import { withSeededRandom } from '../random.js';
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { describeBackend, selectBackend, type BackendChoice } from '../backend.js';
import { EarlyStopping, ModelCheckpoint, ProgressCallback, formatLogs } from '../callbacks/index.js';
import { fixedLearningRate, monitorDirection, recipeToYaml, type Recipe, type Schema } from '../config/index.js';
import { FlashUserError } from '../errors.js';
import { defaultStrategy, finetuneDefaults, strategies, type FinetunePhase } from '../finetuning/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { StepMetricsCallback, loggers } from '../loggers/index.js';
import type { TaskIO } from '../task_io.js';
import { Trainer, type FitResult, type ResumeState } from '../trainer/trainer.js';
import type { Callback, DataModuleLike, EpochLogs, Logger, TaskModule } from '../trainer/types.js';
import { defaultRunDir, readRunMeta, versions, writeRunMeta, type RunMeta } from './run_folder.js';
import type { RunContext, RunModule, TrainRunHooks } from './types.js';
import { describeLrFind, rampLearningRate, writeLrFind } from './lr_find.js';
import { checkOutputDir, lockRunDir } from './run_guard.js';
import { commandHint } from '../hints.js';

export type { RunContext, RunModule, TrainRunHooks } from './types.js';

export interface TrainRunArgs<R extends Recipe> {
  recipe: R;
  /** The task's schema: recipe.yaml is written with its descriptions. */
  schema: Schema;
  /** A run folder to continue (its saved recipe is used). */
  resume?: string;
  io: TaskIO;
  /** Extra callbacks (programmatic use). */
  callbacks?: Callback[];
  /** Lets the caller interrupt (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** `--overwrite`: replace a run (or write into a non-empty folder) that is already at the output folder. */
  overwrite?: boolean;
}

export interface TrainRunResult {
  runDir: string;
  fit: FitResult;
  /** Metrics of the saved (best) model: its val metrics, plus test metrics when there is a test split. */
  metrics: Record<string, number>;
}

/** What each built-in logger writes, for the closing summary. */
const LOGGER_FILES: Record<string, string> = { csv: 'metrics.csv', jsonl: 'metrics.jsonl', tensorboard: 'events.out.tfevents.*' };

/**
 * One run of any task, top to bottom: run folder (new, or the one resumed), backend, data and module (from the
 * task's hooks), finetuning phases, loggers and callbacks (checkpoint, early stopping, progress), the fit (Ctrl-C
 * stops it cleanly), the saved best model reloaded and tested, flash.json and recipe.yaml, and the closing lines.
 */
export async function trainRun<R extends Recipe, D extends DataModuleLike, M extends RunModule>(
  hooks: TrainRunHooks<R, D, M>,
  args: TrainRunArgs<R>,
): Promise<TrainRunResult> {
  const { io } = args;
  let recipe = args.recipe;
  let runDir: string;
  let resumeState: ResumeState | undefined;
  let resumeWeights: tf.LayersModel | undefined;
  if (args.resume) {
    runDir = resolve(io.cwd, args.resume);
    // The CLI resolves the run's recipe.yaml with any flags on top (say a larger max_epochs); the run folder stays.
    await readRunMeta(runDir);
    recipe = { ...recipe, trainer: { ...recipe.trainer, output_dir: runDir } };
  } else {
    runDir = recipe.trainer.output_dir ? resolve(io.cwd, recipe.trainer.output_dir) : defaultRunDir(io.cwd, recipe.task);
    await checkOutputDir(runDir, {
      task: recipe.task,
      shown: shownPath(runDir, io.cwd),
      resumeHint: commandHint([recipe.task, '--resume', { path: runDir }], { cwd: io.cwd, env: io.env }),
      overwrite: args.overwrite ?? false,
      dataFolders: hooks.dataFolders?.(recipe, io.cwd) ?? [],
    });
    if (args.overwrite && existsSync(join(runDir, 'flash.json'))) await rm(runDir, { recursive: true, force: true });
  }
  // Held until the run ends: a second run into this folder is refused; a failed start leaves no empty folder.
  const lock = await lockRunDir(runDir, shownPath(runDir, io.cwd));
  let started = false;
  try {
    if (args.resume) {
      const ckpt = await loadCheckpoint(join(runDir, 'last'));
      resumeState = { epoch: ckpt.state.epoch, history: ckpt.state.history, optimizerWeights: ckpt.optimizerWeights };
      resumeWeights = ckpt.network;
      if (ckpt.state.epoch >= recipe.trainer.max_epochs) {
        resumeWeights.dispose();
        tf.dispose(ckpt.optimizerWeights?.map((w) => w.tensor) ?? []);
        throw new FlashUserError(`run '${args.resume}' already finished its ${recipe.trainer.max_epochs} epochs; nothing to resume (raise --max_epochs to train on)`);
      }
    }
    const result = await runInFolder(hooks, { ...args, recipe }, runDir, resumeState, resumeWeights, () => (started = true));
    return result;
  } finally {
    await lock.release({ removeIfEmpty: !started });
  }
}

/** The run itself, once its folder is locked. `onStart` is called when the first file is written. */
async function runInFolder<R extends Recipe, D extends DataModuleLike, M extends RunModule>(
  hooks: TrainRunHooks<R, D, M>,
  args: TrainRunArgs<R>,
  runDir: string,
  resumeState: ResumeState | undefined,
  resumeWeights: tf.LayersModel | undefined,
  onStart: () => void,
): Promise<TrainRunResult> {
  const { io } = args;
  let recipe = args.recipe;
  const say = (line: string) => io.out(`${line}\n`);
  const backend = await selectBackend(recipe.trainer.backend, { threads: recipe.trainer.threads });
  say(describeBackend(backend));
  let ctx: RunContext<R> = { recipe, io, say, runDir, resuming: args.resume !== undefined, backend };
  await hooks.beforeData?.(ctx);
  const data = await hooks.buildData(ctx);
  if (recipe.model.learning_rate === 'auto') {
    // --model.learning_rate auto: the LR finder's suggestion, on a throwaway model; the recipe then says the number.
    onStart();
    const found = await rampLearningRate(hooks, data, ctx);
    const files = await writeLrFind(runDir, found);
    say(`${describeLrFind(found)}; training with it (curve: ${shownPath(files.png, io.cwd)})`);
    recipe = { ...recipe, model: { ...recipe.model, learning_rate: found.suggestion } };
    ctx = { ...ctx, recipe };
  }
  // A module built here (not by the trainer) gets its initial weights from the seed too (as far as it builds synchronously).
  const module = await withSeededRandom(recipe.trainer.seed, () => hooks.buildModule(data, ctx));

  const ft = recipe.finetune;
  const pendingPhaseLines: string[] = [];
  const trainedBackbone = hooks.backboneTrained?.(module, ctx) ?? false;
  const strategyName = ft.strategy ?? defaultStrategy(trainedBackbone);
  const phasesWith = (trainBn: boolean, log?: (line: string) => void) =>
    strategies.get(strategyName)({
      maxEpochs: recipe.trainer.max_epochs,
      unfreezeEpoch: ft.unfreeze_epoch,
      milestones: ft.milestones,
      numLayers: ft.num_layers,
      trainBn,
      log,
    });
  // Unset train_bn and learning rate get the defaults of a frozen trained backbone when that is the case; the
  // recipe then says the values used (recipe.yaml, flash.json, the module's optimizer).
  const settled = finetuneDefaults({
    trainedBackbone,
    frozenThroughout: phasesWith(true).every((p) => p.plan.unfrozen === 0),
    trainBn: ft.train_bn,
    learningRate: fixedLearningRate(recipe.model.learning_rate),
    optimizer: recipe.model.optimizer,
    learningRateSettable: module.setLearningRate !== undefined,
  });
  if (settled.learningRate !== recipe.model.learning_rate && settled.learningRate !== null) module.setLearningRate?.(settled.learningRate);
  recipe = { ...recipe, model: { ...recipe.model, learning_rate: settled.learningRate }, finetune: { ...ft, train_bn: settled.trainBn } };
  ctx = { ...ctx, recipe };
  // Printed at the next epoch start, under the trainer's "phase i/n" line.
  const phases = phasesWith(settled.trainBn, (line) => pendingPhaseLines.push(`  ${line}`));
  const why = ft.strategy ? '' : trainedBackbone ? ' (default for a pretrained or saved backbone)' : ' (default for a backbone trained from scratch)';
  const groups = module.layerGroups ? `, ${module.layerGroups().length} backbone layer groups` : '';
  say(`finetuning: ${strategyName}${why}${groups}`);
  if (settled.line) say(settled.line);
  if (resumeWeights) {
    if (!module.loadWeightsFrom) throw new FlashUserError(`task ${recipe.task} cannot resume a run`);
    module.loadWeightsFrom(resumeWeights);
    resumeWeights.dispose();
    say(`resuming ${shownPath(runDir, io.cwd)} after epoch ${resumeState?.epoch}`);
  }

  const counts: Record<string, number> = { train: data.train.size, val: data.val?.size ?? 0, test: data.test?.size ?? 0 };
  const meta = (status: RunMeta['status'], metrics: Record<string, number>, bestEpoch?: number): RunMeta & Record<string, unknown> => ({
    task: recipe.task,
    ...hooks.metadata(module, data, ctx),
    recipe,
    versions: versions(),
    backend: backend.name,
    best_epoch: bestEpoch,
    metrics,
    data: counts,
    created: new Date().toISOString(),
    status,
  });
  onStart();
  await writeFileAtomic(join(runDir, 'recipe.yaml'), recipeToYaml(recipe, args.schema));

  const wanted = hooks.monitor?.(data, ctx) ?? { monitor: recipe.trainer.monitor, mode: monitorDirection(recipe.trainer.monitor, recipe.trainer.monitor_mode) };
  const monitor = data.val ? wanted.monitor : 'train_loss';
  const mode = data.val ? wanted.mode : 'min';
  if (!data.val) say(`no validation split: monitoring train_loss instead of ${wanted.monitor}`);
  let lastBest: { logs: Record<string, number>; epoch: number } | undefined;
  const checkpoint = new ModelCheckpoint({
    dir: runDir,
    monitor,
    mode,
    onBest: (logs, epoch) => {
      lastBest = { logs: stripEpoch(logs), epoch };
      return writeRunMeta(runDir, meta('running', lastBest.logs, epoch));
    },
  });
  // When the run ends another way, flash.json says so (best effort: the disk may be what failed).
  const markEnded = async (status: 'failed' | 'interrupted') => {
    if (!existsSync(join(runDir, 'flash.json'))) return;
    await writeRunMeta(runDir, meta(status, lastBest?.logs ?? {}, lastBest?.epoch ?? checkpoint.bestEpoch)).catch(() => undefined);
  };
  let runFilesWritten = resumeState !== undefined;
  const callbacks: Callback[] = [
    { onEpochStart: () => void pendingPhaseLines.splice(0).forEach(say) },
    // The task's own files go with the first checkpoint (before it, in this list), not at the start (TrainRunHooks).
    {
      onEpochEnd: async () => {
        if (runFilesWritten) return;
        runFilesWritten = true;
        await hooks.writeRunFiles?.(module, data, ctx);
      },
    },
    new ProgressCallback({ bar: io.isTTY && !recipe.trainer.quiet && !io.env.NO_COLOR, write: say }),
    checkpoint,
  ];
  if (recipe.trainer.early_stopping_patience != null) {
    callbacks.push(new EarlyStopping({ monitor, mode, patience: recipe.trainer.early_stopping_patience }));
  }
  callbacks.push(...(args.callbacks ?? []));
  const runLoggers = recipe.trainer.logger.map((name) => loggers.get(name).create(runDir));
  for (const l of runLoggers) {
    if (resumeState) await l.restore?.();
    await l.logHyperparams?.(recipe as unknown as Record<string, unknown>);
  }
  callbacks.push(new StepMetricsCallback(runLoggers));

  // The backend was chosen and printed above; the trainer needn't warn about it.
  const { lr_scheduler: schedule, warmup_epochs: warmupEpochs } = recipe.model;
  const lrScheduler = schedule === 'constant' && warmupEpochs === 0 ? undefined : { name: schedule, warmupEpochs, monitor, mode };
  if (lrScheduler) say(`learning rate: ${schedule}${warmupEpochs > 0 && schedule !== 'onecycle' ? ` after ${warmupEpochs} warmup epoch(s)` : ''}, per step`);
  const trainer = new Trainer({ maxEpochs: recipe.trainer.max_epochs, seed: recipe.trainer.seed, callbacks, loggers: runLoggers, log: say, phases, warn: () => undefined, lrScheduler });
  const fitData = hooks.fitData?.(module, data, phases, ctx) ?? data;
  const onAbort = () => trainer.interrupt();
  args.signal?.addEventListener('abort', onAbort);
  let fit: FitResult;
  try {
    fit = await trainer.fit(module, fitData, resumeState);
  } catch (err) {
    for (const l of runLoggers) await l.finalize?.('failed');
    await markEnded('failed');
    hooks.dispose(module);
    throw err;
  } finally {
    args.signal?.removeEventListener('abort', onAbort);
    resumeState?.optimizerWeights?.forEach((w) => w.tensor.dispose());
    trainer.dispose();
  }
  const where = shownPath(runDir, io.cwd);
  if (fit.status === 'interrupted') {
    for (const l of runLoggers) await l.finalize?.('interrupted');
    await markEnded('interrupted');
    hooks.dispose(module);
    const done = fit.history.length;
    const hint = done > 0 ? `resume with: ${commandHint([recipe.task, '--resume', { path: runDir }], { cwd: io.cwd, env: io.env })}` : 'no epoch had finished, so there is nothing to resume';
    throw new FlashUserError(`interrupted after ${done} completed epoch(s); ${hint}`, 130);
  }
  if (fit.reason) say(fit.reason);
  // Done with the trained module: free it before loading the saved best, so the run peaks at one model, not two.
  hooks.dispose(module);

  // Evaluate the saved best model, the one a user will load, not the last in memory.
  const metrics: Record<string, number> = {};
  const bestLogs = stripEpoch(fit.history[(checkpoint.bestEpoch ?? fit.history.length) - 1] ?? {});
  try {
    const best = await hooks.load(runDir);
    Object.assign(metrics, bestLogs);
    try {
      if (data.test) {
        const testLogs = await trainer.test(best, data);
        Object.assign(metrics, testLogs);
        say(`test (best model, epoch ${checkpoint.bestEpoch}): ${formatLogs(testLogs)}`);
      }
    } finally {
      hooks.dispose(best);
    }
  } catch (err) {
    await markEnded('failed');
    throw err;
  }
  await writeRunMeta(runDir, meta(fit.status, metrics, checkpoint.bestEpoch));
  await hooks.afterRun?.(ctx, data, { fit, loggers: runLoggers, metrics });
  for (const l of runLoggers) await l.finalize?.('success');
  say(`best model (epoch ${checkpoint.bestEpoch}, ${monitor} ${fmt(bestLogs[monitor])}) → ${where}/model.json`);
  say(`run folder: ${where} (flash.json, recipe.yaml, ${runLoggers.map((l) => LOGGER_FILES[l.name] ?? l.name).join(', ')}, last/ for --resume)`);
  for (const line of hooks.hints?.(ctx, data) ?? []) say(line);
  return { runDir, fit, metrics };
}

/** A path as a message shows it: relative to the working folder when inside it, else absolute. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function stripEpoch(logs: EpochLogs): Record<string, number> {
  const { epoch: _epoch, ...rest } = logs;
  return rest;
}

function fmt(v: number | undefined): string {
  return v === undefined ? 'n/a' : v.toFixed(4);
}
