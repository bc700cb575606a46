/**
 * `UnsortedSegmentSum` for the wasm backend, which has none (tfjs #8082). It is the gradient of `gather`, so
 * without it no Embedding layer (and no `tf.grad` through a gather) trains on wasm.
 *
 * Semantics are TensorFlow's: `segmentIds` (int32) has the shape of the first r dimensions of `x`; the output is
 * `[numSegments, ...x.shape.slice(r)]`, where row s is the sum of every slice of `x` whose id is s. Ids outside
 * [0, numSegments) are dropped. For r = 1 (all tfjs itself ever passes) this is exactly the cpu kernel.
 *
 * Plain TS over typed views of the backend heap: one pass over `x`, adding each row of `inner` values into its
 * segment's row. That is O(size of x), against the cpu kernel's O(numSegments × size of x) mask-and-sum, so it
 * is no hot spot next to the Embedding's matmuls; native code would gain little.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { heapMemory, ptr, sizeOf, type WasmBackendLike } from './native.js';

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
  // Views are made after makeOutput: allocating may grow the heap, which detaches older views of its buffer.
  const buffer = heapMemory(backend).buffer;
  const Arr = x.dtype === 'float32' ? Float32Array : Int32Array;
  const dst = new Arr(buffer, ptr(backend, out), total);
  dst.fill(0);
  if (rows === 0 || inner === 0) return out;
  const src = new Arr(buffer, ptr(backend, x), rows * inner);
  const ids = segmentIds.dtype === 'int32'
    ? new Int32Array(buffer, ptr(backend, segmentIds), rows)
    : Int32Array.from(backend.readSync(segmentIds.dataId)); // float ids: tfjs casts at the op; kept for direct kernel calls
  if (inner === 1) {
    for (let i = 0; i < rows; i++) {
      const s = ids[i];
      if (s >= 0 && s < numSegments) dst[s] += src[i];
    }
    return out;
  }
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner, a = i * inner;
    for (let j = 0; j < inner; j++) dst[o + j] += src[a + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
