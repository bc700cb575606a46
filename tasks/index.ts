import { Registry } from '../src/core/registry.js';
import { imageClassification } from './image_classification/task.js';
import type { TaskEntry } from './types.js';

export type { TaskEntry } from './types.js';

/** Every task flash offers: an explicit list, no discovery magic. One `register` line per task. */
export const tasks = new Registry<TaskEntry>('task');
tasks.register('image_classification', imageClassification, imageClassification.description);
