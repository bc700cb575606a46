import cliProgress from 'cli-progress';
import type { Callback, EpochLogs, FitContext } from '../trainer/types.js';

export interface ProgressOptions {
  /** Draw a live bar (TTY); otherwise print one line per epoch. */
  bar: boolean;
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  /** Stream the bar draws on; default process.stdout. */
  stream?: NodeJS.WritableStream;
}

/** Formats an epoch's logs as "train_loss 0.4123 · val_accuracy 0.9100 …" (epoch itself left out). */
export function formatLogs(logs: EpochLogs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'epoch')
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' · ');
}

/** Shows training progress: a bar per epoch on a terminal, or plain one-line-per-epoch logs. */
export class ProgressCallback implements Callback {
  private bar?: cliProgress.SingleBar;
  private started = 0;
  private lossSum = 0;
  private seen = 0;
  private readonly write: (line: string) => void;

  constructor(private readonly options: ProgressOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  onEpochStart(ctx: FitContext): void {
    this.started = performance.now();
    this.lossSum = 0;
    this.seen = 0;
    if (!this.options.bar) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${ctx.epoch + 1}/${ctx.maxEpochs} [{bar}] {value}/{total} batches · loss {loss} · {duration_formatted} (eta {eta_formatted})`,
        stream: this.options.stream ?? process.stdout,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(ctx.batchesPerEpoch, 0, { loss: '-' });
  }

  onBatchEnd(_ctx: FitContext, batch: number, logs: { loss: number; size: number }): void {
    this.lossSum += logs.loss * logs.size;
    this.seen += logs.size;
    this.bar?.update(batch + 1, { loss: (this.lossSum / this.seen).toFixed(4) });
  }

  onEpochEnd(ctx: FitContext, logs: EpochLogs): void {
    this.bar?.stop();
    this.bar = undefined;
    // Two decimals under 10 s, so short epochs (a head training from cached features) are still comparable.
    const elapsed = (performance.now() - this.started) / 1000;
    const seconds = elapsed.toFixed(elapsed < 10 ? 2 : 1);
    this.write(`epoch ${ctx.epoch + 1}/${ctx.maxEpochs} (${seconds}s) ${formatLogs(logs)}`);
  }

  onFitEnd(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
