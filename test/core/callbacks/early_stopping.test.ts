import { test } from 'node:test';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { EarlyStopping, Monitor, ProgressCallback, callbacks, formatLogs } from '../../../src/core/callbacks/index.js';
import type { EpochLogs, FitContext } from '../../../src/core/trainer/types.js';

/** A FitContext stand-in: enough for callbacks that read epoch/history and call requestStop. */
function fakeContext(history: EpochLogs[] = []): FitContext & { stops: string[]; setEpoch(e: number): void } {
  let epoch = 0;
  const stops: string[] = [];
  return {
    get epoch() {
      return epoch;
    },
    setEpoch(e: number) {
      epoch = e;
    },
    maxEpochs: 100,
    batchesPerEpoch: 3,
    module: undefined as never,
    optimizer: undefined as never,
    history,
    requestStop: (reason: string) => {
      stops.push(reason);
    },
    stops,
  };
}

/** Feeds a metric sequence to an EarlyStopping; returns the 1-based epoch at which it first asked to stop. */
function stopEpoch(es: EarlyStopping, key: string, values: number[], history: EpochLogs[] = []): number | undefined {
  const ctx = fakeContext(history);
  es.onFitStart(ctx);
  for (let i = 0; i < values.length; i++) {
    ctx.setEpoch(history.length + i);
    const logs = { epoch: history.length + i + 1, [key]: values[i] };
    es.onEpochEnd(ctx, logs);
    if (ctx.stops.length > 0) return history.length + i + 1;
  }
  return undefined;
}

test('Monitor: auto mode is min for loss/error keys and max otherwise; explicit modes win', () => {
  assert.equal(new Monitor('val_loss').mode, 'min');
  assert.equal(new Monitor('train_error_rate').mode, 'min');
  assert.equal(new Monitor('val_accuracy').mode, 'max');
  assert.equal(new Monitor('val_auroc_macro', 'auto').mode, 'max');
  assert.equal(new Monitor('val_loss', 'max').mode, 'max');
  assert.equal(new Monitor('val_accuracy', 'min').mode, 'min');
});

test('Monitor: value ignores absent and NaN entries; improves honours mode and minDelta', () => {
  const m = new Monitor('val_accuracy');
  assert.equal(m.value({ val_accuracy: 0.5 }), 0.5);
  assert.equal(m.value({ val_loss: 0.5 }), undefined);
  assert.equal(m.value({ val_accuracy: NaN }), undefined);
  assert.equal(m.improves(0.1, undefined), true);
  assert.equal(m.improves(0.6, 0.5), true);
  assert.equal(m.improves(0.5, 0.5), false, 'equal is not an improvement');
  assert.equal(m.improves(0.55, 0.5, 0.1), false, 'within minDelta');
  assert.equal(m.improves(0.65, 0.5, 0.1), true);
  const loss = new Monitor('val_loss');
  assert.equal(loss.improves(0.4, 0.5), true);
  assert.equal(loss.improves(0.6, 0.5), false);
  assert.equal(loss.improves(0.45, 0.5, 0.1), false);
});

test('Monitor.best finds the best value and its index (first one on ties, NaN skipped)', () => {
  const history = [{ val_loss: 0.9 }, { val_loss: NaN }, { val_loss: 0.3 }, { val_loss: 0.3 }, { val_loss: 0.5 }];
  assert.deepEqual(new Monitor('val_loss').best(history), { value: 0.3, index: 2 });
  assert.deepEqual(new Monitor('val_loss', 'max').best(history), { value: 0.9, index: 0 });
  assert.deepEqual(new Monitor('val_accuracy').best(history), { value: undefined, index: -1 });
  assert.deepEqual(new Monitor('val_loss').best([]), { value: undefined, index: -1 });
});

test('EarlyStopping (max): stops after `patience` epochs without improvement', () => {
  // Best at epoch 2 (0.8); epochs 3, 4, 5 do not beat it → stop after epoch 5 with patience 3.
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 3 }), 'val_accuracy', [0.5, 0.8, 0.7, 0.8, 0.79, 0.9]), 5);
  // Default patience is 3 and default monitor val_loss (Keras'; ModelCheckpoint's too), mode min.
  assert.equal(stopEpoch(new EarlyStopping(), 'val_loss', [0.5, 0.6, 0.6, 0.6]), 4);
  assert.equal(stopEpoch(new EarlyStopping(), 'val_accuracy', [0.5, 0.4, 0.4, 0.4]), undefined);
  // Improvements reset the count.
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 2 }), 'val_accuracy', [0.1, 0.2, 0.2, 0.3, 0.4, 0.4, 0.4]), 7);
  // Never stops while it keeps improving.
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 1 }), 'val_accuracy', [0.1, 0.2, 0.3, 0.4]), undefined);
});

test('EarlyStopping (min, auto for loss keys) and minDelta', () => {
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_loss', patience: 2 }), 'val_loss', [1, 0.8, 0.9, 0.85, 0.1]), 4);
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_loss', mode: 'max', patience: 2 }), 'val_loss', [1, 0.8, 0.9, 0.85]), 3);
  // Gains of 0.005 are below minDelta 0.01: no improvement after epoch 1.
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 2, minDelta: 0.01 }), 'val_accuracy', [0.5, 0.505, 0.51, 0.9]), 3);
});

// BUG (src/core/callbacks/early_stopping.ts, onEpochEnd): with patience 0 (allowed: the schema's
// early_stopping_patience has min 0) `wait >= patience` holds after every epoch, improving or not, so the run
// stops after epoch 1. Lightning stops at the first epoch that does not improve. Fix: request the stop only
// when this epoch did not improve, e.g. `if (this.wait > 0 && this.wait >= this.patience)`.
test('EarlyStopping with patience 0 stops at the first epoch that does not improve', () => {
  assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 0 }), 'val_accuracy', [0.5, 0.6, 0.6]), 3);
});

test('EarlyStopping ignores epochs without the monitored key', () => {
  const ctx = fakeContext();
  const es = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
  es.onFitStart(ctx);
  for (let e = 0; e < 5; e++) es.onEpochEnd(ctx, { epoch: e + 1, train_loss: 1 });
  assert.deepEqual(ctx.stops, []);
});

test('EarlyStopping resumed from history stops where an uninterrupted run would', () => {
  const values = [0.5, 0.8, 0.7, 0.75, 0.6, 0.9];
  const uninterrupted = stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 3 }), 'val_accuracy', values);
  assert.equal(uninterrupted, 5);
  for (let cut = 1; cut < 5; cut++) {
    const history = values.slice(0, cut).map((v, i) => ({ epoch: i + 1, val_accuracy: v }));
    // A fresh instance (as after a restart) and a reused one (stale state from another fit) both rebuild from history.
    assert.equal(stopEpoch(new EarlyStopping({ monitor: 'val_accuracy', patience: 3 }), 'val_accuracy', values.slice(cut), history), 5, `cut at ${cut}`);
    const reused = new EarlyStopping({ monitor: 'val_accuracy', patience: 3 });
    stopEpoch(reused, 'val_accuracy', [0.99, 0.1, 0.1, 0.1]);
    assert.equal(stopEpoch(reused, 'val_accuracy', values.slice(cut), history), 5, `reused, cut at ${cut}`);
  }
});

test('early_stopping is registered as a callback factory', () => {
  const es = callbacks.get('early_stopping')({ patience: 1 });
  assert.ok(es instanceof EarlyStopping);
  assert.throws(() => callbacks.get('early_stoping'), /did you mean 'early_stopping'/);
});

test('formatLogs leaves out epoch, prints integers as is and others to 4 decimals', () => {
  assert.equal(formatLogs({ epoch: 3, train_loss: 0.41234, val_accuracy: 1, val_f1_macro: 0.5 }), 'train_loss 0.4123 · val_accuracy 1 · val_f1_macro 0.5000');
  assert.equal(formatLogs({ epoch: 1 }), '');
});

test('ProgressCallback without a bar writes one line per epoch', () => {
  const lines: string[] = [];
  const progress = new ProgressCallback({ bar: false, write: (l) => lines.push(l) });
  const ctx = fakeContext();
  for (let e = 0; e < 2; e++) {
    ctx.setEpoch(e);
    progress.onEpochStart(ctx);
    for (let b = 0; b < 3; b++) progress.onBatchEnd(ctx, b, { loss: 1, size: 4 });
    progress.onEpochEnd(ctx, { epoch: e + 1, train_loss: 0.5, val_accuracy: 0.75 });
  }
  progress.onFitEnd();
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^epoch 1\/100 \(\d+\.\d\d?s\) train_loss 0\.5000 · val_accuracy 0\.7500$/);
  assert.match(lines[1], /^epoch 2\/100 /);
});

test('ProgressCallback with a bar draws to its stream and still logs each epoch', () => {
  let drawn = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      drawn += String(chunk);
      done();
    },
  });
  // cli-progress renders only on a TTY stream.
  Object.assign(stream, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  const lines: string[] = [];
  const progress = new ProgressCallback({ bar: true, write: (l) => lines.push(l), stream });
  const ctx = fakeContext();
  progress.onEpochStart(ctx);
  progress.onBatchEnd(ctx, 0, { loss: 2, size: 2 });
  progress.onBatchEnd(ctx, 1, { loss: 1, size: 2 });
  progress.onEpochEnd(ctx, { epoch: 1, train_loss: 1.5 });
  progress.onFitEnd();
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^epoch 1\/100 .*train_loss 1\.5000/);
  assert.match(drawn, /epoch 1\/100 \[/, 'the bar was drawn');
});
