import type * as tf from '@tensorflow/tfjs';

/** Per-channel normalisation the backbone's weights expect, on pixels already scaled to 0–1. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** What a backbone builder is given. */
export interface BackboneBuildOptions {
  /** [height, width, channels] of the (already normalised, float32) input. */
  inputShape: [number, number, number];
  /** Name of the returned sub-model; the classifier nests it under this name. */
  name?: string;
}

/**
 * A registered architecture. The builder returns a feature extractor as its own tf.LayersModel
 * (input: normalised image batch, output: [batch, numFeatures]); the classifier nests it as one layer so
 * freezing, feature caching and reuse as a backbone can address it as a whole.
 */
/** Layers unfrozen together by the finetuning strategies (a block, a stage), in input-to-output order. */
export interface LayerGroup {
  name: string;
  layers: tf.layers.Layer[];
}

/** Where a backbone's pretrained weights come from (`--model.pretrained true`). */
export interface WeightSource {
  /** A tfjs layers-format model.json URL; its weights are copied into the backbone by layer name. */
  url: string;
  /** sha256 of model.json (and `shards` of each weights file) when known; downloads are verified against it. */
  sha256?: string;
  shards?: Record<string, string>;
  /** The normalisation these weights expect, when it differs from the spec's. */
  normalization?: Normalization;
  /** One line for `flash list backbones` (what the weights are). */
  note?: string;
  /**
   * Set for weights flash has never loaded: why they are unverified. `flash list backbones` and every error
   * while fetching or loading them say so, with how to go on.
   */
  unverified?: string;
}

export interface BackboneSpec {
  /** One line for `flash list backbones`. */
  description: string;
  /** Square input size used when the recipe does not set data.image_size. */
  defaultImageSize: number;
  /** Normalisation applied inside the model before the backbone. Unit scaling (x/255) is mean 0, std 1. */
  normalization: Normalization;
  /** Builds a fresh, randomly initialised feature extractor. */
  build(options: BackboneBuildOptions): tf.LayersModel;
  /**
   * The layer groups the unfreezing strategies count (`--finetune.num_layers` of them unfreeze at the first
   * milestone, from the output end). Default: one group per layer that has weights.
   */
  layerGroups?(model: tf.LayersModel): LayerGroup[];
  /** Registered pretrained weights; absent = none published in tfjs layers format. */
  weights?: WeightSource[];
  /**
   * Set for a backbone whose weights are already trained (a saved flash run, a user model, loaded pretrained
   * weights): the default finetuning strategy is then `freeze`.
   */
  trained?: boolean;
  /** A fixed [height, width, channels] input (a saved or user-built backbone); the data is resized to it. */
  fixedInput?: [number, number, number];
  /** The head used when the recipe leaves `model.head` unset; absent = `linear`. */
  defaultHead?: DefaultHead;
}

/** A backbone's preferred head: a registered head name and the options it is built with. */
export interface DefaultHead {
  name: string;
  /** Units of the hidden layer (mlp). */
  hiddenUnits?: number;
  /** Dropout after the hidden layer (mlp); 0 = none. */
  hiddenDropout?: number;
}
