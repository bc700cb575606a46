import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec } from './types.js';

export const adam: OptimizerSpec = {
  description: 'Adam (β1 0.9, β2 0.999); default learning rate 1e-3',
  defaultLearningRate: 1e-3,
  create: ({ learningRate }) => tf.train.adam(learningRate),
};
