/**
 * Split ops: each runs one share on the main thread (in place on the tfjs heap) and one per worker (on
 * copies in the pool's shared memory). Every output element is computed by exactly one thread, except the
 * filter gradient, whose per-thread partial sums are added, so results equal one thread's up to the order
 * of float additions. Each returns false (and does nothing) when the op is too small to pay for the copies
 * and the hand-off, or there is only one thread; the caller then runs it serially.
 */
import { convDims, convFilterGradRows, convForwardRows, convInputGradImages, type ConvGeom } from '../conv_gemm.js';
import { heapMemory, heapOf, SGEMM_WORKSPACE_FLOATS, withScratch, type WasmBackendLike } from '../native.js';
import { poolFor } from './config.js';
import type { EnginePool } from './pool.js';

/**
 * Smallest op (FLOPs) worth splitting: ~0.1 ms of one thread's GEMM, several times the cost of waking a
 * worker (~50–100 µs round trip) and copying its inputs.
 */
export const PARALLEL_MIN_FLOPS = 4_000_000;

/** Boundaries of `parts` near-equal shares of [0, n), rounded to multiples of `align` (last share takes the rest). */
function shares(n: number, parts: number, align = 1): number[] {
  const b = [0];
  for (let p = 1; p < parts; p++) b.push(Math.min(n, Math.round((n * p) / parts / align) * align));
  b.push(n);
  return b;
}

function poolForOp(backend: WasmBackendLike, flops: number): EnginePool | undefined {
  if (flops < PARALLEL_MIN_FLOPS) return undefined;
  return poolFor(backend);
}

/** Conv2D forward (+ bias, activation), split by output rows. */
export function parallelConvForward(backend: WasmBackendLike, g: ConvGeom, xPtr: number, wPtr: number, yPtr: number,
  biasPtr: number, act: number): boolean {
  const { M, K } = convDims(g);
  const pool = poolForOp(backend, 2 * M * K * g.Co);
  if (!pool || M < pool.threads) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const ohw = g.OH * g.OW, img = g.H * g.W * g.Ci * 4;
  const b = shares(M, pool.threads, 4);
  const w = job.input(mem, wPtr, K * g.Co * 4);
  const bias = biasPtr ? job.input(mem, biasPtr, g.Co * 4) : 0;
  const outs: { src: number; m0: number; m1: number }[] = [];
  for (let p = 1; p < pool.threads; p++) {
    const [m0, m1] = [b[p], b[p + 1]];
    if (m1 <= m0) continue;
    const i0 = Math.floor(m0 / ohw), i1 = Math.floor((m1 - 1) / ohw) + 1;
    const x = job.input(mem, xPtr + i0 * img, (i1 - i0) * img);
    const y = job.alloc((m1 - m0) * g.Co * 4);
    convForwardRows(job.heap(p - 1), { ...g, B: i1 - i0 }, x, w, y, bias, act, m0 - i0 * ohw, m1 - i0 * ohw);
    outs.push({ src: y, m0, m1 });
  }
  job.run(() => convForwardRows(heapOf(backend), g, xPtr, wPtr, yPtr, biasPtr, act, 0, b[1]), 2 * M * K * g.Co);
  for (const o of outs) job.output(o.src, heapMemory(backend), yPtr + o.m0 * g.Co * 4, (o.m1 - o.m0) * g.Co * 4);
  return true;
}

/** Conv2D filter gradient, split by output rows; the workers' partial dW are added to the main thread's. */
export function parallelConvFilterGrad(backend: WasmBackendLike, g: ConvGeom, xPtr: number, dyPtr: number, dwPtr: number): boolean {
  const { M, K } = convDims(g);
  const pool = poolForOp(backend, 2 * M * K * g.Co);
  if (!pool || M < pool.threads) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const ohw = g.OH * g.OW, img = g.H * g.W * g.Ci * 4;
  const b = shares(M, pool.threads, 4);
  const partials: number[] = [];
  for (let p = 1; p < pool.threads; p++) {
    const [m0, m1] = [b[p], b[p + 1]];
    if (m1 <= m0) continue;
    const i0 = Math.floor(m0 / ohw), i1 = Math.floor((m1 - 1) / ohw) + 1;
    const x = job.input(mem, xPtr + i0 * img, (i1 - i0) * img);
    const dy = job.input(mem, dyPtr + m0 * g.Co * 4, (m1 - m0) * g.Co * 4);
    const dw = job.alloc(K * g.Co * 4);
    convFilterGradRows(job.heap(p - 1), { ...g, B: i1 - i0 }, x, dy, dw, m0 - i0 * ohw, m1 - i0 * ohw);
    partials.push(dw);
  }
  job.run(() => convFilterGradRows(heapOf(backend), g, xPtr, dyPtr, dwPtr, 0, b[1]), 2 * M * K * g.Co);
  const n = K * g.Co;
  withScratch(backend, n, (tmp) => {
    for (const src of partials) {
      job.output(src, heapMemory(backend), tmp, n * 4);
      heapOf(backend).e.bias_act(dwPtr, 1, n, tmp, 0); // dW += partial (one row of n "bias" values)
    }
  });
  return true;
}

/** Conv2D input gradient, split by image (col2im scatters into neighbouring rows of the same image). */
export function parallelConvInputGrad(backend: WasmBackendLike, g: ConvGeom, dyPtr: number, wPtr: number, dxPtr: number): boolean {
  const { M, K } = convDims(g);
  const pool = poolForOp(backend, 2 * M * K * g.Co);
  if (!pool || g.B < 2) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const ohw = g.OH * g.OW, imgIn = g.H * g.W * g.Ci * 4, imgOut = ohw * g.Co * 4;
  const b = shares(g.B, Math.min(pool.threads, g.B));
  const w = job.input(mem, wPtr, K * g.Co * 4);
  const outs: { src: number; i0: number; i1: number }[] = [];
  for (let p = 1; p + 1 < b.length; p++) {
    const [i0, i1] = [b[p], b[p + 1]];
    if (i1 <= i0) continue;
    const dy = job.input(mem, dyPtr + i0 * imgOut, (i1 - i0) * imgOut);
    const dx = job.alloc((i1 - i0) * imgIn);
    convInputGradImages(job.heap(p - 1), { ...g, B: i1 - i0 }, dy, w, dx);
    outs.push({ src: dx, i0, i1 });
  }
  job.run(() => convInputGradImages(heapOf(backend), { ...g, B: b[1] }, dyPtr, wPtr, dxPtr), 2 * M * K * g.Co);
  for (const o of outs) job.output(o.src, heapMemory(backend), dxPtr + o.i0 * imgIn, (o.i1 - o.i0) * imgIn);
  return true;
}

/** Operand of a strided GEMM: X(i, j) = X[i*si + j*sj] (floats). */
interface Strided { ptr: number; si: number; sj: number }

/** Bytes from X(i0, j0) to X(i1 - 1, j1 - 1) inclusive (strides are ≥ 0). */
function span(x: Strided, i0: number, i1: number, j0: number, j1: number): { src: number; bytes: number } {
  const lo = i0 * x.si + j0 * x.sj, hi = (i1 - 1) * x.si + (j1 - 1) * x.sj;
  return { src: x.ptr + lo * 4, bytes: (hi - lo + 1) * 4 };
}

/**
 * C[M, N] = A[M, K] · B[K, N] (C contiguous, ldc = N), split by rows of C when M ≥ N, else by columns. Each
 * worker gets the part of A and B its share reads (the covering byte range; with a transposed operand that
 * can be all of it).
 */
export function parallelGemm(backend: WasmBackendLike, M: number, N: number, K: number, A: Strided, B: Strided, cPtr: number): boolean {
  const pool = poolForOp(backend, 2 * M * N * K);
  const byRows = M >= N;
  if (!pool || (byRows ? M : N) < 2 * pool.threads || K === 0) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const b = shares(byRows ? M : N, pool.threads, byRows ? 4 : 8);
  const outs: { src: number; r0: number; r1: number }[] = [];
  const whole = byRows ? span(B, 0, K, 0, N) : span(A, 0, M, 0, K);
  const shared = job.input(mem, whole.src, whole.bytes);
  for (let p = 1; p < pool.threads; p++) {
    const [r0, r1] = [b[p], b[p + 1]];
    if (r1 <= r0) continue;
    const h = job.heap(p - 1);
    if (byRows) {
      const a = span(A, r0, r1, 0, K);
      const ap = job.input(mem, a.src, a.bytes);
      const c = job.alloc((r1 - r0) * N * 4);
      h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => h.e.sgemm(r1 - r0, N, K, ap, A.si, A.sj, shared, B.si, B.sj, c, N, 0, ws));
      outs.push({ src: c, r0, r1 });
    } else {
      const bs = span(B, 0, K, r0, r1);
      const bp = job.input(mem, bs.src, bs.bytes);
      const c = job.alloc(M * (r1 - r0) * 4);
      h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => h.e.sgemm(M, r1 - r0, K, shared, A.si, A.sj, bp, B.si, B.sj, c, r1 - r0, 0, ws));
      outs.push({ src: c, r0, r1 });
    }
  }
  const e = heapOf(backend).e;
  job.run(() => withScratch(backend, SGEMM_WORKSPACE_FLOATS, (ws) => byRows
    ? e.sgemm(b[1], N, K, A.ptr, A.si, A.sj, B.ptr, B.si, B.sj, cPtr, N, 0, ws)
    : e.sgemm(M, b[1], K, A.ptr, A.si, A.sj, B.ptr, B.si, B.sj, cPtr, N, 0, ws)), 2 * M * N * K);
  for (const o of outs) {
    if (byRows) {
      job.output(o.src, heapMemory(backend), cPtr + o.r0 * N * 4, (o.r1 - o.r0) * N * 4);
    } else {
      const w = o.r1 - o.r0;
      for (let i = 0; i < M; i++) job.output(o.src + i * w * 4, heapMemory(backend), cPtr + (i * N + o.r0) * 4, w * 4);
    }
  }
  return true;
}
