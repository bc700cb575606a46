import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backbones, type BackboneSpec } from '../../backbones/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { loadLayersModel } from '../../src/core/io/layers_model.js';
import { createOptimizer } from '../../src/core/optimizers/index.js';
import type { DataModuleLike, TaskModule } from '../../src/core/trainer/types.js';
import { heads } from './heads.js';
import { predictFiles, type Prediction, type PredictOptions } from './predict.js';
import type { FlashJson } from './run_metadata.js';

export type Channels = 1 | 3;

/** The input a classifier takes: raw 0–255 pixels of this size (resizing is the caller's job). */
export interface InputSpec {
  height: number;
  width: number;
  channels: Channels;
}

export interface ImageClassifierOptions {
  /** A registered backbone name or a spec; default 'simple_cnn'. */
  backbone?: string | BackboneSpec;
  /** Number of classes; taken from the data at setup when omitted. */
  numClasses?: number;
  /** Class names in index order; taken from the data at setup when omitted. */
  labels?: string[];
  head?: string;
  optimizer?: string;
  /** null/undefined = the optimizer's default. */
  learningRate?: number | null;
  weightDecay?: number;
  dropout?: number;
  /** Metric names reported for val/test. */
  metrics?: string[];
}

/** Data the classifier can be set up from (ImageClassificationData fits). */
export interface ImageDataLike extends DataModuleLike {
  readonly labels: string[];
  readonly numClasses: number;
  readonly spec: InputSpec;
}

/** Metrics the Lightning tutorials log for classification. */
export const DEFAULT_METRICS = ['accuracy', 'f1_macro', 'auroc_macro'];

/**
 * An image classifier: raw pixels → scaling (a layer inside the model) → backbone → head → softmax. The saved
 * network is a plain tfjs LayersModel, so `tf.loadLayersModel` reproduces flash's predictions with no flash code.
 */
export class ImageClassifier implements TaskModule {
  readonly backboneName: string;
  readonly backboneSpec: BackboneSpec;
  readonly options: Required<Omit<ImageClassifierOptions, 'numClasses' | 'labels' | 'backbone' | 'learningRate'>> & { learningRate: number | null };
  labels: string[];
  spec?: InputSpec;
  private net?: tf.LayersModel;
  private logitsNet?: tf.LayersModel;

  constructor(options: ImageClassifierOptions = {}) {
    const backbone = options.backbone ?? 'simple_cnn';
    this.backboneName = typeof backbone === 'string' ? backbone : 'custom';
    this.backboneSpec = typeof backbone === 'string' ? backbones.get(backbone) : backbone;
    heads.get(options.head ?? 'linear');
    this.options = {
      head: options.head ?? 'linear',
      optimizer: options.optimizer ?? 'adam',
      learningRate: options.learningRate ?? null,
      weightDecay: options.weightDecay ?? 0,
      dropout: options.dropout ?? 0,
      metrics: options.metrics ?? DEFAULT_METRICS,
    };
    this.labels = options.labels ?? (options.numClasses ? Array.from({ length: options.numClasses }, (_, i) => String(i)) : []);
    if (options.numClasses !== undefined && options.labels && options.labels.length !== options.numClasses) {
      throw new FlashUserError(`numClasses ${options.numClasses} does not match ${options.labels.length} labels`);
    }
  }

  get built(): boolean {
    return this.net !== undefined;
  }

  get numOutputs(): number {
    return this.labels.length;
  }

  get metricNames(): string[] {
    return this.options.metrics;
  }

  /** Builds the network for the data's input size, channels and classes. */
  setup(data: DataModuleLike): void {
    const d = data as ImageDataLike;
    if (this.labels.length === 0 || this.labels.every((l, i) => l === String(i))) this.labels = [...d.labels];
    if (this.labels.length !== d.numClasses) {
      throw new FlashUserError(`the model has ${this.labels.length} classes but the data has ${d.numClasses}`);
    }
    this.build(d.spec);
  }

  /** Builds a fresh network for an input spec. */
  build(spec: InputSpec): void {
    if (this.labels.length < 2) throw new FlashUserError('an image classifier needs at least 2 classes');
    this.spec = spec;
    const input = tf.input({ shape: [spec.height, spec.width, spec.channels], name: 'image' });
    let x = tf.layers.rescaling({ scale: 1 / 255, name: 'scale_0_1' }).apply(input) as tf.SymbolicTensor;
    x = normalize(x, this.backboneSpec, spec.channels);
    const backbone = this.backboneSpec.build({ inputShape: [spec.height, spec.width, spec.channels], name: 'backbone' });
    const features = backbone.apply(x) as tf.SymbolicTensor;
    const logits = heads.get(this.options.head)(features, { numClasses: this.labels.length, dropout: this.options.dropout });
    const probs = tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor;
    this.setNetwork(tf.model({ inputs: input, outputs: probs, name: 'image_classifier' }));
  }

  private setNetwork(net: tf.LayersModel): void {
    this.net?.dispose();
    this.net = net;
    this.logitsNet = tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor });
    net.setUserDefinedMetadata({ flash: { task: 'image_classification', labels: this.labels, input: this.spec } });
  }

  network(): tf.LayersModel {
    if (!this.net) throw new Error('ImageClassifier is not built: call setup(data) or ImageClassifier.load(dir)');
    return this.net;
  }

  trainingNetwork(): tf.LayersModel {
    this.network();
    return this.logitsNet as tf.LayersModel;
  }

  loss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(yTrue, 'int32') as tf.Tensor1D, this.labels.length), logits) as tf.Scalar;
  }

  activate(logits: tf.Tensor): tf.Tensor {
    return tf.softmax(logits);
  }

  readonly trainStat = {
    name: 'accuracy',
    sum: (yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar =>
      tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(yTrue, 'int32')), 'float32')) as tf.Scalar,
  };

  createOptimizer(): tf.Optimizer {
    return createOptimizer(this.options.optimizer, this.options.learningRate, this.options.weightDecay);
  }

  /** Predicts image files (what `trainer.predict(model, files)` calls). */
  async predict(files: string[], options: PredictOptions = {}): Promise<Prediction[]> {
    return predictFiles(this, files, options);
  }

  /** Replaces the weights with those of an identically built network (best checkpoint, resume). */
  loadWeightsFrom(other: tf.LayersModel): void {
    this.network().setWeights(other.getWeights());
  }

  /** Loads a classifier saved by flash (`runs/X`): its network, labels and input spec. */
  static async load(runDir: string): Promise<ImageClassifier> {
    const meta = await readFlashJson(runDir);
    const recipeModel = meta.recipe?.model ?? {};
    const clf = new ImageClassifier({
      backbone: backbones.has(meta.backbone) ? meta.backbone : undefined,
      labels: meta.labels,
      optimizer: recipeModel.optimizer,
      learningRate: recipeModel.learning_rate ?? null,
      weightDecay: recipeModel.weight_decay,
      head: recipeModel.head,
      dropout: recipeModel.dropout,
    });
    clf.spec = { height: meta.input.height, width: meta.input.width, channels: meta.input.channels };
    clf.setNetwork(await loadLayersModel(runDir));
    return clf;
  }
}

/** Reads and checks a run folder's flash.json. */
export async function readFlashJson(runDir: string): Promise<FlashJson> {
  const path = join(runDir, 'flash.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FlashUserError(`'${runDir}' is not a flash run folder (no flash.json)`);
  }
  try {
    return JSON.parse(text) as FlashJson;
  } catch {
    throw new FlashUserError(`'${path}' is not valid JSON`);
  }
}

/**
 * Per-channel normalisation as a fixed 1×1 depthwise convolution (weight 1/std, bias −mean/std): plain tfjs
 * layers, so the exported model needs no custom layer. Skipped when the backbone expects plain 0–1 input.
 */
function normalize(x: tf.SymbolicTensor, backbone: BackboneSpec, channels: Channels): tf.SymbolicTensor {
  const { mean, std } = backbone.normalization;
  const m = Array.from({ length: channels }, (_, c) => mean[Math.min(c, mean.length - 1)]);
  const s = Array.from({ length: channels }, (_, c) => std[Math.min(c, std.length - 1)]);
  if (m.every((v) => v === 0) && s.every((v) => v === 1)) return x;
  const layer = tf.layers.depthwiseConv2d({
    kernelSize: 1,
    depthMultiplier: 1,
    useBias: true,
    trainable: false,
    name: 'normalize',
    weights: [tf.tensor4d(s.map((v) => 1 / v), [1, 1, channels, 1]), tf.tensor1d(m.map((v, c) => -v / s[c]))],
  });
  return layer.apply(x) as tf.SymbolicTensor;
}
