/**
 * Conv2D gradients on the wasm backend (NHWC): `Conv2DBackpropFilter` (missing from tfjs-backend-wasm) and a
 * faster `Conv2DBackpropInput` (the stock one is a scalar loop). Both are im2col/col2im + a packed SIMD GEMM
 * in engine.wasm, chunked over output positions so scratch stays bounded.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, SGEMM_WORKSPACE_FLOATS, withScratch, type WasmBackendLike } from './native.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Largest im2col chunk, in floats (8 MiB). */
const COL_CHUNK_FLOATS = 1 << 21;

interface ConvGeom {
  B: number; H: number; W: number; Ci: number; OH: number; OW: number; Co: number;
  KH: number; KW: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeom {
  return {
    B: info.batchSize, H: info.inHeight, W: info.inWidth, Ci: info.inChannels,
    OH: info.outHeight, OW: info.outWidth, Co: info.outChannels,
    KH: info.filterHeight, KW: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
    dh: info.dilationHeight, dw: info.dilationWidth, pt: info.padInfo.top, pl: info.padInfo.left,
  };
}

function isPointwise(g: ConvGeom): boolean {
  return g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.OH === g.H && g.OW === g.W;
}

function chunkRows(K: number, M: number): number {
  return Math.max(64, Math.min(M, Math.floor(COL_CHUNK_FLOATS / Math.max(1, K))));
}

/** y[B*OH*OW, Co] = im2col(x) · W (+ bias, activation), written at `yPtr`. */
export function conv2dForwardInto(backend: WasmBackendLike, g: ConvGeom, xPtr: number, wPtr: number, yPtr: number,
  biasPtr: number, act: number): void {
  const e = engineFor(backend);
  const M = g.B * g.OH * g.OW;
  const K = g.KH * g.KW * g.Ci;
  if (isPointwise(g)) {
    withScratch(backend, SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(M, g.Co, K, xPtr, K, 1, wPtr, g.Co, 1, yPtr, g.Co, 0, ws));
  } else {
    const rows = chunkRows(K, M);
    withScratch(backend, SGEMM_WORKSPACE_FLOATS + rows * K, (ws) => {
      const col = ws + SGEMM_WORKSPACE_FLOATS * 4;
      for (let m0 = 0; m0 < M; m0 += rows) {
        const m1 = Math.min(M, m0 + rows);
        e.im2col(xPtr, g.H, g.W, g.Ci, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, m0, m1, col);
        e.sgemm(m1 - m0, g.Co, K, col, K, 1, wPtr, g.Co, 1, yPtr + m0 * g.Co * 4, g.Co, 0, ws);
      }
    });
  }
  if (biasPtr || act) e.bias_act(yPtr, M, g.Co, biasPtr, act);
}

/** dW[KH*KW*Ci, Co] = im2col(x)^T · dy, written at `dwPtr`. */
export function conv2dFilterGradInto(backend: WasmBackendLike, g: ConvGeom, xPtr: number, dyPtr: number, dwPtr: number): void {
  const e = engineFor(backend);
  const M = g.B * g.OH * g.OW;
  const K = g.KH * g.KW * g.Ci;
  if (isPointwise(g)) {
    withScratch(backend, SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(K, g.Co, M, xPtr, 1, K, dyPtr, g.Co, 1, dwPtr, g.Co, 0, ws));
    return;
  }
  const rows = chunkRows(K, M);
  withScratch(backend, SGEMM_WORKSPACE_FLOATS + rows * K, (ws) => {
    const col = ws + SGEMM_WORKSPACE_FLOATS * 4;
    for (let m0 = 0; m0 < M; m0 += rows) {
      const m1 = Math.min(M, m0 + rows);
      e.im2col(xPtr, g.H, g.W, g.Ci, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, m0, m1, col);
      e.sgemm(K, g.Co, m1 - m0, col, 1, K, dyPtr + m0 * g.Co * 4, g.Co, 1, dwPtr, g.Co, m0 > 0 ? 1 : 0, ws);
    }
    if (M === 0) e.fill_zero(dwPtr, K * g.Co);
  });
}

/** dx = col2im(dy · W^T), written at `dxPtr`. */
export function conv2dInputGradInto(backend: WasmBackendLike, g: ConvGeom, dyPtr: number, wPtr: number, dxPtr: number): void {
  const e = engineFor(backend);
  const M = g.B * g.OH * g.OW;
  const K = g.KH * g.KW * g.Ci;
  if (isPointwise(g)) {
    withScratch(backend, SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(M, K, g.Co, dyPtr, g.Co, 1, wPtr, 1, g.Co, dxPtr, K, 0, ws));
    return;
  }
  e.fill_zero(dxPtr, g.B * g.H * g.W * g.Ci);
  const rows = chunkRows(K, M);
  withScratch(backend, SGEMM_WORKSPACE_FLOATS + rows * K, (ws) => {
    const col = ws + SGEMM_WORKSPACE_FLOATS * 4;
    for (let m0 = 0; m0 < M; m0 += rows) {
      const m1 = Math.min(M, m0 + rows);
      e.sgemm(m1 - m0, K, g.Co, dyPtr + m0 * g.Co * 4, g.Co, 1, wPtr, 1, g.Co, col, K, 0, ws);
      e.col2im(col, g.H, g.W, g.Ci, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, m0, m1, dxPtr);
    }
  });
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
    conv2dInputGradInto(backend, convGeometry(info), ptr(backend, dy), ptr(backend, filter), ptr(backend, out));
    return out;
  };
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
