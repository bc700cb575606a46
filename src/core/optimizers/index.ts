import type * as tf from '@tensorflow/tfjs';
import { Registry } from '../registry.js';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';
import type { OptimizerSpec } from './types.js';

export type { OptimizerSpec, OptimizerOptions } from './types.js';

/** Optimizers selectable by name (`--model.optimizer`). */
export const optimizers = new Registry<OptimizerSpec>('optimizer');
optimizers.register('adam', adam, adam.description);
optimizers.register('adamw', adamw, adamw.description);
optimizers.register('sgd', sgd, sgd.description);
optimizers.register('rmsprop', rmsprop, rmsprop.description);

/** Builds the named optimizer; a null learning rate takes the optimizer's own default. */
export function createOptimizer(name: string, learningRate: number | null, weightDecay = 0): tf.Optimizer {
  const spec = optimizers.get(name);
  return spec.create({ learningRate: learningRate ?? spec.defaultLearningRate, weightDecay });
}
