/**
 * `GatherV2` for the wasm backend, the forward pass of every Embedding layer. The stock kernel is slow on row
 * gathers: 37–83 ms for 6.4k rows of 64 floats out of a 16.6k-row table, against 2–9 ms for a JS loop over the
 * heap (the kernel calls alone, 2026-12-04, 2-core EPYC, contended); engine.c's gather_rows (one memory.copy per
 * slice) is faster again at 100k rows. batchDims > 0 and other dtypes go to the stock kernel. An index outside
 * [0, dim) is an error naming it, as with the stock one.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, heapMemory, ptr, sizeOf, type WasmBackendLike } from './native.js';

type Args = { inputs: { x: TensorInfo; indices: TensorInfo }; backend: unknown; attrs: NamedAttrMap };

export function makeGatherV2Config(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x, indices } = args.inputs;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
    const ok = (x.dtype === 'float32' || x.dtype === 'int32') && indices.dtype === 'int32' && !batchDims && x.shape.length > 0;
    if (!ok) {
      if (!stock) throw new Error('flash engine: unsupported GatherV2');
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const outer = sizeOf(x.shape.slice(0, a)), dim = x.shape[a], inner = sizeOf(x.shape.slice(a + 1));
    const n = sizeOf(indices.shape);
    const out = backend.makeOutput([...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)], x.dtype as 'float32' | 'int32');
    if (outer * n * inner === 0) return out;
    // Views after makeOutput: an allocation may grow the heap and detach older views.
    const buffer = heapMemory(backend).buffer;
    const idx = new Int32Array(buffer, ptr(backend, indices), n);
    for (let i = 0; i < n; i++) {
      if (!(idx[i] >= 0 && idx[i] < dim)) throw new Error(`GatherV2: the index value ${idx[i]} is not in [0, ${dim - 1}]`);
    }
    engineFor(backend).gather_rows(ptr(backend, x), ptr(backend, indices), n, outer, dim, inner, ptr(backend, out));
    return out;
  };
  return { kernelName: 'GatherV2', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
