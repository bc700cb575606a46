/**
 * Conv2D gradients on the wasm backend (NHWC): `Conv2DBackpropFilter` (missing from tfjs-backend-wasm) and a
 * faster `Conv2DBackpropInput` (the stock one is a scalar loop). Both are im2col/col2im + a packed SIMD GEMM
 * in engine.wasm (loops in conv_gemm.ts), split across the engine's threads when big (threads/split.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { convDims, convFilterGradRows, convForwardRows, convInputGradImages, type ConvGeom } from './conv_gemm.js';
import { heapOf, ptr, type WasmBackendLike } from './native.js';
import { parallelConvFilterGrad, parallelConvForward, parallelConvInputGrad, type WeightKeys } from './threads/split.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export type { ConvGeom } from './conv_gemm.js';

export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeom {
  return {
    B: info.batchSize, H: info.inHeight, W: info.inWidth, Ci: info.inChannels,
    OH: info.outHeight, OW: info.outWidth, Co: info.outChannels,
    KH: info.filterHeight, KW: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
    dh: info.dilationHeight, dw: info.dilationWidth, pt: info.padInfo.top, pl: info.padInfo.left,
  };
}

/** y[B*OH*OW, Co] = im2col(x) · W (+ bias, activation), written at `yPtr`; split across the engine's threads when big. */
export function conv2dForwardInto(backend: WasmBackendLike, g: ConvGeom, xPtr: number, wPtr: number, yPtr: number,
  biasPtr: number, act: number, keys: WeightKeys = {}): void {
  if (parallelConvForward(backend, g, xPtr, wPtr, yPtr, biasPtr, act, keys)) return;
  convForwardRows(heapOf(backend), g, xPtr, wPtr, yPtr, biasPtr, act, 0, convDims(g).M);
}

/** dW[KH*KW*Ci, Co] = im2col(x)^T · dy, written at `dwPtr`. */
export function conv2dFilterGradInto(backend: WasmBackendLike, g: ConvGeom, xPtr: number, dyPtr: number, dwPtr: number): void {
  if (parallelConvFilterGrad(backend, g, xPtr, dyPtr, dwPtr)) return;
  convFilterGradRows(heapOf(backend), g, xPtr, dyPtr, dwPtr, 0, convDims(g).M);
}

/** dx = col2im(dy · W^T), written at `dxPtr`. */
export function conv2dInputGradInto(backend: WasmBackendLike, g: ConvGeom, dyPtr: number, wPtr: number, dxPtr: number,
  keys: WeightKeys = {}): void {
  if (parallelConvInputGrad(backend, g, dyPtr, wPtr, dxPtr, keys)) return;
  convInputGradImages(heapOf(backend), g, dyPtr, wPtr, dxPtr);
}

function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: Shape4;
  };
  if (dataFormat === 'NCHW') throw new Error('flash engine: Conv2DBackpropFilter supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const out = backend.makeOutput(filterShape, 'float32');
  conv2dFilterGradInto(backend, convGeometry(info), ptr(backend, x), ptr(backend, dy), ptr(backend, out));
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};

/** Conv2DBackpropInput for NHWC; NCHW goes to the stock kernel it replaces. */
export function makeConv2DBackpropInputConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { dy, filter } = args.inputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
      strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: Shape4;
    };
    if (dataFormat === 'NCHW') {
      if (!stock) throw new Error('flash engine: Conv2DBackpropInput supports NHWC only');
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput(inputShape, 'float32');
    conv2dInputGradInto(backend, convGeometry(info), ptr(backend, dy), ptr(backend, filter), ptr(backend, out), { filter: filter.dataId });
    return out;
  };
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
