import type * as tf from '@tensorflow/tfjs';

/** One batch as the trainer sees it: inputs, targets (integer classes [b], or 0/1 rows [b, k] for multi-label) and an id per sample. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  ids: string[];
}

/** Options for iterating one split of data. */
export interface BatchOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Read the split as it is, with none of its random transforms (evaluation, feature caches); default false. */
  deterministic?: boolean;
}

/** A split of a dataset. The trainer core only sees this interface; tasks decide what a sample is. */
export interface DataSplit {
  readonly size: number;
  /** Yields batches; the consumer disposes `x` and `y`. */
  batches(options: BatchOptions): AsyncIterable<Batch>;
}

/** What the trainer needs from a data module. */
export interface DataModuleLike {
  readonly train: DataSplit;
  readonly val?: DataSplit;
  readonly test?: DataSplit;
  readonly batchSize: number;
}

/** Metrics computed at the end of an epoch, keyed `train_loss`, `val_accuracy`, … */
export type EpochLogs = Record<string, number>;

/**
 * A trainable task model (Lightning's LightningModule, reduced to what a plain loop needs). The trainer calls
 * `setup` once with the data, then trains `trainingNetwork` on `loss` and reads `network` for outputs.
 */
export interface TaskModule {
  /** Builds the networks for this data (input shape, number of outputs). Called once by fit/test/predict. */
  setup(data: DataModuleLike): void | Promise<void>;
  /** True once `setup` (or loading) has built the networks. */
  readonly built: boolean;
  /** The network that is saved and served: its output is what `metrics` read (class probabilities). */
  network(): tf.LayersModel;
  /** Network with the same weights whose output `loss` expects (logits, for numerical stability). */
  trainingNetwork(): tf.LayersModel;
  /** Mean loss over the batch; called inside a tidy under the gradient tape. */
  loss(yTrue: tf.Tensor, trainingOutput: tf.Tensor): tf.Scalar;
  /** Turns the training network's output into the saved network's output (softmax of logits, say). */
  activate(trainingOutput: tf.Tensor): tf.Tensor;
  /** Optional running statistic logged as `train_<name>`: the batch's sum (e.g. correct predictions). */
  readonly trainStat?: { name: string; sum(yTrue: tf.Tensor, trainingOutput: tf.Tensor): tf.Scalar };
  /** Variables trained in the current phase (the strategy may freeze some); defaults to all trainable weights. */
  trainableVariables?(): tf.Variable[];
  /** Number of outputs (classes) — metrics need it. */
  readonly numOutputs: number;
  /** Metric names (from the metrics registry) reported for validation and test. */
  readonly metricNames: string[];
  /**
   * What the batches' `y` holds: class indices or 0/1 rows ('classes', the default), or real numbers ('values':
   * regression, [b] float32 in the target's units, which the metrics read as `MetricInput.values`).
   */
  readonly targetKind?: 'classes' | 'values';
  /** Multi-label modules: the probability from which metrics count a label as predicted (default 0.5). */
  readonly metricThreshold?: number;
  /** Creates the optimizer for a training phase. */
  createOptimizer(): tf.Optimizer;
  /** True when the module's backbone already has trained weights: finetuning then defaults to `freeze`. */
  readonly backboneTrained?: boolean;
}

/** A stretch of epochs trained with one set of trainable layers (tfjs fixes that set per compile). */
export interface Phase {
  /** First epoch (0-based) of the phase; the phase runs until the next one starts. */
  startEpoch: number;
  /** Shown in the log, e.g. "backbone frozen". */
  description: string;
  /** Sets which layers train; called before the phase's optimizer is built. */
  apply(module: TaskModule): void;
}

/** Read-only view of the running fit that callbacks receive. */
export interface FitContext {
  readonly epoch: number;
  readonly maxEpochs: number;
  /** Batches in one training epoch (for progress bars). */
  readonly batchesPerEpoch: number;
  readonly module: TaskModule;
  readonly optimizer: tf.Optimizer;
  /** Logs of every completed epoch so far, in order. */
  readonly history: EpochLogs[];
  /** Asks the trainer to stop after the current epoch (early stopping) or batch (interrupt). */
  requestStop(reason: string): void;
}

/** A hook into the loop. Every method is optional; the trainer awaits each in turn. */
export interface Callback {
  onFitStart?(ctx: FitContext): void | Promise<void>;
  onEpochStart?(ctx: FitContext): void | Promise<void>;
  /** `lr`: the step's learning rate, when a schedule sets it. */
  onBatchEnd?(ctx: FitContext, batch: number, logs: { loss: number; size: number; lr?: number }): void | Promise<void>;
  onEpochEnd?(ctx: FitContext, logs: EpochLogs): void | Promise<void>;
  onFitEnd?(ctx: FitContext): void | Promise<void>;
}

/**
 * Where metrics, hyperparameters, images and artifacts go (csv, jsonl, tensorboard built in; a user's own logger —
 * Neptune, W&B, a database — implements the same methods). Only `name` and `logMetrics` are required.
 */
export interface Logger {
  readonly name: string;
  logHyperparams?(params: Record<string, unknown>): void | Promise<void>;
  /** Metrics of one epoch (`train_loss`, `val_accuracy`, …); `step` is a global step when the caller has one. */
  logMetrics(metrics: Record<string, number>, step: { epoch: number; step?: number }): void | Promise<void>;
  /** A PNG image (confusion matrix, sample predictions) under a name, at a step (the epoch for run-level images). */
  logImage?(name: string, png: Buffer, step: number): void | Promise<void>;
  /** A file produced by the run (report.html, model.json) that a tracker may upload or link. */
  logArtifact?(name: string, path: string): void | Promise<void>;
  finalize?(status: 'success' | 'interrupted' | 'failed'): void | Promise<void>;
}
