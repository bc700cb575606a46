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
export interface BackboneSpec {
  /** One line for `flash list backbones`. */
  description: string;
  /** Square input size used when the recipe does not set data.image_size. */
  defaultImageSize: number;
  /** Normalisation applied inside the model before the backbone. Unit scaling (x/255) is mean 0, std 1. */
  normalization: Normalization;
  /** Builds a fresh, randomly initialised feature extractor. */
  build(options: BackboneBuildOptions): tf.LayersModel;
}
