import type * as tf from '@tensorflow/tfjs';
import { Monitor } from '../callbacks/monitor.js';
import { Registry } from '../registry.js';
import type { EpochLogs } from '../trainer/types.js';

/**
 * Learning-rate schedules (Lightning's lr_scheduler, fastai's fit_one_cycle), for any task. A schedule gives the
 * rate of each optimizer step from the step's place in the run, so a resumed run picks up exactly where it left
 * off; `plateau`, which reacts to the monitored metric, rebuilds its state from the run's history.
 */

/** What a schedule is built from. */
export interface ScheduleOptions {
  /** The optimizer's learning rate: the peak of onecycle, the start of cosine and step. */
  baseLr: number;
  maxEpochs: number;
  stepsPerEpoch: number;
  /** Epochs of linear warmup from 0 (cosine, constant, step); fractions allowed. */
  warmupEpochs: number;
  /** The metric plateau watches, and whether it should go up or down. */
  monitor: string;
  mode: 'min' | 'max';
}

export interface LrSchedule {
  /** The rate of global step `step` (0-based, counted over the whole run). */
  at(step: number): number;
  /** Called with each epoch's logs (plateau lowers its rate here). */
  onEpochEnd?(logs: EpochLogs): void;
}

export type ScheduleFactory = (o: ScheduleOptions) => LrSchedule;

function warmup(o: ScheduleOptions, step: number, rate: number): number {
  const w = o.warmupEpochs * o.stepsPerEpoch;
  return w > 0 && step < w ? (rate * (step + 1)) / w : rate;
}

const constant: ScheduleFactory = (o) => ({ at: (step) => warmup(o, step, o.baseLr) });

const cosine: ScheduleFactory = (o) => {
  const total = o.maxEpochs * o.stepsPerEpoch;
  const w = o.warmupEpochs * o.stepsPerEpoch;
  return {
    at: (step) => {
      if (step < w) return warmup(o, step, o.baseLr);
      const t = Math.min(1, (step - w) / Math.max(1, total - w));
      return o.baseLr * 0.5 * (1 + Math.cos(Math.PI * t));
    },
  };
};

/** fastai's fit_one_cycle: cosine from lr/25 up to lr over the first 25% of the steps, then down to lr/25/1e5. */
const onecycle: ScheduleFactory = (o) => {
  const total = Math.max(1, o.maxEpochs * o.stepsPerEpoch);
  const up = Math.max(1, Math.round(total * 0.25));
  const start = o.baseLr / 25;
  const end = start / 1e5;
  const cos = (from: number, to: number, t: number) => to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, t)))) / 2;
  return { at: (step) => (step < up ? cos(start, o.baseLr, step / up) : cos(o.baseLr, end, (step - up) / Math.max(1, total - up))) };
};

/** ×0.1 at half and at three quarters of the epochs (the classic ResNet schedule). */
const step: ScheduleFactory = (o) => ({
  at: (s) => {
    const epoch = s / o.stepsPerEpoch;
    const factor = epoch >= o.maxEpochs * 0.75 ? 0.01 : epoch >= o.maxEpochs * 0.5 ? 0.1 : 1;
    return warmup(o, s, o.baseLr * factor);
  },
});

/** ReduceLROnPlateau: ×0.1 when the monitored metric has not improved for 2 epochs. */
const plateau: ScheduleFactory = (o) => {
  const monitor = new Monitor(o.monitor, o.mode);
  let best: number | undefined;
  let wait = 0;
  let factor = 1;
  return {
    at: (s) => warmup(o, s, o.baseLr * factor),
    onEpochEnd(logs) {
      const v = monitor.value(logs);
      if (v === undefined) return;
      if (monitor.improves(v, best)) {
        best = v;
        wait = 0;
      } else if (++wait >= 2) {
        factor *= 0.1;
        wait = 0;
      }
    },
  };
};

/** Schedules selectable with `--model.lr_scheduler`. */
export const lrSchedulers = new Registry<ScheduleFactory>('lr scheduler');
lrSchedulers.register('constant', constant, "the optimizer's learning rate throughout (after --model.warmup_epochs of linear warmup, if set)");
lrSchedulers.register('cosine', cosine, 'cosine decay from the learning rate to 0 over the run, after --model.warmup_epochs of linear warmup');
lrSchedulers.register('onecycle', onecycle, "fastai's one-cycle: up from lr/25 to the learning rate over the first 25% of the steps, then down to lr/25/1e5 (ignores warmup)");
lrSchedulers.register('step', step, '×0.1 at half and at three quarters of the epochs');
lrSchedulers.register('plateau', plateau, 'ReduceLROnPlateau: ×0.1 when the monitored metric has not improved for 2 epochs');

/** The learning rate an optimizer steps with now (flash's PhaseOptimizer wraps the real one). */
export function learningRateOf(optimizer: tf.Optimizer): number {
  const inner = (optimizer as { inner?: tf.Optimizer }).inner ?? optimizer;
  return (inner as unknown as { learningRate: number }).learningRate;
}

/**
 * Sets an optimizer's learning rate for its next step. tfjs's SGD and momentum keep the rate as a scalar tensor
 * (`setLearningRate`); Adam, AdamW and RMSProp read the `learningRate` field at each step.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const inner = (optimizer as { inner?: tf.Optimizer }).inner ?? optimizer;
  const withSetter = inner as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}
