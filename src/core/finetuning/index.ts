import { Registry } from '../registry.js';
import type { Phase } from '../trainer/trainer.js';

/** Settings a strategy reads (the recipe's `finetune` section). */
export interface StrategyOptions {
  maxEpochs: number;
  unfreezeEpoch: number;
  milestones: number[];
  numLayers: number;
  trainBn: boolean;
}

/** A finetuning strategy turns its options into phases (each recompiles with its own trainable set). */
export type Strategy = (options: StrategyOptions) => Phase[];

const noFreeze: Strategy = () => [{ startEpoch: 0, description: 'all layers train', apply: () => undefined }];

/** Finetuning strategies selectable with `--strategy`. */
export const strategies = new Registry<Strategy>('strategy');
strategies.register('no_freeze', noFreeze, 'train every layer from the first epoch');
