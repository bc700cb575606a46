import { Registry } from '../registry.js';
import type { Logger } from '../trainer/types.js';
import { CsvLogger } from './csv.js';

export { CsvLogger } from './csv.js';

/** Builds a logger writing into a run folder. */
export interface LoggerFactory {
  create(runDir: string): Logger & { restore?(): Promise<void> };
}

/** Experiment loggers selectable with `--trainer.logger` (several at once). */
export const loggers = new Registry<LoggerFactory>('logger');
loggers.register('csv', { create: (dir) => new CsvLogger(dir) }, 'metrics.csv in the run folder, one row per epoch');
