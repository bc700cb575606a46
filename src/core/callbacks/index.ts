import { Registry } from '../registry.js';
import type { Callback } from '../trainer/types.js';
import { EarlyStopping } from './early_stopping.js';

export { EarlyStopping, type EarlyStoppingOptions } from './early_stopping.js';
export { ModelCheckpoint, type ModelCheckpointOptions } from './model_checkpoint.js';
export { ProgressCallback, formatLogs } from './progress.js';
export { Monitor, type MonitorMode } from './monitor.js';

/** Callbacks a recipe can switch on by name, built from their options. */
export const callbacks = new Registry<(options: Record<string, unknown>) => Callback>('callback');
callbacks.register('early_stopping', (o) => new EarlyStopping(o), 'stop when the monitored metric stops improving (trainer.early_stopping_patience)');
