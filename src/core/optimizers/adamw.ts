import * as tf from '@tensorflow/tfjs';
import { LeanAdamOptimizer } from './adam.js';
import type { OptimizerSpec } from './types.js';

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter): each step first shrinks every trained variable by
 * lr × weight_decay, then applies the Adam update. tfjs has no AdamW, so this extends (flash's lean) Adam.
 */
export class AdamWOptimizer extends LeanAdamOptimizer {
  constructor(learningRate: number, private readonly weightDecay: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    if (this.weightDecay > 0) {
      const factor = 1 - this.learningRate * this.weightDecay;
      tf.tidy(() => {
        for (const name of names) {
          const v = tf.engine().registeredVariables[name];
          if (v) v.assign(tf.mul(v, factor));
        }
      });
    }
    super.applyGradients(variableGradients);
  }
}

export const adamw: OptimizerSpec = {
  description: 'Adam with decoupled weight decay (model.weight_decay, 0.01 when 0); default learning rate 1e-3',
  defaultLearningRate: 1e-3,
  create: ({ learningRate, weightDecay }) => new AdamWOptimizer(learningRate, weightDecay > 0 ? weightDecay : 0.01),
};
