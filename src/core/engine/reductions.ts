/**
 * `Sum` and `Mean` over leading axes (e.g. the [batch, height, width] of NHWC activations: bias gradients,
 * BatchNorm moments) for the wasm backend. The stock kernels transpose the reduced axes to the end first;
 * these reduce rows in place (blocked float32 accumulation). Every other case goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, sizeOf, withScratch, type WasmBackendLike } from './native.js';

/** k when the (normalised) axes are exactly [0, k) with k ≥ 1, else 0. */
export function leadingAxes(axis: number | number[] | null | undefined, shape: number[]): number {
  if (shape.length === 0) return 0;
  const axes = [...tf.util.parseAxisParam(axis ?? shape.map((_, i) => i), shape)].sort((p, q) => p - q);
  if (axes.length === 0) return 0;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return 0;
  return axes.length;
}

function makeReduceConfig(kernelName: 'Sum' | 'Mean', stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : 0;
    if (k === 0) {
      if (!stock) throw new Error(`flash engine: unsupported ${kernelName}`);
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const N = sizeOf(x.shape.slice(0, k));
    const C = sizeOf(x.shape.slice(k));
    const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const scale = kernelName === 'Mean' ? 1 / Math.max(1, N) : 1;
    withScratch(backend, C, (partial) => engineFor(backend).reduce_rows(ptr(backend, x), N, C, scale, ptr(backend, out), partial));
    return out;
  };
  return { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const makeSumConfig = (stock: KernelConfig | undefined) => makeReduceConfig('Sum', stock);
export const makeMeanConfig = (stock: KernelConfig | undefined) => makeReduceConfig('Mean', stock);
