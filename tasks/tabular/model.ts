/**
 * The tabular networks: a backbone from the task's registry over the preprocessed feature vector, then the task's
 * head. The saved network takes the preprocessed vector, so plain `tf.loadLayersModel` runs it; classification
 * saves class probabilities (softmax), regression the prediction in the target's units (a Rescaling layer undoes
 * the target standardisation the network trains in).
 */
import * as tf from '@tensorflow/tfjs';
import { createOptimizer } from '../../src/core/optimizers/index.js';
import type { RunModule } from '../../src/core/run/train_run.js';
import { classificationActivation, classificationLoss, classificationTrainStat, DEFAULT_METRICS } from '../classification/objective.js';

export { tabularBackbones, type BackboneOptions, type TabularBackbone } from './registry.js';
import { tabularBackbones, type BackboneOptions } from './registry.js';

/** What differs between the classification and the regression module. */
export interface TabularHead {
  targetKind: 'classes' | 'values';
  outputs: number;
  metricNames: string[];
  /** The saved network's output from the training output (softmax; or rescale to target units). */
  saved(out: tf.SymbolicTensor): tf.SymbolicTensor;
  loss(yTrue: tf.Tensor, out: tf.Tensor): tf.Scalar;
  activate(out: tf.Tensor): tf.Tensor;
  trainStat?: { name: string; sum(yTrue: tf.Tensor, out: tf.Tensor): tf.Scalar };
}

/** Softmax classification over `labels`, with optional class weights (the shared classification layer). */
export function classificationHead(labels: string[], classWeights: () => number[] | null): TabularHead {
  return {
    targetKind: 'classes',
    outputs: labels.length,
    metricNames: DEFAULT_METRICS,
    saved: (out) => tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(out) as tf.SymbolicTensor,
    loss: (y, out) => classificationLoss({ numClasses: labels.length, multiLabel: false, threshold: 0.5, classWeights: classWeights() }, y, out),
    activate: (out) => classificationActivation(false, out),
    trainStat: classificationTrainStat(false, 0.5),
  };
}

/** Regression metrics the task reports (rmse first: the default monitor). */
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2', 'mse'];

/** Mean squared error on the standardised target; the saved network answers in the target's units. */
export function regressionHead(mean: number, std: number): TabularHead {
  return {
    targetKind: 'values',
    outputs: 1,
    metricNames: REGRESSION_METRICS,
    saved: (out) => tf.layers.rescaling({ scale: std, offset: mean, name: 'to_target_units' }).apply(out) as tf.SymbolicTensor,
    loss: (y, out) => tf.mean(tf.square(tf.sub(tf.div(tf.sub(y, mean), std), tf.reshape(out, [-1])))) as tf.Scalar,
    activate: (out) => tf.add(tf.mul(tf.reshape(out, [-1]), std), mean),
  };
}

export interface TabularModuleOptions extends BackboneOptions {
  backbone: string;
  width: number;
  optimizer: string;
  learningRate: number | null;
  weightDecay: number;
}

/** A tabular model as the trainer sees it. */
export class TabularModule implements RunModule {
  private net?: tf.LayersModel;
  private train?: tf.LayersModel;
  readonly head: TabularHead;
  /** Classification: per-class loss weights (set by the run from the train counts), or null. */
  classWeights: number[] | null = null;
  /** What flash.json keeps of the target (labels, or the target's mean and std). */
  meta: Record<string, unknown> = {};
  /** `head` is made for this module (a classification head reads its class weights). */
  constructor(
    head: (module: TabularModule) => TabularHead,
    readonly options: TabularModuleOptions,
  ) {
    this.head = head(this);
  }
  get built(): boolean {
    return this.net !== undefined;
  }
  get numOutputs(): number {
    return this.head.outputs;
  }
  get metricNames(): string[] {
    return this.head.metricNames;
  }
  get targetKind(): 'classes' | 'values' {
    return this.head.targetKind;
  }
  get trainStat() {
    return this.head.trainStat;
  }
  setup(): void {
    if (this.net) return;
    const input = tf.input({ shape: [this.options.width], name: 'features' });
    const h = tabularBackbones.get(this.options.backbone)(input, this.options);
    const out = tf.layers.dense({ units: this.head.outputs, name: 'output' }).apply(h) as tf.SymbolicTensor;
    this.adopt(tf.model({ inputs: input, outputs: this.head.saved(out) }));
  }
  /** Takes a built or loaded saved network; the training network shares its layers up to `output`. */
  adopt(net: tf.LayersModel): void {
    this.net?.dispose();
    this.net = net;
    this.train = tf.model({ inputs: net.inputs, outputs: net.getLayer('output').output as tf.SymbolicTensor });
  }
  network(): tf.LayersModel {
    if (!this.net) throw new Error('tabular model not built');
    return this.net;
  }
  trainingNetwork(): tf.LayersModel {
    this.network();
    return this.train!;
  }
  loss(y: tf.Tensor, out: tf.Tensor): tf.Scalar {
    return this.head.loss(y, out);
  }
  activate(out: tf.Tensor): tf.Tensor {
    return this.head.activate(out);
  }
  createOptimizer(): tf.Optimizer {
    return createOptimizer(this.options.optimizer, this.options.learningRate, this.options.weightDecay);
  }
  loadWeightsFrom(other: tf.LayersModel): void {
    this.network().setWeights(other.getWeights());
  }
  dispose(): void {
    this.net?.dispose();
    this.net = undefined;
  }
}

/** The saved network's outputs for feature rows: [n × outputs] probabilities, or [n] values. */
export function predictRows(module: TabularModule, x: Float32Array, n: number, batchSize = 256): number[][] {
  const net = module.network();
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const rows = tf.tidy(() => {
      const y = net.predict(tf.tensor2d(x.subarray(i * module.options.width, (i + m) * module.options.width), [m, module.options.width])) as tf.Tensor;
      return y.arraySync() as number[][];
    });
    out.push(...rows);
  }
  return out;
}
