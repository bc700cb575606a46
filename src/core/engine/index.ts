/**
 * flash engine: makes TensorFlow.js's `wasm` backend a training backend.
 *
 * tfjs-backend-wasm 4.22 cannot train a conv net: it has no Conv2DBackpropFilter and no depthwise
 * gradients (nor UnsortedSegmentSum, the gradient of gather and so of Embedding layers), and its MaxPoolGrad loses the gradient of windows whose values are all ≤ 0. This module
 * registers those kernels (and faster replacements for hot backward kernels) for the `wasm` backend. The
 * arithmetic lives in native/engine.wasm (C, SIMD128; rebuild with native/build.sh), which works directly
 * in the backend's heap.
 *
 * Call `registerWasmTrainingKernels()` once, before or after `tf.setBackend('wasm')`. Big convs and GEMMs are
 * split across worker threads (threads/; `setEngineThreads(backend, n)`, default all cores).
 */
import * as tf from '@tensorflow/tfjs';
// The stock wasm kernels must be registered before ours replace some of them.
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterConfig, makeConv2DBackpropInputConfig } from './conv2d_backprop.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise_backprop.js';
import { maxPoolGradConfig } from './max_pool_grad.js';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.js';
import { makeGatherV2Config } from './gather.js';
import { makeBatchMatMulConfig } from './batch_mat_mul.js';
import { makeConv2DConfig, makeFusedConv2DConfig } from './conv2d_forward.js';
import { makeMeanConfig, makeSumConfig } from './reductions.js';
import { makeIdentityConfig, makeTransposeConfig, makeMaximumConfig, makeMinimumConfig, makeRowAddConfig, makeRowMultiplyConfig, makeRowSubConfig, makeSliceConfig } from './data_movement.js';
import { BROADCAST_ROWS, elementwiseKernelConfigs, makeElementwiseGradConfigs, MASK_GRAD, SQUARE_GRAD } from './elementwise_grads.js';
import { withShapeChecks } from './validate.js';
import { ADAM_UPDATE, adamUpdateConfig } from './adam_update.js';
import { FUSED_BN_GRAD, fusedBatchNormGradKernelConfig, makeFusedBatchNormConfig, makeFusedBatchNormGradConfig } from './batch_norm_grad.js';

export { foldBatchNorm } from './fold_batch_norm.js';
export { ADAM_UPDATE, type AdamUpdateAttrs } from './adam_update.js';
export { DataParallelTrainer, type DataParallelOptions } from './data_parallel.js';
export { defaultEngineThreads, engineThreads, setEngineThreads, shutdownEngineThreads, engineThreadStats, type EngineThreadStats } from './threads/config.js';
export { PARALLEL_MIN_FLOPS } from './threads/split.js';
export { engineSimd, relaxedSimdSupported, type EngineSimd } from './native.js';

const BACKEND = 'wasm';

/** Kernels this module registers for `wasm` (added or replaced). */
const KERNEL_NAMES = [
  'Conv2D',
  'FusedConv2D',
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'UnsortedSegmentSum',
  'GatherV2',
  'FusedBatchNorm',
  FUSED_BN_GRAD,
  'Sum',
  'Mean',
  'Identity',
  'Transpose',
  'Slice',
  'Minimum',
  'Maximum',
  'Add',
  'Sub',
  'Multiply',
  MASK_GRAD,
  SQUARE_GRAD,
  BROADCAST_ROWS,
  ADAM_UPDATE,
];

let registered = false;

const stockKernels = new Map<string, tf.KernelConfig>();

/** The tfjs-backend-wasm kernel a name had before the engine replaced it (for benchmarks and diagnostics). */
export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

function replaceKernel(config: tf.KernelConfig): void {
  const stock = tf.getKernel(config.kernelName, BACKEND);
  if (stock) {
    if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, stock);
    tf.unregisterKernel(config.kernelName, BACKEND);
  }
  // Shapes are checked first, so a shape that doesn't fit is an Error, not an out-of-bounds read (validate.ts).
  tf.registerKernel(withShapeChecks(config));
}

/**
 * Registers every missing or fixed training kernel for the `wasm` backend (idempotent). Also routes the
 * gradients of FusedBatchNorm, Relu, Relu6, ClipByValue, Minimum/Maximum (with a scalar), Square and Mean
 * through one-pass engine kernels when the active backend is wasm (other backends keep tfjs's gradients).
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const stockBackpropInput = tf.getKernel('Conv2DBackpropInput', BACKEND);
  const stockBatchMatMul = tf.getKernel('BatchMatMul', BACKEND);
  replaceKernel(makeBatchMatMulConfig(stockBatchMatMul));
  replaceKernel(makeConv2DConfig(tf.getKernel('Conv2D', BACKEND)));
  replaceKernel(makeFusedConv2DConfig(tf.getKernel('FusedConv2D', BACKEND)));
  replaceKernel(conv2DBackpropFilterConfig);
  replaceKernel(makeConv2DBackpropInputConfig(stockBackpropInput));
  replaceKernel(depthwiseBackpropFilterConfig);
  replaceKernel(depthwiseBackpropInputConfig);
  replaceKernel(maxPoolGradConfig);
  // Missing from tfjs-backend-wasm (tfjs #8082): the gradient of gather, so of every Embedding layer.
  replaceKernel(unsortedSegmentSumConfig);
  replaceKernel(makeGatherV2Config(tf.getKernel('GatherV2', BACKEND)));
  replaceKernel(makeFusedBatchNormConfig(tf.getKernel('FusedBatchNorm', BACKEND)));
  replaceKernel(fusedBatchNormGradKernelConfig);
  replaceKernel(makeSumConfig(tf.getKernel('Sum', BACKEND)));
  replaceKernel(makeMeanConfig(tf.getKernel('Mean', BACKEND)));
  replaceKernel(makeIdentityConfig(tf.getKernel('Identity', BACKEND)));
  replaceKernel(makeTransposeConfig(tf.getKernel('Transpose', BACKEND)));
  replaceKernel(makeSliceConfig(tf.getKernel('Slice', BACKEND)));
  replaceKernel(makeMinimumConfig(tf.getKernel('Minimum', BACKEND)));
  replaceKernel(makeMaximumConfig(tf.getKernel('Maximum', BACKEND)));
  replaceKernel(makeRowAddConfig(tf.getKernel('Add', BACKEND)));
  replaceKernel(makeRowSubConfig(tf.getKernel('Sub', BACKEND)));
  replaceKernel(makeRowMultiplyConfig(tf.getKernel('Multiply', BACKEND)));
  for (const config of elementwiseKernelConfigs) replaceKernel(config);
  replaceKernel(adamUpdateConfig);
  // The stock pools read out of bounds when the window doesn't fit (a 1×1 map, pool 2): same kernels, checked.
  for (const name of ['MaxPool', 'AvgPool']) {
    const stock = tf.getKernel(name, BACKEND);
    if (stock) replaceKernel(stock);
  }
  const stockBnGrad = tf.getGradient('FusedBatchNorm');
  if (stockBnGrad) tf.registerGradient(makeFusedBatchNormGradConfig(stockBnGrad));
  for (const config of makeElementwiseGradConfigs()) tf.registerGradient(config);
  registered = true;
}

/** Names of the kernels `registerWasmTrainingKernels` provides for `wasm`. */
export function engineKernelNames(): string[] {
  return [...KERNEL_NAMES];
}
