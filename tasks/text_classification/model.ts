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
import { encode, parseTokenizer, type TokenizerState } from './tokenizer.js';
import { TextSplit } from './data.js';
import type { DataModuleLike } from '../../src/core/trainer/types.js';
import { inputTensor, type TextInput } from './input.js';

/** What a text model is built from. */
export interface TextModelOptions {
  /** Ids of the bag layout: every feature (words, subwords, bigrams), without the pad id. */
  featureCount: number;
  /** Ids of the sequence layout: the vocabulary's words (with <unk>), without the pad id. */
  vocabSize: number;
  numClasses: number;
  embeddingDim: number;
  dropout: number;
}

/** A text model: ids in its input layout → logits; the classifier adds the output activation. */
export interface TextModelSpec {
  input: TextInput;
  build(o: TextModelOptions): { input: tf.SymbolicTensor; logits: tf.SymbolicTensor };
}

/** A large negative logit: softmax gives it weight exp(-1e9) = 0 exactly in float32. */
const PAD_LOGIT = -1e9;

/**
 * fastText's embedding bag from stock Keras layers only, so plain `tf.loadLayersModel` (Node or browser) runs a
 * saved model: the mean of the non-pad tokens' embeddings is a softmax-weighted sum, the weights coming from a
 * frozen one-wide Embedding that gives the pad id PAD_LOGIT and every feature 0 (so each real token gets 1/count).
 * Its gradient is a gather's (UnsortedSegmentSum, added to the wasm backend by the engine): the step costs what
 * the batch's tokens cost, where the former Dense layer over a normalised count vector multiplied the whole
 * [features × dim] table every step.
 */
function embeddingBag(input: tf.SymbolicTensor, rows: number, dim: number): tf.SymbolicTensor {
  const table = tf.layers.embedding({ inputDim: rows, outputDim: dim, name: 'embedding_bag', embeddingsInitializer: tf.initializers.randomUniform({ minval: -1 / dim, maxval: 1 / dim }) });
  const vectors = table.apply(input) as tf.SymbolicTensor;
  const padLogits = tf.layers.embedding({ inputDim: rows, outputDim: 1, trainable: false, name: 'pad_logits', embeddingsInitializer: 'zeros' });
  const logits = padLogits.apply(input) as tf.SymbolicTensor;
  tf.tidy(() => {
    padLogits.setWeights([tf.concat([tf.fill([1, 1], PAD_LOGIT), tf.zeros([rows - 1, 1])])]);
    // An empty text (all pad) averages the pad row: zero, so it is the bias alone.
    const w = table.getWeights()[0];
    table.setWeights([tf.concat([tf.zeros([1, dim]), w.slice([1, 0], [rows - 1, dim])])]);
  });
  // [b, L, 1] → [b, 1, L]: tfjs's softmax runs over the last axis only.
  const weights = tf.layers.softmax({ axis: -1, name: 'token_weights' }).apply(tf.layers.permute({ dims: [2, 1], name: 'pad_logits_t' }).apply(logits)) as tf.SymbolicTensor;
  const mean = tf.layers.dot({ axes: [2, 1], name: 'bag_mean' }).apply([weights, vectors]) as tf.SymbolicTensor;
  return tf.layers.flatten({ name: 'bag' }).apply(mean) as tf.SymbolicTensor;
}

/** Widths of the cnn's parallel convolutions (Kim 2014: 3, 4, 5). */
const CNN_WINDOWS = [3, 4, 5];
const CNN_FILTERS = 64;

/** The text models, by `model.backbone`. */
export const textModels = new Registry<TextModelSpec>('text model');
textModels.register(
  'fasttext',
  {
    input: { layout: 'bag' },
    build({ featureCount, numClasses, embeddingDim, dropout }) {
      const input = tf.input({ shape: [null], dtype: 'int32', name: 'tokens' });
      let h = embeddingBag(input, featureCount + 1, embeddingDim);
      if (dropout > 0) h = tf.layers.dropout({ rate: dropout, name: 'dropout' }).apply(h) as tf.SymbolicTensor;
      const logits = tf.layers.dense({ units: numClasses, name: 'logits' }).apply(h) as tf.SymbolicTensor;
      return { input, logits };
    },
  },
  'mean embedding of words, subwords and word bigrams → linear (fastText)',
);
textModels.register(
  'cnn',
  {
    // The tail of pad ids is the widest window: see toSequence.
    input: { layout: 'sequence', tail: Math.max(...CNN_WINDOWS) },
    build({ vocabSize, numClasses, embeddingDim, dropout }) {
      const input = tf.input({ shape: [null], dtype: 'int32', name: 'words' });
      const x = tf.layers.embedding({ inputDim: vocabSize + 1, outputDim: embeddingDim, name: 'word_embedding' }).apply(input) as tf.SymbolicTensor;
      const pooled = CNN_WINDOWS.map((k) => {
        const c = tf.layers.conv1d({ filters: CNN_FILTERS, kernelSize: k, activation: 'relu', name: `conv_${k}` }).apply(x) as tf.SymbolicTensor;
        return tf.layers.globalMaxPooling1d({ name: `max_over_time_${k}` }).apply(c) as tf.SymbolicTensor;
      });
      let h = tf.layers.concatenate({ name: 'features' }).apply(pooled) as tf.SymbolicTensor;
      h = tf.layers.dropout({ rate: dropout > 0 ? dropout : 0.5, name: 'dropout' }).apply(h) as tf.SymbolicTensor;
      const logits = tf.layers.dense({ units: numClasses, name: 'logits' }).apply(h) as tf.SymbolicTensor;
      return { input, logits };
    },
  },
  `word embeddings → parallel 1-D convolutions (windows ${CNN_WINDOWS.join(', ')}, ${CNN_FILTERS} filters each) → max over time → dropout → linear (Kim 2014)`,
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
  /** The backbone's input layout: how texts become a batch for this classifier. */
  get input(): TextInput {
    return this.loadedInput ?? textModels.get(this.options.backbone ?? 'fasttext').input;
  }
  /** A loaded network's own layout when it is the older dense one (a [features]-wide float input). */
  private loadedInput?: TextInput;
  /**
   * Builds the network for the tokenizer (the data needs nothing more), and sets `data`'s splits, when given, to
   * batch texts in this model's input layout.
   */
  setup(data?: DataModuleLike): void {
    for (const split of [data?.train, data?.val, data?.test]) if (split instanceof TextSplit) split.input = this.input;
    if (this.net) return;
    const o = this.options;
    const { input, logits } = textModels.get(o.backbone ?? 'fasttext').build({
      featureCount: this.inputDim, vocabSize: this.tokenizer.vocab.length, numClasses: this.labels.length, embeddingDim: o.embeddingDim ?? 64, dropout: o.dropout ?? 0,
    });
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
    const shape = net.inputs[0].shape;
    this.loadedInput = shape.length === 2 && shape[1] === this.inputDim && net.inputs[0].dtype === 'float32' ? { layout: 'dense' } : undefined;
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
      const x = inputTensor(this.input, this.tokenizer, chunk.map((t) => encode(this.tokenizer, t)));
      const probs = tf.tidy(() => this.network().predict(x) as tf.Tensor);
      x.dispose();
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
    return { labels: this.labels, multi_label: this.multiLabel, threshold: this.threshold, input_dim: this.inputDim, input: this.input, tokenizer: TOKENIZER_FILE };
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
