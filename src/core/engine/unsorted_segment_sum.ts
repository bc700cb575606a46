/**
 * `UnsortedSegmentSum` for the wasm backend, which has none (tfjs #8082). It is the gradient of `gather`, so
 * without it no Embedding layer (and no `tf.grad` through a gather) trains on wasm.
 *
 * Semantics are TensorFlow's: `segmentIds` (int32) has the shape of the first r dimensions of `x`; the output is
 * `[numSegments, ...x.shape.slice(r)]`, where row s is the sum of every slice of `x` whose id is s. Ids outside
 * [0, numSegments) are dropped. For r = 1 (all tfjs itself ever passes) this is exactly the cpu kernel.
 *
 * engine.c's segment_sum_*: one pass over `x`, adding each row of `inner` values into its segment's row (SIMD for
 * float32), in the backend heap. O(size of x), against the cpu kernel's O(numSegments × size of x) mask-and-sum.
 * A JS loop over heap views took 107–185 ms for 100k rows of 64 into 24k segments (2026-12-04, 2-core EPYC,
 * contended), the bulk of a fasttext training step.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, heapMemory, ptr, sizeOf, withScratch, type WasmBackendLike } from './native.js';

function unsortedSegmentSum(args: { inputs: { x: TensorInfo; segmentIds: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, segmentIds } = args.inputs;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`flash engine: UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const r = segmentIds.shape.length;
  const rows = sizeOf(segmentIds.shape);
  const innerShape = x.shape.slice(r);
  const inner = sizeOf(innerShape);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const total = numSegments * inner;
  if (total === 0) return out;
  const e = engineFor(backend);
  if (rows === 0 || inner === 0) {
    e.fill_zero(ptr(backend, out), total);
    return out;
  }
  let idsPtr = ptr(backend, segmentIds);
  if (segmentIds.dtype !== 'int32') {
    // Float ids (tfjs casts at the op; kept for direct kernel calls): an int32 copy in scratch.
    const ids = Int32Array.from(backend.readSync(segmentIds.dataId));
    return withScratch(backend, rows, (p) => {
      new Int32Array(heapMemory(backend).buffer, p, rows).set(ids);
      idsPtr = p;
      (x.dtype === 'float32' ? e.segment_sum_f32 : e.segment_sum_i32)(ptr(backend, x), idsPtr, rows, inner, numSegments, ptr(backend, out));
      return out;
    });
  }
  (x.dtype === 'float32' ? e.segment_sum_f32 : e.segment_sum_i32)(ptr(backend, x), idsPtr, rows, inner, numSegments, ptr(backend, out));
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
