import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec } from './types.js';

export const sgd: OptimizerSpec = {
  description: 'SGD with momentum 0.9; default learning rate 1e-2',
  defaultLearningRate: 1e-2,
  create: ({ learningRate }) => tf.train.momentum(learningRate, 0.9),
};
