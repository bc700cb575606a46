/**
 * Forward `Conv2D` and `FusedConv2D` (bias + linear/relu/relu6) on wasm as im2col + the engine's packed
 * SIMD GEMM — faster than the stock XNNPACK path on the benchmark networks' 3×3 and 7×7 convs (see
 * `bench:engine --kernels`). NCHW, other activations, PReLU weights and odd bias shapes go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dForwardInto, convGeometry } from './conv2d_backprop.js';
import { ptr, sizeOf, type WasmBackendLike } from './native.js';
import { engineThreads } from './threads/config.js';

type Shape4 = [number, number, number, number];
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

function makeConfig(kernelName: 'Conv2D' | 'FusedConv2D', stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    backend: unknown; attrs: NamedAttrMap;
  }): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = args.attrs as unknown as {
      strides: [number, number] | number; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW'; dilations: [number, number] | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
      activation?: string;
    };
    const Co = filter.shape[3];
    const act = ACTIVATIONS[activation ?? 'linear'];
    // (Convs over ≤ 3 input channels — image stems — stay on XNNPACK, which is a little faster there on one
    // thread; with more, the engine's split conv is faster.)
    const ok = dataFormat !== 'NCHW' && x.dtype === 'float32' && (x.shape[3] >= 4 || !stock || engineThreads(backend) > 1) && filter.dtype === 'float32' && x.shape.length === 4 &&
      act !== undefined && preluActivationWeights == null &&
      (bias == null || (bias.dtype === 'float32' && sizeOf(bias.shape) === Co && bias.shape[bias.shape.length - 1] === Co));
    if (!ok) {
      if (!stock) throw new Error(`flash engine: unsupported ${kernelName}`);
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput([...info.outShape], 'float32');
    if (sizeOf(info.outShape) === 0) return out;
    conv2dForwardInto(backend, convGeometry(info), ptr(backend, x), ptr(backend, filter), ptr(backend, out), bias ? ptr(backend, bias) : 0, act,
      { filter: filter.dataId, bias: bias?.dataId });
    return out;
  };
  return { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const makeConv2DConfig = (stock: KernelConfig | undefined) => makeConfig('Conv2D', stock);
export const makeFusedConv2DConfig = (stock: KernelConfig | undefined) => makeConfig('FusedConv2D', stock);
