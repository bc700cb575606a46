import { join } from 'node:path';
import type { Callback, EpochLogs, FitContext } from '../trainer/types.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import { saveLayersModel } from '../io/layers_model.js';
import { Monitor, type MonitorMode } from './monitor.js';

export interface ModelCheckpointOptions {
  /** Run folder: the best model goes in it, the last checkpoint in `<dir>/last`. */
  dir: string;
  monitor?: string;
  mode?: MonitorMode;
  /** Called after the best model is written (the task writes its flash.json here). */
  onBest?: (logs: EpochLogs, epoch: number) => Promise<void>;
  /** Save the last epoch too (with optimizer state) so `--resume` can continue; default true. */
  saveLast?: boolean;
}

/**
 * Keeps the best model by a monitored metric in the run folder (model.json + weights) and the last epoch's
 * model, optimizer state and history in `last/`. Every write is atomic.
 */
export class ModelCheckpoint implements Callback {
  readonly monitor: Monitor;
  private best?: number;
  /** 1-based epoch of the best model written, if any. */
  bestEpoch?: number;

  constructor(private readonly options: ModelCheckpointOptions) {
    this.monitor = new Monitor(options.monitor ?? 'val_loss', options.mode);
  }

  /** The best value so far, from the history when resuming. */
  onFitStart(ctx: FitContext): void {
    const { value, index } = this.monitor.best(ctx.history);
    this.best = value;
    this.bestEpoch = index >= 0 ? index + 1 : undefined;
  }

  async onEpochEnd(ctx: FitContext, logs: EpochLogs): Promise<void> {
    const v = this.monitor.value(logs);
    // With nothing to monitor (no val split, say) the latest model is the best we know.
    if (v === undefined || this.monitor.improves(v, this.best)) {
      if (v !== undefined) this.best = v;
      this.bestEpoch = ctx.epoch + 1;
      await saveLayersModel(ctx.module.network(), this.options.dir);
      await this.options.onBest?.(logs, ctx.epoch + 1);
    }
    if (this.options.saveLast ?? true) {
      await saveCheckpoint(join(this.options.dir, 'last'), {
        network: ctx.module.network(),
        optimizer: ctx.optimizer,
        state: { epoch: ctx.epoch + 1, history: ctx.history, bestEpoch: this.bestEpoch },
      });
    }
  }
}
