/**
 * Depthwise conv gradients on the wasm backend (NHWC, any channel multiplier, strides, dilations, padding):
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput`, both missing from
 * tfjs-backend-wasm. Direct loops over output positions, SIMD over channels, in engine.wasm; split by image
 * across the engine's threads when big.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, type WasmBackendLike } from './native.js';
import { parallelDepthwiseFilterGrad, parallelDepthwiseInputGrad } from './threads/split.js';

type Shape4 = [number, number, number, number];
interface DwAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function geometry(xShape: Shape4, filterShape: Shape4, a: DwAttrs) {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  return [info.batchSize, info.inHeight, info.inWidth, info.inChannels, filterShape[3], info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left] as const;
}

function depthwiseFilterGrad(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const attrs = args.attrs as unknown as DwAttrs & { filterShape: Shape4 };
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const g = geometry(x.shape as Shape4, attrs.filterShape, attrs);
  if (parallelDepthwiseFilterGrad(backend, g, ptr(backend, x), ptr(backend, dy), ptr(backend, out))) return out;
  engineFor(backend).depthwise_filter_grad(ptr(backend, x), ptr(backend, dy), ...g, ptr(backend, out));
  return out;
}

function depthwiseInputGrad(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const attrs = args.attrs as unknown as DwAttrs & { inputShape: Shape4 };
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  const g = geometry(attrs.inputShape, filter.shape as Shape4, attrs);
  if (parallelDepthwiseInputGrad(backend, g, ptr(backend, dy), ptr(backend, filter), ptr(backend, out), { filter: filter.dataId })) return out;
  engineFor(backend).depthwise_input_grad(ptr(backend, dy), ptr(backend, filter), ...g, ptr(backend, out));
  return out;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseFilterGrad as unknown as KernelFunc,
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseInputGrad as unknown as KernelFunc,
};
