import type * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../errors.js';
import { Registry } from '../registry.js';
import type { Phase, TaskModule } from '../trainer/types.js';
import { isBatchNorm, patchBatchNorms } from './batchnorm.js';

export { PhaseOptimizer, remapOptimizerState, adoptOptimizerState, type PhaseOptimizerOptions } from './optimizer.js';
export { frozenBatchNormRunsInInference, isBatchNorm, patchBatchNorms } from './batchnorm.js';
export { finetuneDefaults, FROZEN_HEAD_LEARNING_RATE, FROZEN_HEAD_OPTIMIZERS, type FinetuneDefaults, type FinetuneDefaultsInput } from './defaults.js';

/** Backbone layers unfrozen together (a block, a stage), input to output order. Same shape as backbones' LayerGroup. */
export interface LayerGroup {
  name: string;
  layers: tf.layers.Layer[];
}

/** Which backbone layers train during a phase. The head always trains. */
export interface FreezePlan {
  /** Layer groups that train, counted from the output end; 'all' = the whole backbone, 0 = frozen backbone. */
  unfrozen: number | 'all';
  /** Whether BatchNormalization layers in frozen groups train (in training mode) or stay frozen (inference mode). */
  trainBn: boolean;
}

/** What a module offers so strategies can freeze its backbone (a task's module with a backbone implements it). */
export interface Finetunable {
  /** Sets the trainable flags for a phase; returns lines describing what trains. */
  setFinetunePhase(plan: FreezePlan, options: { carryOptimizerState: boolean }): string[];
}

/** Settings a strategy reads (the recipe's `finetune` section). */
export interface StrategyOptions {
  maxEpochs: number;
  unfreezeEpoch: number;
  milestones: number[];
  numLayers: number;
  trainBn: boolean;
  /** Where each phase reports which layers train; default nowhere. */
  log?: (line: string) => void;
}

/** A phase with the freeze plan it applies (inspectable by tests and tools). */
export interface FinetunePhase extends Phase {
  plan: FreezePlan;
}

/** A finetuning strategy turns its options into phases (each recompiles with its own trainable set). */
export type Strategy = (options: StrategyOptions) => FinetunePhase[];

function isFinetunable(module: TaskModule): module is TaskModule & Finetunable {
  return typeof (module as Partial<Finetunable>).setFinetunePhase === 'function';
}

function describe(plan: FreezePlan): string {
  if (plan.unfrozen === 'all') return 'all layers train';
  const bn = plan.trainBn ? '' : ', BatchNorm in inference mode';
  if (plan.unfrozen === 0) return `backbone frozen${bn}, head trains`;
  return `last ${plan.unfrozen} backbone layer group(s) and the head train, the rest frozen${bn}`;
}

/** Builds the phases of a schedule: `[startEpoch, plan]` pairs, the first at epoch 0. */
export function phasesFor(schedule: [number, FreezePlan][], options: Pick<StrategyOptions, 'log'>): FinetunePhase[] {
  return schedule.map(([startEpoch, plan], index) => ({
    startEpoch,
    plan,
    description: describe(plan),
    apply(module: TaskModule): void {
      if (!isFinetunable(module)) {
        if (plan.unfrozen === 'all') return;
        throw new FlashUserError('this model has no backbone to freeze; use --finetune.strategy no_freeze');
      }
      const lines = module.setFinetunePhase(plan, { carryOptimizerState: index > 0 });
      for (const line of lines) options.log?.(line);
    },
  }));
}

const noFreeze: Strategy = (o) => phasesFor([[0, { unfrozen: 'all', trainBn: o.trainBn }]], o);

const freeze: Strategy = (o) => phasesFor([[0, { unfrozen: 0, trainBn: o.trainBn }]], o);

const freezeUnfreeze: Strategy = (o) => {
  if (o.unfreezeEpoch <= 0) return noFreeze(o);
  const schedule: [number, FreezePlan][] = [[0, { unfrozen: 0, trainBn: o.trainBn }]];
  if (o.unfreezeEpoch < o.maxEpochs) schedule.push([o.unfreezeEpoch, { unfrozen: 'all', trainBn: o.trainBn }]);
  return phasesFor(schedule, o);
};

const unfreezeMilestones: Strategy = (o) => {
  if (o.milestones.length !== 2 || !o.milestones.every((m) => Number.isInteger(m))) {
    throw new FlashUserError(`--finetune.milestones: unfreeze_milestones takes two epochs, e.g. 2,4 (got ${o.milestones.join(',') || 'none'})`);
  }
  const [e1, e2] = o.milestones;
  if (e2 < e1) throw new FlashUserError(`--finetune.milestones: the second milestone (${e2}) comes before the first (${e1})`);
  const schedule: [number, FreezePlan][] = [];
  if (e1 > 0) schedule.push([0, { unfrozen: 0, trainBn: o.trainBn }]);
  if (e2 > e1) schedule.push([e1, { unfrozen: o.numLayers, trainBn: o.trainBn }]);
  schedule.push([e2, { unfrozen: 'all', trainBn: o.trainBn }]);
  return phasesFor(schedule.filter(([start], i) => i === 0 || start < o.maxEpochs).map(([s, p], i) => [i === 0 ? 0 : s, p]), o);
};

/** Finetuning strategies selectable with `--strategy`. */
export const strategies = new Registry<Strategy>('strategy');
strategies.register('no_freeze', noFreeze, 'train every layer from the first epoch');
strategies.register('freeze', freeze, 'backbone frozen for the whole run, only the head trains (default for pretrained or saved backbones)');
strategies.register('freeze_unfreeze', freezeUnfreeze, 'backbone frozen until --finetune.unfreeze_epoch (0-based), then everything trains');
strategies.register(
  'unfreeze_milestones',
  unfreezeMilestones,
  'backbone frozen; the last --finetune.num_layers layer groups unfreeze at the first of --finetune.milestones, the rest at the second',
);

/** Flash Zero's default: `freeze` for a backbone that is already trained (pretrained or saved), else `no_freeze`. */
export function defaultStrategy(trainedBackbone: boolean): string {
  return trainedBackbone ? 'freeze' : 'no_freeze';
}

/** Per-layer result of applying a plan. */
export interface FreezeResult {
  trainable: LayerGroup[];
  frozen: LayerGroup[];
  /** BatchNormalization layers in frozen groups that still train (train_bn). */
  bnTraining: number;
}

/**
 * Sets `trainable` on every layer with weights of the backbone's groups for `plan`; BatchNormalization layers
 * in frozen groups train only with `trainBn` and otherwise run in inference mode. Layers with weights that no
 * group lists train only when the whole backbone does.
 */
export function applyFreezePlan(backbone: tf.LayersModel, groups: LayerGroup[], plan: FreezePlan): FreezeResult {
  patchBatchNorms(backbone);
  backbone.trainable = true;
  const grouped = new Set<tf.layers.Layer>();
  const result: FreezeResult = { trainable: [], frozen: [], bnTraining: 0 };
  const n = groups.length;
  groups.forEach((group, i) => {
    const unfrozen = plan.unfrozen === 'all' || i >= n - plan.unfrozen;
    (unfrozen ? result.trainable : result.frozen).push(group);
    for (const layer of group.layers) {
      grouped.add(layer);
      const bnTrains = !unfrozen && plan.trainBn && isBatchNorm(layer);
      if (bnTrains) result.bnTraining++;
      layer.trainable = unfrozen || bnTrains;
    }
  });
  for (const layer of backbone.layers) {
    if (grouped.has(layer) || layer.weights.length === 0) continue;
    layer.trainable = plan.unfrozen === 'all' || (plan.trainBn && isBatchNorm(layer));
  }
  return result;
}

/** "a, b, c … y, z" for long lists. */
export function abbreviate(names: string[], max = 6): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max / 2).join(', ')} … ${names.slice(-max / 2).join(', ')}`;
}

/** The lines a run prints for a phase: which backbone groups train and which are frozen. */
export function describeFreeze(result: FreezeResult, plan: FreezePlan): string[] {
  const total = result.trainable.length + result.frozen.length;
  const lines = [`trainable: head + ${result.trainable.length}/${total} backbone layer groups${result.trainable.length ? ` (${abbreviate(result.trainable.map((g) => g.name))})` : ''}`];
  if (result.frozen.length) {
    const bn = plan.trainBn ? `; their ${result.bnTraining} BatchNorm layer(s) train (train_bn)` : '; BatchNorm layers in them run in inference mode';
    lines.push(`frozen: ${result.frozen.length}/${total} backbone layer groups (${abbreviate(result.frozen.map((g) => g.name))})${result.bnTraining || !plan.trainBn ? bn : ''}`);
  }
  return lines;
}
