import type { RunMeta } from '../../src/core/run/run_folder.js';
import type { ImageRecipe } from './schema.js';

export type Channels = 1 | 3;

/** The input a classifier takes: raw 0–255 pixels of this size (resizing is the caller's job). */
export interface InputSpec {
  height: number;
  width: number;
  channels: Channels;
}

/** image_classification's own fields of flash.json: what using the run's model needs. */
export interface ImageRunFields {
  task: 'image_classification';
  /** Class names in output index order. */
  labels: string[];
  /** Multi-label: the outputs are independent per-label sigmoid probabilities (absent in older runs = false). */
  multi_label?: boolean;
  /** Multi-label: the probability from which a label is predicted (predict's and serve's default). */
  threshold?: number;
  /** The model takes raw 0–255 pixels of this size and channel count (RGB when 3, grayscale when 1). */
  input: InputSpec & { range: [0, 255]; layout: 'NHWC' };
  /** The recipe's backbone: a registered name, or the path of the saved backbone it reused. */
  backbone: string;
}

/** `flash.json` of an image_classification run: the core's part and the task's. */
export type FlashJson = Omit<RunMeta, 'task' | 'recipe'> & ImageRunFields & { recipe: ImageRecipe };

export { flashVersion, versions } from '../../src/core/run/run_folder.js';
