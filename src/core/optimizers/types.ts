import type * as tf from '@tensorflow/tfjs';

/** Settings an optimizer is built from. */
export interface OptimizerOptions {
  learningRate: number;
  weightDecay: number;
}

/** A registered optimizer: its default learning rate (used when the recipe leaves it null) and a factory. */
export interface OptimizerSpec {
  description: string;
  defaultLearningRate: number;
  create(options: OptimizerOptions): tf.Optimizer;
}
