/**
 * `BatchMatMul` for the wasm backend: the packed SIMD GEMM of engine.wasm, where transposes are free
 * (they are only strides). The stock kernel transposes operands first and is ~1.5 GFLOP/s on the dense
 * layers' backward products; this one runs at GEMM speed, split across the engine's threads when big. Batch
 * broadcasting other than "same batch" or "one side has batch 1", and non-float32 inputs, go to the stock kernel.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, SGEMM_WORKSPACE_FLOATS, sizeOf, withScratch, type WasmBackendLike } from './native.js';
import { parallelGemm } from './threads/split.js';

export function makeBatchMatMulConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length, rb = b.shape.length;
    const batchShapeA = a.shape.slice(0, -2), batchShapeB = b.shape.slice(0, -2);
    const batchA = sizeOf(batchShapeA), batchB = sizeOf(batchShapeB);
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const sameBatch = batchA === batchB && batchShapeA.join() === batchShapeB.join();
    const simple = a.dtype === 'float32' && b.dtype === 'float32' && ra >= 2 && rb >= 2 && K === Kb &&
      (sameBatch || batchA === 1 || batchB === 1);
    if (!simple) {
      if (!stock) throw new Error('flash engine: unsupported BatchMatMul');
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const batchShape = batchA >= batchB ? batchShapeA : batchShapeB;
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([...batchShape, M, N], 'float32');
    const e = engineFor(backend);
    const pa = ptr(backend, a), pb = ptr(backend, b), pc = ptr(backend, out);
    const [sai, sap] = transposeA ? [1, M] : [K, 1];
    const [sbp, sbj] = transposeB ? [1, K] : [N, 1];
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? 0 : i, bi = batchB === 1 ? 0 : i;
      const A = { ptr: pa + ai * M * K * 4, si: sai, sj: sap }, B = { ptr: pb + bi * K * N * 4, si: sbp, sj: sbj };
      // (Operands are cached in the workers' memory by dataId, so only whole ones: batch 1.)
      const keys = { a: batchA === 1 ? a.dataId : undefined, b: batchB === 1 ? b.dataId : undefined };
      if (parallelGemm(backend, M, N, K, A, B, pc + i * M * N * 4, keys)) continue;
      withScratch(backend, SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(M, N, K, A.ptr, sai, sap, B.ptr, sbp, sbj, pc + i * M * N * 4, N, 0, ws));
    }
    return out;
  };
  return { kernelName: 'BatchMatMul', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
