import * as tf from '@tensorflow/tfjs';
import { backbones, layerGroupsOf, type BackboneSpec, type LayerGroup } from '../../backbones/index.js';
import { cutBackbone, type CutPooling } from '../../backbones/cut.js';
import { backboneFromModel, type UserBackbone } from '../../backbones/saved.js';
import { copyWeightsByName, describeLoad, ignoredCheckpointLayers, noteUnverified, openPretrained, type PretrainedOptions } from '../../backbones/weights.js';
import { FlashUserError } from '../../src/core/errors.js';
import { fixedLearningRate } from '../../src/core/config/index.js';
import { applyFreezePlan, describeFreeze, PhaseOptimizer, type Finetunable, type FreezePlan } from '../../src/core/finetuning/index.js';
import { FeatureCacheSplit } from '../../src/core/finetuning/feature_cache.js';
import { loadLayersModel } from '../../src/core/io/layers_model.js';
import { createOptimizer } from '../../src/core/optimizers/index.js';
import { readRunMeta } from '../../src/core/run/run_folder.js';
import type { DataModuleLike, DataSplit, TaskModule } from '../../src/core/trainer/types.js';
import {
  classificationActivation,
  classificationLoss,
  classificationTrainStat,
  DEFAULT_METRICS,
  DEFAULT_MULTI_LABEL_METRICS,
} from '../classification/objective.js';
import { heads } from './heads.js';
import { predictFiles, type Prediction, type PredictOptions } from './predict.js';
import type { Channels, FlashJson, ImageRunFields, InputSpec } from './run_metadata.js';
import { DEFAULT_THRESHOLD } from '../classification/schema.js';

export type { Channels, InputSpec } from './run_metadata.js';

export interface ImageClassifierOptions {
  /**
   * A registered backbone name, a spec, a saved flash backbone (`await loadBackbone('runs/A')`), or a
   * `{ model, numFeatures }` pair for any tf.LayersModel (Flash's `backbone=(module, num_features)`);
   * default 'simple_cnn'.
   */
  backbone?: string | BackboneSpec | UserBackbone;
  /**
   * Backbone weights: false (random init, default), true (the backbone's registered pretrained weights), or a
   * URL / path of a tfjs layers model whose weights are copied in by layer name. Loaded by `setup`.
   */
  pretrained?: boolean | string;
  /** Multiplier of the learning rate for backbone layers (`finetune.backbone_lr_mult`); default 1. */
  backboneLrMult?: number;
  /** Download cache and progress for `pretrained` URLs. */
  pretrainedOptions?: PretrainedOptions;
  /** Number of classes; taken from the data at setup when omitted. */
  numClasses?: number;
  /** Class names in index order; taken from the data at setup when omitted. */
  labels?: string[];
  head?: string;
  /**
   * Cut the backbone after this layer (`model.cut`, fastai's `cut`): its output, pooled by `pooling` when it is a
   * feature map, becomes the features. Undefined/null = the backbone's own end.
   */
  cut?: string | null;
  /** How a spatial feature map at `cut` becomes the feature vector; default 'avg'. */
  pooling?: CutPooling;
  optimizer?: string;
  /** null/undefined = the optimizer's default. */
  learningRate?: number | null;
  weightDecay?: number;
  dropout?: number;
  /** Metric names reported for val/test. */
  metrics?: string[];
  /**
   * Per-class loss weights (index = label): each sample's cross-entropy is multiplied by the weight of its true
   * class and the batch loss is the mean of those. null/undefined = unweighted (`--data.class_weights`).
   */
  classWeights?: number[] | null;
  /**
   * Multi-label: any number of labels per image — probabilities are per-label sigmoids, the loss is binary
   * cross-entropy and metrics threshold at `threshold`. Undefined: taken from the data at setup.
   */
  multiLabel?: boolean;
  /** Multi-label decision threshold for metrics (and the default of predict/serve); default 0.5. */
  threshold?: number;
}

/** Data the classifier can be set up from (ImageClassificationData fits). */
export interface ImageDataLike extends DataModuleLike {
  readonly labels: string[];
  readonly numClasses: number;
  readonly spec: InputSpec;
  /** Several labels per image (batches carry 0/1 rows); absent = false. */
  readonly multiLabel?: boolean;
}

export { DEFAULT_METRICS, DEFAULT_MULTI_LABEL_METRICS, binaryCrossEntropyWithLogits } from '../classification/objective.js';

/**
 * An image classifier: raw pixels → scaling (a layer inside the model) → backbone → head → softmax. The saved
 * network is a plain tfjs LayersModel, so `tf.loadLayersModel` reproduces flash's predictions with no flash code.
 */
export class ImageClassifier implements TaskModule, Finetunable {
  readonly backboneName: string;
  readonly backboneSpec: BackboneSpec;
  readonly options: Required<
    Omit<ImageClassifierOptions, 'numClasses' | 'labels' | 'backbone' | 'learningRate' | 'pretrained' | 'backboneLrMult' | 'pretrainedOptions' | 'classWeights' | 'multiLabel' | 'metrics' | 'threshold' | 'cut' | 'pooling'>
  > & {
    learningRate: number | null;
  };
  /** Metric names given by the caller; undefined = the defaults for single- or multi-label. */
  private readonly askedMetrics?: string[];
  /** Undefined until set by the options, the data (setup) or the saved model (load). */
  private multi?: boolean;
  /** Multi-label decision threshold (metrics; the default of predict and serve). */
  readonly threshold: number;
  readonly pretrained: boolean | string;
  readonly backboneLrMult: number;
  /** Where the backbone is cut (null = its own end) and how a feature map there is pooled. */
  readonly cut: string | null;
  readonly pooling: CutPooling;
  /** What the cut produced, once built with a cut: the cut layer's output shape and the feature count. */
  cutInfo?: { layer: string; shape: number[]; pooling: CutPooling; numFeatures: number };
  private readonly pretrainedOptions: PretrainedOptions;
  /** The normalisation an unregistered pretrained checkpoint asked for (see loadPretrained). */
  private normalizationOverride?: BackboneSpec['normalization'];
  labels: string[];
  /** Per-class loss weights, or null for the plain mean cross-entropy (see ImageClassifierOptions.classWeights). */
  classWeights: number[] | null;
  spec?: InputSpec;
  private net?: tf.LayersModel;
  private logitsNet?: tf.LayersModel;
  /** Set by a phase that carries the optimizer state over; the disposed optimizer's inner one waits in `spareOptimizer`. */
  private carryOptimizer = false;
  private spareOptimizer?: tf.Optimizer;
  /** True while the current phase trains nothing in the backbone (BatchNorm included). */
  private backboneFrozen = false;
  private readonly featureCaches: FeatureCacheSplit[] = [];
  private headNet?: tf.LayersModel;
  private featureNet?: tf.LayersModel;
  /** Hidden-layer settings of the backbone's default head (empty when the user named the head). */
  private readonly headOptions: { hiddenUnits?: number; hiddenDropout?: number };

  constructor(options: ImageClassifierOptions = {}) {
    const backbone = options.backbone ?? 'simple_cnn';
    this.backboneName = typeof backbone === 'string' ? backbone : 'custom';
    this.backboneSpec =
      typeof backbone === 'string' ? backbones.get(backbone) : 'model' in backbone && 'numFeatures' in backbone ? backboneFromModel(backbone) : backbone;
    this.pretrained = options.pretrained ?? false;
    this.backboneLrMult = options.backboneLrMult ?? 1;
    this.cut = options.cut ?? null;
    this.pooling = options.pooling ?? 'avg';
    this.pretrainedOptions = options.pretrainedOptions ?? {};
    if (this.pretrained !== false && this.backboneSpec.fixedInput) {
      throw new FlashUserError('a saved or user-built backbone already has its weights; drop --model.pretrained');
    }
    // No head named: the backbone's own default (simple_cnn: dense 128 → classes), else linear.
    this.headOptions = options.head ? {} : this.backboneSpec.defaultHead ?? {};
    const head = options.head ?? this.backboneSpec.defaultHead?.name ?? 'linear';
    heads.get(head);
    this.options = {
      head,
      optimizer: options.optimizer ?? 'adam',
      learningRate: options.learningRate ?? null,
      weightDecay: options.weightDecay ?? 0,
      dropout: options.dropout ?? 0,
    };
    this.askedMetrics = options.metrics;
    this.multi = options.multiLabel;
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!(this.threshold > 0 && this.threshold < 1)) throw new FlashUserError(`threshold must be between 0 and 1, got ${options.threshold}`);
    this.classWeights = options.classWeights ?? null;
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
    return this.askedMetrics ?? (this.multiLabel ? DEFAULT_MULTI_LABEL_METRICS : DEFAULT_METRICS);
  }

  /** True for a multi-label classifier (sigmoid outputs, binary cross-entropy). */
  get multiLabel(): boolean {
    return this.multi ?? false;
  }

  /** Multi-label metrics threshold here (the trainer passes it to the metrics). */
  get metricThreshold(): number {
    return this.threshold;
  }

  /** True when the backbone's weights are already trained (saved, user-built or pretrained): the default strategy is then `freeze`. */
  get backboneTrained(): boolean {
    return Boolean(this.backboneSpec.trained) || this.pretrained !== false;
  }

  /**
   * Builds the network for the data's input size, channels and classes; with `pretrained` set it returns a
   * promise that resolves once the weights are loaded (the trainer awaits it).
   */
  setup(data: DataModuleLike): void | Promise<void> {
    const d = data as ImageDataLike;
    const dataMulti = d.multiLabel ?? false;
    if (this.multi === undefined) this.multi = dataMulti;
    else if (this.multi !== dataMulti) {
      throw new FlashUserError(
        this.multi ? 'the model is multi-label but the data has one label per image' : 'the data is multi-label (several labels per image) but the model is single-label',
      );
    }
    if (this.labels.length === 0 || this.labels.every((l, i) => l === String(i))) this.labels = [...d.labels];
    if (this.labels.length !== d.numClasses) {
      throw new FlashUserError(`the model has ${this.labels.length} classes but the data has ${d.numClasses}`);
    }
    this.build(d.spec);
    if (this.pretrained !== false) return this.loadPretrained();
  }

  /**
   * Copies the `pretrained` weights into the built backbone. When the checkpoint expects other inputs than the
   * network was built with (a checkpoint path or URL: see checkpointNormalization), the network is rebuilt
   * with its normalisation first.
   */
  async loadPretrained(): Promise<void> {
    if (this.pretrained === false) return;
    const options: PretrainedOptions = { backboneName: this.backboneName, ...this.pretrainedOptions };
    const { model: source, label, registered } = await openPretrained(this.backboneSpec, this.pretrained, options);
    try {
      const wanted = registered ? undefined : this.checkpointNormalization(source);
      if (wanted && this.spec && !sameNormalization(wanted.normalization, this.normalization())) {
        this.normalizationOverride = wanted.normalization;
        this.build(this.spec);
        const fmt = (v: number[]) => `[${v.map((x) => +x.toFixed(4)).join(', ')}]`;
        options.log?.(`pretrained weights: inputs normalised with mean ${fmt(wanted.normalization.mean)}, std ${fmt(wanted.normalization.std)} (on 0–1 pixels): ${wanted.why}`);
      }
      let n: number;
      try {
        n = copyWeightsByName(source, this.backbone(), `pretrained weights '${label}'`);
      } catch (err) {
        throw noteUnverified(err, registered);
      }
      for (const line of describeLoad(n, label, ignoredCheckpointLayers(source, this.backbone()))) options.log?.(line);
    } finally {
      source.dispose();
    }
  }

  /**
   * The input normalisation an unregistered checkpoint expects: a classifier saved by flash carries its own
   * (its `normalize` layer, or none); any other checkpoint of a backbone with registered weights is taken to
   * follow their convention (Keras MobileNetV2: [-1, 1]), not the from-scratch default of the spec.
   */
  private checkpointNormalization(source: tf.LayersModel): { normalization: BackboneSpec['normalization']; why: string } | undefined {
    const norm = source.layers.find((l) => l.name === 'normalize' && l.getClassName() === 'DepthwiseConv2D');
    if (norm) {
      const [k, b] = norm.getWeights().map((w) => Array.from(w.dataSync()));
      const std = k.map((v) => 1 / v);
      return { normalization: { mean: b.map((v, c) => -v * std[c]), std }, why: 'the normalisation the checkpoint was saved with' };
    }
    if ((source.getUserDefinedMetadata() as { flash?: unknown } | undefined)?.flash) {
      return { normalization: { mean: [0], std: [1] }, why: 'the checkpoint was saved by flash without a normalisation' };
    }
    const reg = this.backboneSpec.weights?.find((w) => w.normalization);
    if (reg?.normalization) {
      return { normalization: reg.normalization, why: `a checkpoint not saved by flash is taken to follow the convention of ${this.backboneName}'s registered weights: ${reg.note ?? reg.url}` };
    }
    return undefined;
  }

  /** The normalisation in front of the backbone: the pretrained weights' own when registered, else the spec's. */
  private normalization(): BackboneSpec['normalization'] {
    if (this.normalizationOverride) return this.normalizationOverride;
    if (this.pretrained === true) return this.backboneSpec.weights?.[0]?.normalization ?? this.backboneSpec.normalization;
    if (typeof this.pretrained === 'string') {
      const registered = this.backboneSpec.weights?.find((w) => w.url === this.pretrained);
      if (registered?.normalization) return registered.normalization;
    }
    return this.backboneSpec.normalization;
  }

  /** Builds a fresh network for an input spec. */
  build(spec: InputSpec): void {
    if (this.labels.length < 2) throw new FlashUserError('an image classifier needs at least 2 classes');
    const fixed = this.backboneSpec.fixedInput;
    if (fixed && (fixed[0] !== spec.height || fixed[1] !== spec.width || fixed[2] !== spec.channels)) {
      throw new FlashUserError(
        `the backbone takes ${fixed[0]}×${fixed[1]}×${fixed[2]} images but the data is ${spec.height}×${spec.width}×${spec.channels}; ` +
          `set --data.image_size ${fixed[0]} --data.channels ${fixed[2]} (or leave them unset)`,
      );
    }
    this.spec = spec;
    const input = tf.input({ shape: [spec.height, spec.width, spec.channels], name: 'image' });
    let x = tf.layers.rescaling({ scale: 1 / 255, name: 'scale_0_1' }).apply(input) as tf.SymbolicTensor;
    x = normalize(x, this.normalization(), spec.channels);
    let backbone = this.backboneSpec.build({ inputShape: [spec.height, spec.width, spec.channels], name: 'backbone' });
    if (this.cut !== null) {
      // A freshly built backbone's layers past the cut are never used: free their weights (all of them when the
      // cut is refused). A saved or user-built backbone is one model shared by every build, so it is left whole.
      const free = (layers: tf.layers.Layer[]) => {
        if (!this.backboneSpec.fixedInput) tf.dispose(layers.flatMap((l) => l.weights.map((w) => w.read())));
      };
      let cut: ReturnType<typeof cutBackbone>;
      try {
        cut = cutBackbone(backbone, this.cut, this.pooling);
      } catch (err) {
        free(backbone.layers);
        throw err;
      }
      free(cut.dropped);
      backbone = cut.model;
      this.cutInfo = { layer: this.cut, shape: cut.cutShape, pooling: this.pooling, numFeatures: cut.numFeatures };
    }
    const features = backbone.apply(x) as tf.SymbolicTensor;
    const logits = heads.get(this.options.head)(features, {
      numClasses: this.labels.length,
      dropout: this.options.dropout,
      hiddenUnits: this.headOptions.hiddenUnits,
      hiddenDropout: this.headOptions.hiddenDropout,
    });
    // The logits layer stays linear; only the output activation differs: independent per-label sigmoids for multi-label.
    const probs = tf.layers.activation({ activation: this.multiLabel ? 'sigmoid' : 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor;
    this.setNetwork(tf.model({ inputs: input, outputs: probs, name: 'image_classifier' }));
  }

  private setNetwork(net: tf.LayersModel): void {
    this.net?.dispose();
    this.net = net;
    this.headNet = undefined;
    this.featureNet = undefined;
    for (const c of this.featureCaches) c.invalidate();
    this.logitsNet = tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor });
    net.setUserDefinedMetadata({ flash: { task: 'image_classification', labels: this.labels, input: this.spec, multi_label: this.multiLabel, threshold: this.threshold } });
  }

  network(): tf.LayersModel {
    if (!this.net) throw new Error('ImageClassifier is not built: call setup(data) or ImageClassifier.load(dir)');
    return this.net;
  }

  trainingNetwork(): tf.LayersModel {
    this.network();
    const logits = this.logitsNet as tf.LayersModel;
    if (!this.featureCacheActive()) return logits;
    // Feature batches (rank 2) from the cache go through the head alone; images (validation) through everything.
    const head = this.headNetwork();
    return new Proxy(logits, {
      get: (target, prop) =>
        prop === 'apply' ? (x: tf.Tensor, kwargs?: tf.serialization.ConfigDict) => (x.rank === 2 ? head : target).apply(x, kwargs) : Reflect.get(target, prop, target),
    });
  }

  /** Images → backbone features (scaling, normalisation and backbone of the network). */
  featureNetwork(): tf.LayersModel {
    if (!this.featureNet) {
      // The backbone's output in this network is the input of the head's first layer at its first application.
      const layers = this.network().layers;
      const first = layers[layers.findIndex((l) => l.name === 'backbone') + 1];
      this.featureNet = tf.model({ inputs: this.network().inputs, outputs: first.getInputAt(0) as tf.SymbolicTensor });
    }
    return this.featureNet;
  }

  /** Backbone features → logits: the head's layers (shared with the network) on a features input. */
  headNetwork(): tf.LayersModel {
    if (this.headNet) return this.headNet;
    const net = this.network();
    const layers = net.layers;
    const start = layers.findIndex((l) => l.name === 'backbone');
    const width = (this.backbone().outputs[0].shape[1] ?? 0) as number;
    const input = tf.input({ shape: [width], name: 'features' });
    let x: tf.SymbolicTensor = input;
    for (const layer of layers.slice(start + 1)) {
      if (layer.name === 'probs') break;
      x = layer.apply(x) as tf.SymbolicTensor;
    }
    this.headNet = tf.model({ inputs: input, outputs: x, name: 'head' });
    return this.headNet;
  }

  /** True when the backbone has no layer that is random in training mode (dropout, noise). */
  private backboneDeterministic(): boolean {
    return !this.backbone().layers.some((l) => /Dropout|Noise/.test(l.getClassName()));
  }

  private featureCacheActive(): boolean {
    return this.featureCaches.length > 0 && this.backboneFrozen && this.backboneDeterministic();
  }

  /**
   * Wraps a split that is read without augmentation (the training split with augmentation off, or the
   * validation split) so that while a phase keeps the whole backbone frozen, the backbone runs once over it and
   * the head trains (or is validated) from the stored features. Pass the result to the trainer in place of the
   * split.
   */
  withFeatureCache(split: DataSplit, onBuild?: (samples: number, features: number) => void): DataSplit {
    const cache = new FeatureCacheSplit(split, {
      features: (x) => tf.tidy(() => this.featureNetwork().apply(x, { training: false }) as tf.Tensor),
      active: () => this.featureCacheActive(),
      onBuild,
    });
    this.featureCaches.push(cache);
    return cache;
  }

  loss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
    return classificationLoss({ numClasses: this.labels.length, multiLabel: this.multiLabel, threshold: this.threshold, classWeights: this.classWeights }, yTrue, logits);
  }

  activate(logits: tf.Tensor): tf.Tensor {
    return classificationActivation(this.multiLabel, logits);
  }

  /** Running train statistic: arg-max accuracy, or for multi-label the Hamming accuracy at the threshold. */
  get trainStat(): { name: string; sum(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar } {
    return classificationTrainStat(this.multiLabel, this.threshold);
  }

  /** The backbone sub-model (the layer named 'backbone'). */
  backbone(): tf.LayersModel {
    return this.network().getLayer('backbone') as unknown as tf.LayersModel;
  }

  /** The backbone's layer groups, input to output (what `unfreeze_milestones` counts). */
  layerGroups(): LayerGroup[] {
    return layerGroupsOf(this.backboneSpec, this.backbone());
  }

  /** Trains at `lr` from the next optimizer on (the run sets the default of a frozen trained backbone with it). */
  setLearningRate(lr: number): void {
    if (!(lr > 0)) throw new FlashUserError(`learning rate must be above 0, got ${lr}`);
    this.options.learningRate = lr;
  }

  /** Sets which backbone layers train for a finetuning phase; returns the lines the run prints. */
  setFinetunePhase(plan: FreezePlan, options: { carryOptimizerState: boolean }): string[] {
    const result = applyFreezePlan(this.backbone(), this.layerGroups(), plan);
    this.carryOptimizer = options.carryOptimizerState;
    this.backboneFrozen = this.backbone().trainableWeights.length === 0;
    const lines = describeFreeze(result, plan);
    if (this.backboneLrMult !== 1 && result.trainable.length > 0) lines.push(`backbone learning rate × ${this.backboneLrMult}`);
    return lines;
  }

  /**
   * The optimizer of a training phase: the recipe's optimizer wrapped in a PhaseOptimizer that scales backbone
   * updates by `backboneLrMult` and, at a phase change that asks for it, keeps the previous phase's state for
   * the variables that still train.
   */
  createOptimizer(): tf.Optimizer {
    let inner = this.carryOptimizer ? this.spareOptimizer : undefined;
    if (!inner) {
      this.spareOptimizer?.dispose();
      inner = createOptimizer(this.options.optimizer, this.options.learningRate, this.options.weightDecay);
    }
    this.spareOptimizer = undefined;
    this.carryOptimizer = false;
    const scaled = new Set(this.backbone().weights.map((w) => w.name));
    return new PhaseOptimizer(inner, {
      scaled,
      lrMult: this.backboneLrMult,
      handOver: (opt) => {
        if (!this.carryOptimizer) return false;
        this.spareOptimizer = opt;
        return true;
      },
    });
  }

  /** Predicts image files (what `trainer.predict(model, files)` calls). */
  async predict(files: string[], options: PredictOptions = {}): Promise<Prediction[]> {
    return predictFiles(this, files, options);
  }

  /** Replaces the weights with those of an identically built network (best checkpoint, resume). */
  loadWeightsFrom(other: tf.LayersModel): void {
    // Layer by layer: a model's getWeights() lists trainable weights first, so a network with frozen layers
    // (a checkpoint of a `freeze` run) orders them differently from a fresh one; each leaf layer's order is fixed.
    const target = leafLayers(this.network());
    const source = leafLayers(other);
    if (target.length !== source.length) throw new FlashUserError(`cannot load weights: ${source.length} layers with weights, the model has ${target.length}`);
    target.forEach((layer, i) => layer.setWeights(source[i].getWeights()));
  }

  /** The classifier's own part of flash.json: what `load` needs besides the network (backbone is the run's to say). */
  metadata(spec: InputSpec | undefined = this.spec): Omit<ImageRunFields, 'backbone'> {
    if (!spec) throw new Error('ImageClassifier is not built: it has no input spec');
    return {
      task: 'image_classification',
      labels: this.labels,
      ...(this.multiLabel ? { multi_label: true, threshold: this.threshold } : {}),
      input: { ...spec, range: [0, 255], layout: 'NHWC' },
    };
  }

  /** Loads a classifier saved by flash (`runs/X`): its network, labels and input spec. */
  static async load(runDir: string): Promise<ImageClassifier> {
    const meta = await readFlashJson(runDir);
    const recipeModel = meta.recipe?.model ?? {};
    const clf = new ImageClassifier({
      backbone: backbones.has(meta.backbone) ? meta.backbone : undefined,
      labels: meta.labels,
      multiLabel: meta.multi_label ?? false,
      threshold: meta.threshold,
      optimizer: recipeModel.optimizer,
      learningRate: fixedLearningRate(recipeModel.learning_rate ?? null),
      weightDecay: recipeModel.weight_decay,
      head: recipeModel.head ?? undefined,
      dropout: recipeModel.dropout,
    });
    clf.spec = { height: meta.input.height, width: meta.input.width, channels: meta.input.channels };
    clf.setNetwork(await loadLayersModel(runDir));
    return clf;
  }
}

/** Layers with weights, nested models expanded, in order. */
function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => {
    const nested = (l as unknown as tf.LayersModel).layers;
    if (Array.isArray(nested)) return leafLayers(l as unknown as tf.LayersModel);
    return l.weights.length > 0 ? [l] : [];
  });
}

/** Reads and checks an image_classification run folder's flash.json. */
export async function readFlashJson(runDir: string): Promise<FlashJson> {
  const meta = await readRunMeta<FlashJson & { task: string }>(runDir);
  if (meta.task !== 'image_classification') throw new FlashUserError(`'${runDir}' is a ${meta.task} run, not an image_classification run`);
  return meta;
}

/** Same normalisation once broadcast over 3 channels (within float noise: a saved layer stores 1/std and −mean/std). */
function sameNormalization(a: BackboneSpec['normalization'], b: BackboneSpec['normalization']): boolean {
  const at = (v: number[], c: number) => v[Math.min(c, v.length - 1)];
  return [0, 1, 2].every((c) => Math.abs(at(a.mean, c) - at(b.mean, c)) < 1e-5 && Math.abs(at(a.std, c) - at(b.std, c)) < 1e-5);
}

/**
 * Per-channel normalisation as a fixed 1×1 depthwise convolution (weight 1/std, bias −mean/std): plain tfjs
 * layers, so the exported model needs no custom layer. Skipped when the backbone expects plain 0–1 input.
 */
function normalize(x: tf.SymbolicTensor, normalization: BackboneSpec['normalization'], channels: Channels): tf.SymbolicTensor {
  const { mean, std } = normalization;
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
