import { Registry } from '../registry.js';
import type { Logger } from '../trainer/types.js';
import { CsvLogger } from './csv.js';
import { JsonlLogger } from './jsonl.js';
import { TensorBoardLogger } from './tensorboard.js';

export { CsvLogger } from './csv.js';
export { JsonlLogger, flattenParams, parseJsonl, type JsonlEvent } from './jsonl.js';
export { TensorBoardLogger, StepMetricsCallback, type StepLogger } from './tensorboard.js';

/** Builds a logger writing into a run folder. */
export interface LoggerFactory {
  create(runDir: string): Logger & { restore?(): Promise<void> };
}

/** Experiment loggers selectable with `--trainer.logger` (several at once). */
export const loggers = new Registry<LoggerFactory>('logger');
loggers.register('csv', { create: (dir) => new CsvLogger(dir) }, 'metrics.csv in the run folder, one row per epoch');
loggers.register('jsonl', { create: (dir) => new JsonlLogger(dir) }, 'metrics.jsonl in the run folder, one JSON line per logged value');
loggers.register('tensorboard', { create: (dir) => new TensorBoardLogger(dir) }, 'TensorBoard event files in the run folder (tensorboard --logdir runs)');
