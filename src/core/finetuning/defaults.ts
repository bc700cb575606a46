/**
 * Defaults for a backbone that is already trained (pretrained or saved) and stays frozen for the whole run: the
 * usual transfer-learning case, where only a new head trains on the backbone's features. Measured on a real
 * checkpoint (nsfwjs's Keras MobileNetV2) in bench/transfer_pretrained.ts; the figures are in
 * bench/README-transfer.md.
 */

/**
 * The learning rate the head of a frozen pretrained or saved backbone trains at when the recipe sets none:
 * the best of 1e-3 / 3e-3 / 1e-2 on the measured checkpoint (a linear head on fixed features takes a higher
 * rate than a whole network; fastai trains its frozen phase faster too).
 */
export const FROZEN_HEAD_LEARNING_RATE = 0.01;

/** The optimizers that rate was measured with (others keep their own default). */
export const FROZEN_HEAD_OPTIMIZERS: readonly string[] = ['adam'];

/** What the run knows when it settles the finetuning defaults. */
export interface FinetuneDefaultsInput {
  /** The backbone's weights are already trained (pretrained or saved). */
  trainedBackbone: boolean;
  /** Every phase of the run's strategy keeps the backbone frozen (`freeze`, or an unfreeze after the last epoch). */
  frozenThroughout: boolean;
  /** The recipe's `finetune.train_bn`: null when nobody set it. */
  trainBn: boolean | null;
  /** The recipe's `model.learning_rate`: null when nobody set it (`auto` is resolved before). */
  learningRate: number | null;
  optimizer: string;
  /** Whether the module can still take another learning rate (a module that can't keeps the optimizer's default). */
  learningRateSettable: boolean;
}

export interface FinetuneDefaults {
  trainBn: boolean;
  learningRate: number | null;
  /** The one line the run prints when a default for a frozen trained backbone applied, saying which and why. */
  line?: string;
}

/**
 * Settles `train_bn` and the learning rate of a run. A frozen pretrained or saved backbone gets train_bn false
 * (BatchNorm in inference mode, the Keras transfer convention; its features then stay fixed, so the feature cache
 * can apply) and, with adam, FROZEN_HEAD_LEARNING_RATE; any other run gets Lightning's train_bn true and the
 * optimizer's own rate. A value the user set always wins.
 */
export function finetuneDefaults(input: FinetuneDefaultsInput): FinetuneDefaults {
  const frozenTrained = input.trainedBackbone && input.frozenThroughout;
  const trainBn = input.trainBn ?? !frozenTrained;
  const lrApplies = frozenTrained && input.learningRate === null && input.learningRateSettable && FROZEN_HEAD_OPTIMIZERS.includes(input.optimizer);
  const learningRate = lrApplies ? FROZEN_HEAD_LEARNING_RATE : input.learningRate;
  const applied: string[] = [];
  if (frozenTrained && input.trainBn === null) {
    applied.push("finetune.train_bn false (BatchNorm in inference mode, as Keras freezes it for transfer: the backbone's features stay fixed, so they can be cached)");
  }
  if (lrApplies) applied.push(`model.learning_rate ${FROZEN_HEAD_LEARNING_RATE} (the best measured rate for a head on frozen features, bench/README-transfer.md)`);
  if (applied.length === 0) return { trainBn, learningRate };
  const others = [input.trainBn === null ? '--finetune.train_bn true (Lightning\'s default)' : '', lrApplies ? '--model.learning_rate <rate>' : ''].filter(Boolean);
  return { trainBn, learningRate, line: `defaults for a frozen pretrained or saved backbone: ${applied.join('; ')}; to choose otherwise set ${others.join(' or ')}` };
}
