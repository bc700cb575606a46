import { fixedLearningRate } from '../../src/core/config/index.js';
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlashUserError } from '../../src/core/errors.js';
import { loadLayersModel } from '../../src/core/io/layers_model.js';
import { createOptimizer } from '../../src/core/optimizers/index.js';
import { readRunMeta, type RunMeta } from '../../src/core/run/run_folder.js';
import type { RunModule } from '../../src/core/run/train_run.js';
import { classificationActivation, classificationLoss, classificationTrainStat, DEFAULT_METRICS, DEFAULT_MULTI_LABEL_METRICS } from '../classification/objective.js';
import { DEFAULT_THRESHOLD } from '../classification/schema.js';
import { Registry } from '../../src/core/registry.js';
import type { TextRecipe } from './schema.js';
import { encode, parseTokenizer, toDense, type TokenizerState } from './tokenizer.js';

/** What a text model is built from. */
export interface TextModelOptions {
  inputDim: number;
  numClasses: number;
  embeddingDim: number;
  dropout: number;
}

/** A text model: input vector → logits; the classifier adds the output activation. */
export interface TextModelSpec {
  build(o: TextModelOptions): { input: tf.SymbolicTensor; logits: tf.SymbolicTensor };
}

/**
 * The text models, by `model.backbone`. `fasttext` is an embedding bag as a Dense layer without bias over the
 * tokenizer's normalised count vector: x·E is the mean of the features' embeddings (what fastText computes), and
 * unlike an Embedding layer its gradient needs no UnsortedSegmentSum kernel, which the wasm backend lacks.
 */
export const textModels = new Registry<TextModelSpec>('text model');
textModels.register(
  'fasttext',
  {
    build({ inputDim, numClasses, embeddingDim, dropout }) {
      const input = tf.input({ shape: [inputDim], name: 'features' });
      let h = tf.layers.dense({ units: embeddingDim, useBias: false, name: 'embedding_bag', kernelInitializer: tf.initializers.randomUniform({ minval: -1 / embeddingDim, maxval: 1 / embeddingDim }) }).apply(input) as tf.SymbolicTensor;
      if (dropout > 0) h = tf.layers.dropout({ rate: dropout, name: 'dropout' }).apply(h) as tf.SymbolicTensor;
      const logits = tf.layers.dense({ units: numClasses, name: 'logits' }).apply(h) as tf.SymbolicTensor;
      return { input, logits };
    },
  },
  'mean embedding of words, subwords and word bigrams → linear (fastText)',
);

/** One text's prediction. */
export interface TextPrediction {
  text: string;
  /** The most probable class; multi-label: the labels at or above the threshold joined with ';'. */
  label: string;
  /** Its probability (multi-label: the highest label probability). */
  score: number;
  /** The top-k classes, best first. */
  top: { label: string; score: number }[];
  /** Multi-label: the labels at or above `threshold`, most probable first. */
  labels?: { label: string; score: number }[];
  threshold?: number;
  /** Every class's probability, in label order. */
  probs: number[];
  /** Input columns kept by predict's --keep_columns. */
  columns?: Record<string, unknown>;
}

export interface PredictTextOptions {
  /** Classes in `top` (default 3). */
  topK?: number;
  /** Multi-label: a label is predicted from this probability (default: the model's). */
  threshold?: number;
  batchSize?: number;
}

export interface TextClassifierOptions {
  labels: string[];
  tokenizer: TokenizerState;
  multiLabel: boolean;
  threshold?: number;
  backbone?: string;
  embeddingDim?: number;
  dropout?: number;
  optimizer?: string;
  learningRate?: number | null;
  weightDecay?: number;
}

/** A text classifier: the tokenizer's vector → text model → softmax (or sigmoids, multi-label). */
export class TextClassifier implements RunModule {
  private net?: tf.LayersModel;
  private logitsNet?: tf.LayersModel;
  classWeights: number[] | null = null;
  readonly labels: string[];
  readonly tokenizer: TokenizerState;
  readonly multiLabel: boolean;
  readonly threshold: number;
  constructor(readonly options: TextClassifierOptions) {
    this.labels = options.labels;
    this.tokenizer = options.tokenizer;
    this.multiLabel = options.multiLabel;
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
  }
  get built(): boolean {
    return this.net !== undefined;
  }
  get numOutputs(): number {
    return this.labels.length;
  }
  get metricNames(): string[] {
    return this.multiLabel ? DEFAULT_MULTI_LABEL_METRICS : DEFAULT_METRICS;
  }
  get metricThreshold(): number | undefined {
    return this.multiLabel ? this.threshold : undefined;
  }
  /** Builds the network for the tokenizer's feature count (the data needs nothing more). */
  setup(): void {
    if (this.net) return;
    const { inputDim } = this;
    const o = this.options;
    const { input, logits } = textModels.get(o.backbone ?? 'fasttext').build({ inputDim, numClasses: this.labels.length, embeddingDim: o.embeddingDim ?? 64, dropout: o.dropout ?? 0 });
    const probs = tf.layers.activation({ activation: this.multiLabel ? 'sigmoid' : 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor;
    this.adopt(tf.model({ inputs: input, outputs: probs }));
  }
  get inputDim(): number {
    return this.tokenizer.vocab.length + this.tokenizer.config.subword_buckets + this.tokenizer.config.bigram_buckets;
  }
  /** Takes a built (or loaded) network whose `logits` layer feeds its output. */
  adopt(net: tf.LayersModel): void {
    this.net?.dispose();
    this.net = net;
    this.logitsNet = tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor });
  }
  network(): tf.LayersModel {
    if (!this.net) throw new Error('text classifier not built');
    return this.net;
  }
  trainingNetwork(): tf.LayersModel {
    this.network();
    return this.logitsNet!;
  }
  loss(y: tf.Tensor, out: tf.Tensor): tf.Scalar {
    return classificationLoss({ numClasses: this.labels.length, multiLabel: this.multiLabel, threshold: this.threshold, classWeights: this.classWeights }, y, out);
  }
  activate(out: tf.Tensor): tf.Tensor {
    return classificationActivation(this.multiLabel, out);
  }
  get trainStat() {
    return classificationTrainStat(this.multiLabel, this.threshold);
  }
  createOptimizer(): tf.Optimizer {
    return createOptimizer(this.options.optimizer ?? 'adam', this.options.learningRate ?? null, this.options.weightDecay ?? 0);
  }
  loadWeightsFrom(other: tf.LayersModel): void {
    this.network().setWeights(other.getWeights());
  }
  dispose(): void {
    this.net?.dispose();
    this.net = undefined;
  }
  /** Classifies texts, in their order, `batchSize` at a time: the tokenizer's vectors through the saved network. */
  async predict(texts: string[], o: PredictTextOptions = {}): Promise<TextPrediction[]> {
    const k = this.labels.length;
    const topK = Math.max(1, Math.min(o.topK ?? 3, k));
    const threshold = o.threshold ?? this.threshold;
    const batch = o.batchSize ?? 32;
    const out: TextPrediction[] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const chunk = texts.slice(i, i + batch);
      const x = toDense(this.tokenizer, chunk.map((t) => encode(this.tokenizer, t)));
      const probs = tf.tidy(() => this.network().predict(tf.tensor2d(x, [chunk.length, this.inputDim])) as tf.Tensor);
      const values = await probs.data();
      probs.dispose();
      chunk.forEach((text, r) => {
        const p = Array.from(values.subarray(r * k, (r + 1) * k));
        const order = p.map((s, c) => [s, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        const top = order.slice(0, topK).map(([s, c]) => ({ label: this.labels[c], score: s }));
        if (!this.multiLabel) return void out.push({ text, label: top[0].label, score: top[0].score, top, probs: p });
        const labels = order.filter(([s]) => s >= threshold).map(([s, c]) => ({ label: this.labels[c], score: s }));
        out.push({ text, label: labels.map((l) => l.label).join(';'), score: order[0][0], top, labels, threshold, probs: p });
      });
    }
    return out;
  }

  /** flash.json's text fields (labels and how to rebuild the classifier around the saved network). */
  metadata(): Record<string, unknown> {
    return { labels: this.labels, multi_label: this.multiLabel, threshold: this.threshold, input_dim: this.inputDim, tokenizer: TOKENIZER_FILE };
  }

  /** A run folder's classifier: its flash.json, tokenizer.json and model.json. */
  static async load(runDir: string): Promise<TextClassifier> {
    const meta = await readRunMeta<TextRunMeta>(runDir);
    if (meta.task !== 'text_classification') throw new FlashUserError(`'${runDir}' is a ${meta.task} run, not text_classification`);
    const tokenizer = await readTokenizer(runDir);
    const r = meta.recipe?.model;
    const clf = new TextClassifier({
      labels: meta.labels,
      tokenizer,
      multiLabel: meta.multi_label,
      threshold: meta.threshold,
      backbone: r?.backbone,
      embeddingDim: r?.embedding_dim,
      dropout: r?.dropout,
      optimizer: r?.optimizer,
      learningRate: r?.learning_rate === undefined ? undefined : fixedLearningRate(r.learning_rate),
      weightDecay: r?.weight_decay,
    });
    clf.adopt(await loadLayersModel(runDir));
    return clf;
  }
}

/** The file in a run folder holding the tokenizer (config and vocabulary). */
export const TOKENIZER_FILE = 'tokenizer.json';

interface TextRunMeta extends RunMeta {
  labels: string[];
  multi_label: boolean;
  threshold: number;
  recipe: TextRecipe;
}

/** A run folder's tokenizer.json, or a user error naming it. */
export async function readTokenizer(runDir: string): Promise<TokenizerState> {
  const file = join(runDir, TOKENIZER_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FlashUserError(`'${file}' is missing: the run's tokenizer is needed to read text`);
  }
  try {
    return parseTokenizer(JSON.parse(text));
  } catch (err) {
    throw new FlashUserError(`'${file}': ${(err as Error).message}`);
  }
}
