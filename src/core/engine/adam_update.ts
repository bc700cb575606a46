/**
 * `FlashAdamUpdate`: one Adam step of one variable in one pass over its weights, moments and gradient (engine.c's
 * adam_update), where tfjs's update is ~12 elementwise kernels, each a full pass and an allocation. The results
 * round exactly as tfjs's op-by-op update does, so LeanAdamOptimizer (src/core/optimizers/adam.ts) gives the same
 * numbers with or without it. Outputs are new tensors (the optimizer assigns them), never writes into inputs.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, sizeOf, type WasmBackendLike } from './native.js';

export const ADAM_UPDATE = 'FlashAdamUpdate';

/** The scalars of one step: β1, 1 − β1, β2, 1 − β2, 1 − β1^t, 1 − β2^t, ε and −learning rate (each rounded to float32). */
export interface AdamUpdateAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  negLearningRate: number;
}

export const adamUpdateConfig: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: ((args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: NamedAttrMap }): TensorInfo[] => {
    const backend = args.backend as WasmBackendLike;
    const { w, m, v, g } = args.inputs;
    const a = args.attrs as unknown as AdamUpdateAttrs;
    for (const [name, t] of Object.entries({ m, v, g })) {
      if (t.dtype !== 'float32' || sizeOf(t.shape) !== sizeOf(w.shape)) throw new Error(`${ADAM_UPDATE}: ${name} must be float32 of ${sizeOf(w.shape)} values like the weight`);
    }
    if (w.dtype !== 'float32') throw new Error(`${ADAM_UPDATE}: the weight must be float32`);
    const [wo, mo, vo] = [w, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
    const n = sizeOf(w.shape);
    if (n > 0) {
      engineFor(backend).adam_update(ptr(backend, w), ptr(backend, m), ptr(backend, v), ptr(backend, g), n, a.beta1, a.oneMinusBeta1,
        a.beta2, a.oneMinusBeta2, a.oneMinusAccBeta1, a.oneMinusAccBeta2, a.epsilon, a.negLearningRate, ptr(backend, wo), ptr(backend, mo), ptr(backend, vo));
    }
    return [wo, mo, vo];
  }) as unknown as KernelFunc,
};
