import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../io/layers_model.js';
import { defaultStrategy, strategies, type StrategyOptions } from '../finetuning/index.js';
import { evaluateSplit, runSplit, type SplitOutputs } from './evaluate.js';
import type { Callback, DataModuleLike, DataSplit, EpochLogs, FitContext, Logger, Phase, TaskModule } from './types.js';

export type { Phase } from './types.js';
import { stepSeed, withSeededRandom } from '../random.js';
import { gradientsFreeingEarly } from './gradients.js';
import { describeBackend, selectBackend } from '../backend.js';
import { monitorDirection } from '../config/schema.js';
import { learningRateOf, lrSchedulers, setLearningRate, type LrSchedule } from '../schedulers/index.js';
import { DEFAULT_SEED } from '../config/schema.js';


export interface TrainerOptions {
  maxEpochs?: number;
  callbacks?: Callback[];
  loggers?: Logger[];
  /** Seeds shuffling and the data's random transforms. */
  seed?: number;
  /** Phases of a finetuning strategy; default one phase training everything. */
  phases?: Phase[];
  /** Where the trainer reports phase changes and notes; default: nowhere. */
  log?: (line: string) => void;
  /**
   * A TensorFlow.js backend to select before the first fit (`auto` = the fastest that can train, as the CLI
   * picks; `wasm`, `cpu`, …). Unset: the current backend is used, and fitting on tfjs's pure-JS `cpu` backend
   * prints a warning once, since it is two orders of magnitude slower than flash's wasm engine.
   */
  backend?: string;
  /** Where that warning goes; default `console.warn`. */
  warn?: (line: string) => void;
  /**
   * A learning-rate schedule (`lrSchedulers`): the rate of every step follows it from the optimizer's own rate,
   * `lr` joins the epoch logs and each batch's logs. `plateau` watches `monitor` (default val_loss).
   */
  lrScheduler?: { name: string; warmupEpochs?: number; monitor?: string; mode?: 'min' | 'max' };
}

/** Where an interrupted or finished run left off, enough to continue it. */
export interface ResumeState {
  /** Number of epochs already completed. */
  epoch: number;
  history: EpochLogs[];
  /** Optimizer state saved at the end of the last completed epoch. */
  optimizerWeights?: NamedTensor[];
}

export interface FitResult {
  status: 'completed' | 'stopped' | 'interrupted';
  /** Why the run stopped early, when it did. */
  reason?: string;
  history: EpochLogs[];
  epochs: number;
}

/**
 * The training loop: fit → phases → epochs → batches → callbacks, top to bottom. It knows nothing about the
 * task: the module supplies the networks, loss and metrics; the data module supplies batches.
 */
export class Trainer {
  readonly maxEpochs: number;
  readonly callbacks: Callback[];
  readonly loggers: Logger[];
  readonly seed: number;
  private phases?: Phase[];
  private readonly log: (line: string) => void;
  private stopReason?: string;
  private interrupted = false;
  private optimizer?: tf.Optimizer;

  constructor(options: TrainerOptions = {}) {
    this.maxEpochs = options.maxEpochs ?? 5;
    this.callbacks = options.callbacks ?? [];
    this.loggers = options.loggers ?? [];
    this.seed = options.seed ?? DEFAULT_SEED;
    this.phases = options.phases;
    this.log = options.log ?? (() => undefined);
    this.backend = options.backend;
    this.lrScheduler = options.lrScheduler;
    this.warn = options.warn ?? ((line) => console.warn(line));
  }

  private readonly backend?: string;
  private readonly lrScheduler?: TrainerOptions['lrScheduler'];
  private schedule?: LrSchedule;
  private readonly warn: (line: string) => void;
  private backendChecked = false;

  /** Selects the requested backend once, or warns once when fitting on the slow pure-JS cpu backend. */
  private async checkBackend(): Promise<void> {
    if (this.backendChecked) return;
    this.backendChecked = true;
    if (this.backend !== undefined) {
      const choice = await selectBackend(this.backend);
      this.log(describeBackend(choice));
    } else if (tf.getBackend() === 'cpu') {
      this.warn("flash: training on TensorFlow.js's pure-JavaScript cpu backend, about 100× slower than flash's wasm engine; call `await selectBackend('auto')` first or pass `backend: 'auto'` to the Trainer");
    }
  }

  /** Stops after the current batch, leaving the last completed epoch's checkpoint as the resume point. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** Builds the module for the data if it isn't built yet, its weight init seeded by `seed`. */
  private async setup(module: TaskModule, data: DataModuleLike): Promise<void> {
    if (!module.built) await withSeededRandom(this.seed, () => module.setup(data));
  }

  /** The current optimizer (checkpoint callbacks save its state). */
  currentOptimizer(): tf.Optimizer | undefined {
    return this.optimizer;
  }

  /** Frees the optimizer state the last fit kept (readable through `currentOptimizer` until then). */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
  }

  async fit(module: TaskModule, data: DataModuleLike, resume?: ResumeState): Promise<FitResult> {
    await this.checkBackend();
    await this.setup(module, data);
    const history: EpochLogs[] = resume ? [...resume.history] : [];
    const startEpoch = resume?.epoch ?? 0;
    const phases = this.phases ?? [{ startEpoch: 0, description: 'all layers train', apply: () => undefined }];
    this.stopReason = undefined;
    this.interrupted = false;
    const batchesPerEpoch = Math.ceil(data.train.size / data.batchSize);
    let epoch = startEpoch;
    const currentOptimizer = () => this.optimizer as tf.Optimizer;
    const ctx: FitContext = {
      get epoch() {
        return epoch;
      },
      maxEpochs: this.maxEpochs,
      batchesPerEpoch,
      module,
      get optimizer(): tf.Optimizer {
        return currentOptimizer();
      },
      history,
      requestStop: (reason: string) => {
        this.stopReason ??= reason;
      },
    };

    let phaseIndex = -1;
    let pendingOptimizerWeights = resume?.optimizerWeights;
    this.schedule = undefined;
    try {
      for (; epoch < this.maxEpochs; epoch++) {
        const p = activePhase(phases, epoch);
        if (p !== phaseIndex) {
          phaseIndex = p;
          phases[p].apply(module);
          this.optimizer?.dispose();
          this.optimizer = module.createOptimizer();
          if (pendingOptimizerWeights) {
            await this.optimizer.setWeights(pendingOptimizerWeights);
            pendingOptimizerWeights = undefined;
          }
          if (this.lrScheduler && !this.schedule) {
            // Built once per fit from the first phase's optimizer rate; a resumed run replays its history (plateau).
            const s = this.lrScheduler;
            const monitor = s.monitor ?? 'val_loss';
            this.schedule = lrSchedulers.get(s.name)({
              baseLr: learningRateOf(this.optimizer),
              maxEpochs: this.maxEpochs,
              stepsPerEpoch: batchesPerEpoch,
              warmupEpochs: s.warmupEpochs ?? 0,
              monitor,
              mode: s.mode ?? monitorDirection(monitor, 'auto'),
            });
            for (const logs of history) this.schedule.onEpochEnd?.(logs);
          }
          if (phases.length > 1) this.log(`phase ${p + 1}/${phases.length} from epoch ${epoch + 1}: ${phases[p].description}`);
          if (epoch === startEpoch) for (const cb of this.callbacks) await cb.onFitStart?.(ctx);
        }
        for (const cb of this.callbacks) await cb.onEpochStart?.(ctx);
        const trainLogs = await this.trainEpoch(module, data, epoch, ctx);
        if (this.interrupted) return this.finish(ctx, 'interrupted', history, 'interrupted');
        const valLogs = data.val ? await evaluateSplit(module, data.val, data.batchSize, 'val') : {};
        const logs: EpochLogs = { epoch: epoch + 1, ...trainLogs, ...valLogs };
        history.push(logs);
        this.schedule?.onEpochEnd?.(logs);
        for (const logger of this.loggers) await logger.logMetrics(logs, { epoch: epoch + 1 });
        for (const cb of this.callbacks) await cb.onEpochEnd?.(ctx, logs);
        if (this.interrupted) return this.finish(ctx, 'interrupted', history, 'interrupted', epoch + 1);
        if (this.stopReason) return this.finish(ctx, 'stopped', history, this.stopReason, epoch + 1);
      }
      return this.finish(ctx, 'completed', history, undefined, epoch);
    } finally {
      if (pendingOptimizerWeights) tf.dispose(pendingOptimizerWeights.map((w) => w.tensor));
    }
  }

  /**
   * Flash's `trainer.finetune(model, datamodule, strategy=…)`: fit with a finetuning strategy's phases. The
   * default strategy is `freeze` for a module whose backbone is already trained (saved, user-built or
   * pretrained), else `no_freeze`.
   */
  async finetune(
    module: TaskModule,
    data: DataModuleLike,
    options: { strategy?: string } & Partial<Omit<StrategyOptions, 'maxEpochs'>> = {},
    resume?: ResumeState,
  ): Promise<FitResult> {
    await this.setup(module, data);
    const name = options.strategy ?? defaultStrategy(module.backboneTrained ?? false);
    const phases = strategies.get(name)({
      maxEpochs: this.maxEpochs,
      unfreezeEpoch: options.unfreezeEpoch ?? 1,
      milestones: options.milestones ?? [2, 4],
      numLayers: options.numLayers ?? 2,
      trainBn: options.trainBn ?? true,
      log: options.log ?? this.log,
    });
    const saved = this.phases;
    this.phases = phases;
    try {
      return await this.fit(module, data, resume);
    } finally {
      this.phases = saved;
    }
  }

  private async finish(ctx: FitContext, status: FitResult['status'], history: EpochLogs[], reason?: string, epochs = history.length): Promise<FitResult> {
    for (const cb of this.callbacks) await cb.onFitEnd?.(ctx);
    return { status, reason, history, epochs };
  }

  /** One pass over the training data; returns `train_loss` and the module's running statistic. */
  private async trainEpoch(module: TaskModule, data: DataModuleLike, epoch: number, ctx: FitContext): Promise<EpochLogs> {
    const net = module.trainingNetwork();
    const variables = module.trainableVariables?.() ?? net.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = this.optimizer as tf.Optimizer;
    let seen = 0;
    let lossSum = 0;
    let statSum = 0;
    let batchIndex = 0;
    // Random transforms of the training data are the data module's choice.
    const stepsPerEpoch = Math.ceil(data.train.size / data.batchSize);
    let lr: number | undefined;
    for await (const batch of data.train.batches({ batchSize: data.batchSize, shuffle: true, seed: this.seed, epoch })) {
      if (this.schedule) {
        lr = this.schedule.at(epoch * stepsPerEpoch + batchIndex);
        setLearningRate(optimizer, lr);
      }
      let stat: tf.Scalar | undefined;
      // Dropout draws its masks from Math.random: seeding each step makes a run a function of trainer.seed.
      const loss = withSeededRandom(stepSeed(this.seed, epoch, batchIndex), () => tf.tidy(() => {
        // optimizer.minimize(f, true, variables), with a backward pass that frees what it no longer needs
        // (gradients.ts); gradients named as tfjs's variableGrads names them, frozen variables last with null.
        const trainable = variables.filter((v) => v.trainable);
        const { value, grads } = gradientsFreeingEarly(() => {
          const out = net.apply(batch.x, { training: true }) as tf.Tensor;
          if (module.trainStat) stat = tf.keep(module.trainStat.sum(batch.y, out));
          return module.loss(batch.y, out);
        }, trainable);
        if (!grads.some((g) => g !== null)) throw new Error('no trainable variable reaches the loss');
        const named: Record<string, tf.Tensor | null> = {};
        trainable.forEach((v, i) => {
          if (grads[i]) named[v.name] = grads[i];
        });
        for (const v of variables) if (!v.trainable) named[v.name] = null;
        optimizer.applyGradients(named as tf.NamedTensorMap);
        return value;
      }));
      const n = batch.ids.length;
      const [lv, sv] = await Promise.all([loss.data(), stat ? stat.data() : Promise.resolve([0])]);
      tf.dispose([loss, stat, batch.x, batch.y].filter((t): t is tf.Tensor => t !== undefined));
      seen += n;
      lossSum += lv[0] * n;
      statSum += sv[0];
      const batchLogs = lr === undefined ? { loss: lv[0], size: n } : { loss: lv[0], size: n, lr };
      for (const cb of this.callbacks) await cb.onBatchEnd?.(ctx, batchIndex, batchLogs);
      batchIndex++;
      // A batch's work resolves as microtasks; give signal handlers (Ctrl-C) a turn so an interrupt lands here.
      await new Promise<void>((r) => setImmediate(r));
      if (this.interrupted) break;
    }
    const logs: EpochLogs = { train_loss: seen ? lossSum / seen : NaN };
    if (lr !== undefined) logs.lr = lr;
    if (module.trainStat) logs[`train_${module.trainStat.name}`] = seen ? statSum / seen : NaN;
    return logs;
  }

  /** Loss and metrics on the data module's test split (or val when it has none). */
  async test(module: TaskModule, data: DataModuleLike): Promise<EpochLogs> {
    await this.setup(module, data);
    const split = data.test ?? data.val;
    if (!split) throw new Error('the data module has neither a test nor a val split');
    return evaluateSplit(module, split, data.batchSize, data.test ? 'test' : 'val');
  }

  /** Loss and metrics on the validation split. */
  async validate(module: TaskModule, data: DataModuleLike): Promise<EpochLogs> {
    await this.setup(module, data);
    if (!data.val) throw new Error('the data module has no val split');
    return evaluateSplit(module, data.val, data.batchSize, 'val');
  }

  /**
   * Predictions for task inputs (whatever the task predicts from: files, rows, texts): the task module turns inputs into
   * outputs it understands; the trainer only forwards.
   */
  async predict<I, P>(module: TaskModule & { predict(inputs: I): Promise<P> }, inputs: I): Promise<P> {
    if (!module.built) throw new Error('predict needs a built module: fit it first or load a saved one');
    return module.predict(inputs);
  }

  /** Raw outputs for a split (ids, probabilities, targets) — tasks format them into predictions. */
  async outputs(module: TaskModule, split: DataSplit, batchSize: number): Promise<SplitOutputs> {
    return runSplit(module, split, batchSize, false);
  }
}

function activePhase(phases: Phase[], epoch: number): number {
  let index = 0;
  phases.forEach((p, i) => {
    if (p.startEpoch <= epoch) index = i;
  });
  return index;
}
