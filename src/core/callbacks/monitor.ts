import type { EpochLogs } from '../trainer/types.js';

export type MonitorMode = 'min' | 'max' | 'auto';

/** A quantity to watch across epochs and which direction is better. */
export class Monitor {
  readonly mode: 'min' | 'max';
  constructor(
    readonly key: string,
    mode: MonitorMode = 'auto',
  ) {
    this.mode = mode === 'auto' ? (/loss|error/.test(key) ? 'min' : 'max') : mode;
  }

  /** The monitored value in these logs, or undefined when absent or NaN. */
  value(logs: EpochLogs): number | undefined {
    const v = logs[this.key];
    return typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
  }

  /** True when `current` beats `best` by more than `minDelta` (any value beats no value). */
  improves(current: number, best: number | undefined, minDelta = 0): boolean {
    if (best === undefined) return true;
    return this.mode === 'max' ? current > best + minDelta : current < best - minDelta;
  }

  /** Best value and its epoch index in a history (for resuming). */
  best(history: EpochLogs[]): { value?: number; index: number } {
    let value: number | undefined;
    let index = -1;
    history.forEach((logs, i) => {
      const v = this.value(logs);
      if (v !== undefined && this.improves(v, value)) {
        value = v;
        index = i;
      }
    });
    return { value, index };
  }
}
