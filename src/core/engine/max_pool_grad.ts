/**
 * `MaxPoolGrad` for the wasm backend. The stock kernel starts its running max at FLT_MIN (the smallest
 * positive float), so a window whose values are all ≤ 0 routes no gradient at all; this one starts at the
 * first in-window element and breaks ties to the first maximum, like the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, type WasmBackendLike } from './native.js';

type Shape4 = [number, number, number, number];

function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: [number, number] | number; strides: [number, number] | number;
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32');
  engineFor(backend).max_pool_grad(ptr(backend, input), ptr(backend, dy), info.batchSize, info.inHeight, info.inWidth,
    info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight,
    info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left, ptr(backend, out));
  return out;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
