import * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec } from './types.js';

export const rmsprop: OptimizerSpec = {
  description: 'RMSprop (decay 0.9); default learning rate 1e-3',
  defaultLearningRate: 1e-3,
  create: ({ learningRate }) => tf.train.rmsprop(learningRate, 0.9),
};
