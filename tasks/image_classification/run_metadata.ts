import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Recipe } from '../../src/core/config/index.js';
import { writeJsonAtomic } from '../../src/core/io/atomic.js';
import type { InputSpec } from './model.js';

/** `flash.json`: everything needed to use a run folder's model, and how it was made. */
export interface FlashJson {
  task: 'image_classification';
  /** Class names in output index order. */
  labels: string[];
  /** Multi-label: the outputs are independent per-label sigmoid probabilities (absent in older runs = false). */
  multi_label?: boolean;
  /** Multi-label: the probability from which a label is predicted (predict's and serve's default). */
  threshold?: number;
  /** The model takes raw 0–255 pixels of this size and channel count (RGB when 3, grayscale when 1). */
  input: InputSpec & { range: [0, 255]; layout: 'NHWC' };
  backbone: string;
  /** The fully resolved recipe the run used. */
  recipe: Recipe;
  versions: { flash: string; tfjs: string; node: string };
  backend: string;
  /** Epoch (1-based) of the saved model, and the metrics of that epoch plus test metrics when there was a test split. */
  best_epoch?: number;
  metrics: Record<string, number>;
  /** Sample counts per split. */
  data: Record<string, number>;
  created: string;
  status: 'running' | 'completed' | 'stopped' | 'interrupted';
}

const require = createRequire(import.meta.url);

/** flash's own version, read from its package.json. */
export function flashVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'flash' && pkg.version) return pkg.version;
    } catch {
      // try the next location (source tree vs dist/)
    }
  }
  return '0.0.0';
}

export function versions(): FlashJson['versions'] {
  return { flash: flashVersion(), tfjs: tf.version.tfjs, node: process.versions.node };
}

export async function writeFlashJson(runDir: string, meta: FlashJson): Promise<void> {
  await writeJsonAtomic(join(runDir, 'flash.json'), meta);
}
