import type { Callback, EpochLogs, FitContext } from '../trainer/types.js';
import { Monitor, type MonitorMode } from './monitor.js';

export interface EarlyStoppingOptions {
  /** Metric to watch; default `val_loss` (as Keras and ModelCheckpoint; a task's recipe names its own monitor). */
  monitor?: string;
  mode?: MonitorMode;
  /** Epochs without improvement before stopping; default 3. */
  patience?: number;
  minDelta?: number;
}

/** Stops the fit when the monitored metric has not improved for `patience` epochs (Keras/Lightning semantics). */
export class EarlyStopping implements Callback {
  private readonly monitor: Monitor;
  private readonly patience: number;
  private readonly minDelta: number;
  private best?: number;
  private wait = 0;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = new Monitor(options.monitor ?? 'val_loss', options.mode);
    this.patience = options.patience ?? 3;
    this.minDelta = options.minDelta ?? 0;
  }

  /** Rebuilds best/wait from the history so a resumed run stops where an uninterrupted one would. */
  onFitStart(ctx: FitContext): void {
    this.best = undefined;
    this.wait = 0;
    for (const logs of ctx.history) this.update(logs);
  }

  onEpochEnd(ctx: FitContext, logs: EpochLogs): void {
    this.update(logs);
    // An improving epoch never stops the run, even with patience 0 (Lightning's rule).
    if (this.wait > 0 && this.wait >= this.patience) {
      ctx.requestStop(`early stopping: ${this.monitor.key} did not improve for ${this.patience} epochs`);
    }
  }

  private update(logs: EpochLogs): void {
    const v = this.monitor.value(logs);
    if (v === undefined) return;
    if (this.monitor.improves(v, this.best, this.minDelta)) {
      this.best = v;
      this.wait = 0;
    } else {
      this.wait++;
    }
  }
}
