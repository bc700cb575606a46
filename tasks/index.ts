import { Registry } from '../src/core/registry.js';
import { imageClassification } from './image_classification/index.js';
import { tabularClassification } from './tabular_classification/index.js';
import { tabularRegression } from './tabular_regression/index.js';
import { textClassification } from './text_classification/index.js';
import type { TaskPlugin } from './types.js';

export type { TaskPlugin } from './types.js';

/** Every task flash offers: an explicit list, no discovery magic. One `register` line per task. */
export const tasks = new Registry<TaskPlugin>('task');
tasks.register(imageClassification.name, imageClassification, imageClassification.description);
tasks.register(tabularClassification.name, tabularClassification, tabularClassification.description);
tasks.register(tabularRegression.name, tabularRegression, tabularRegression.description);
tasks.register(textClassification.name, textClassification, textClassification.description);
