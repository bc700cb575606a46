import { cacheDir } from '../../src/core/data/index.js';
import type { TaskIO } from '../../src/core/task_io.js';
import type { DataOptions } from './data/index.js';
import { multiLabelMode } from '../classification/multi_label.js';
import type { ImageRecipe } from './schema.js';

/**
 * The data options a recipe means: the one mapping from recipe keys to the image pipeline. Training, the dataset
 * check and the report all read the data through it; each lays its own `over` on top (training: the backbone's
 * input size; the report: the saved model's input, no augmentation).
 */
export function dataOptions(recipe: ImageRecipe, io: TaskIO, over: Partial<DataOptions> = {}): DataOptions {
  const d = recipe.data;
  const options: DataOptions = {
    batchSize: d.batch_size,
    channels: d.channels,
    valSplit: d.val_split,
    seed: recipe.trainer.seed,
    strict: recipe.trainer.strict,
    augment: d.augment,
    augmentations: d.augmentations,
    sampler: d.sampler,
    cacheDir: cacheDir(io.env),
    multiLabel: multiLabelMode(recipe),
    onWarning: (m) => io.err(`warning: ${m}\n`),
    onInfo: (m) => io.err(`${m}\n`),
  };
  if (d.image_size !== null) options.imageSize = d.image_size;
  return { ...options, ...over };
}
