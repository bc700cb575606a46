/**
 * Split ops: the main thread computes the first share in place on the tfjs heap; each worker gets the next
 * share as a few tasks on copies in the pool's shared memory (any of which the main thread takes over if
 * the worker has not started it, see pool.ts). Every output element is computed by exactly one thread,
 * except the filter gradients, whose per-task partial sums are added in task order, so results equal one
 * thread's up to the order of float additions and do not depend on which thread ran a task. Each function returns false (and does nothing) when the op is too small
 * to pay for the copies and the hand-off, or there is only one thread; the caller then runs it serially.
 */
import * as tf from '@tensorflow/tfjs';
import { convDims, convFilterGradRows, convForwardRows, convInputGradImages, type ConvGeom } from '../conv_gemm.js';
import { heapMemory, heapOf, SGEMM_WORKSPACE_FLOATS, withScratch, type Heap, type WasmBackendLike } from '../native.js';
import { engineThreadOptions, poolFor } from './config.js';
import type { EnginePool, Job } from './pool.js';

/**
 * Smallest op (FLOPs) worth splitting by default: ~0.4 ms of one thread's GEMM, several times the cost of waking
 * a worker (~50–100 µs round trip) and copying its inputs. Measured on 2 free cores (24 Nov 2026): at 4 MFLOP,
 * MobileNetV2 α0.35's many small 1×1 convs got slower split (inference 688 → 661 img/s with 2 threads); at 16
 * MFLOP it gains (737 img/s) and resnet18 / small_cnn keep their speed-up.
 */
export const PARALLEL_MIN_FLOPS = 16_000_000;
/**
 * Fewest output rows per task: the GEMM packs the filter once per call, so much smaller tasks would spend
 * a noticeable share of their time packing (1024 rows: ~3%).
 */
const MIN_TASK_ROWS = 1024;
/** Most tasks per worker (finer tasks balance a late worker better, but each one re-packs). */
const MAX_TASKS_PER_WORKER = 4;

/** Boundaries of `parts` near-equal shares of [0, n), rounded to multiples of `align` (the last takes the rest). */
function shares(n: number, parts: number, align = 1): number[] {
  const b = [0];
  for (let p = 1; p < parts; p++) b.push(Math.min(n, Math.round((n * p) / parts / align) * align));
  b.push(n);
  return b;
}

/** Splits [r0, r1) into tasks of at least `minRows` (at most MAX_TASKS_PER_WORKER). */
function taskRanges(r0: number, r1: number, minRows: number, align = 1): [number, number][] {
  const n = Math.max(1, Math.min(MAX_TASKS_PER_WORKER, Math.floor((r1 - r0) / minRows)));
  const b = shares(r1 - r0, n, align);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) if (b[i + 1] > b[i]) out.push([r0 + b[i], r0 + b[i + 1]]);
  return out;
}

/** dataIds of an op's weights (unchanging tensors: their shared-memory copies are reused across ops). */
export interface WeightKeys { filter?: object; bias?: object }

/**
 * An operand's copy in the job's memory: from the pool's cache when it holds a variable's current value (a
 * weight, read again by the next op or batch). Other tensors are copied each time: caching activations would
 * only push the weights out.
 */
function weight(job: Job, key: object | undefined, mem: WebAssembly.Memory, src: number, bytes: number): number {
  return key && isVariableData(key) ? job.cachedInput(key, mem, src, bytes) : job.input(mem, src, bytes);
}

function isVariableData(dataId: object): boolean {
  for (const v of Object.values(tf.engine().state.registeredVariables)) if (v.dataId === dataId) return true;
  return false;
}

function poolForOp(backend: WasmBackendLike, flops: number): EnginePool | undefined {
  if (flops < (engineThreadOptions(backend).minFlops ?? PARALLEL_MIN_FLOPS)) return undefined;
  return poolFor(backend);
}

/** Images of `g` that output rows [m0, m1) read: [i0, i1). */
function imagesOf(g: ConvGeom, m0: number, m1: number): [number, number] {
  const ohw = g.OH * g.OW;
  return [Math.floor(m0 / ohw), Math.floor((m1 - 1) / ohw) + 1];
}

/** One worker's share of a conv split by output rows: its rows [r0, r1), images copied to the job, task ranges. */
interface ConvRowShare {
  /** Worker index + 1 (share 0 is the main thread's). */
  p: number;
  r0: number;
  r1: number;
  /** The share's images in job memory, their geometry, and the first output row they hold. */
  x: number;
  sub: ConvGeom;
  base: number;
  tasks: [number, number][];
}

/**
 * Plans a conv op split by output rows (forward and filter gradient): null when it is too small or there is one
 * thread; else the job, the main thread's rows [0, main) and each worker's share, its images already copied.
 */
function convRowSplit(backend: WasmBackendLike, g: ConvGeom, xPtr: number):
  { job: Job; mem: WebAssembly.Memory; flops: number; main: number; shares: ConvRowShare[] } | null {
  const { M, K } = convDims(g);
  const flops = 2 * M * K * g.Co;
  const pool = poolForOp(backend, flops);
  if (!pool || M < 4 * pool.threads) return null;
  const mem = heapMemory(backend);
  const job = pool.job();
  const ohw = g.OH * g.OW, img = g.H * g.W * g.Ci * 4;
  const b = shares(M, pool.threads, 4);
  const list: ConvRowShare[] = [];
  for (let p = 1; p < pool.threads; p++) {
    if (b[p + 1] <= b[p]) continue;
    const [i0, i1] = imagesOf(g, b[p], b[p + 1]);
    const x = job.input(mem, xPtr + i0 * img, (i1 - i0) * img);
    list.push({ p, r0: b[p], r1: b[p + 1], x, sub: { ...g, B: i1 - i0 }, base: i0 * ohw, tasks: taskRanges(b[p], b[p + 1], MIN_TASK_ROWS, 4) });
  }
  return { job, mem, flops, main: b[1], shares: list };
}

/** Conv2D forward (+ bias, activation), split by output rows. */
export function parallelConvForward(backend: WasmBackendLike, g: ConvGeom, xPtr: number, wPtr: number, yPtr: number,
  biasPtr: number, act: number, keys: WeightKeys = {}): boolean {
  const split = convRowSplit(backend, g, xPtr);
  if (!split) return false;
  const { job, mem } = split;
  const row = g.Co * 4;
  const w = weight(job, keys.filter, mem, wPtr, convDims(g).K * row);
  const bias = biasPtr ? weight(job, keys.bias, mem, biasPtr, row) : 0;
  for (const { p, x, sub, base, tasks } of split.shares) {
    for (const [m0, m1] of tasks) {
      const y = job.alloc((m1 - m0) * row);
      job.task(p - 1, {
        worker: (h: Heap) => convForwardRows(h, sub, x, w, y, bias, act, m0 - base, m1 - base),
        main: () => convForwardRows(heapOf(backend), g, xPtr, wPtr, yPtr + m0 * row, biasPtr, act, m0, m1),
        collect: () => job.output(y, heapMemory(backend), yPtr + m0 * row, (m1 - m0) * row),
      });
    }
  }
  job.run(() => convForwardRows(heapOf(backend), g, xPtr, wPtr, yPtr, biasPtr, act, 0, split.main), split.flops);
  return true;
}

/**
 * Conv2D filter gradient, split by output rows (the sum's terms). The main thread's share writes dW in place;
 * every other task computes its own partial dW (on a worker, or on the main thread when it takes the task over),
 * and the partials are added to dW in task order — so the result does not depend on which thread ran which task,
 * and a seeded run is reproducible however busy the machine is.
 */
export function parallelConvFilterGrad(backend: WasmBackendLike, g: ConvGeom, xPtr: number, dyPtr: number, dwPtr: number): boolean {
  const split = convRowSplit(backend, g, xPtr);
  if (!split) return false;
  const { job, mem } = split;
  const row = g.Co * 4, n = convDims(g).K * g.Co;
  const partials: number[] = [];
  for (const { p, r0, r1, x, sub, base, tasks } of split.shares) {
    const dy = job.input(mem, dyPtr + r0 * row, (r1 - r0) * row);
    for (const [m0, m1] of tasks) {
      const partial = job.alloc(n * 4);
      partials.push(partial);
      job.task(p - 1, {
        worker: (h: Heap) => convFilterGradRows(h, sub, x, dy + (m0 - r0) * row, partial, m0 - base, m1 - base),
        main: () => withScratch(backend, n, (tmp) => {
          convFilterGradRows(heapOf(backend), g, xPtr, dyPtr + m0 * row, tmp, m0, m1);
          job.store(heapMemory(backend), tmp, partial, n * 4);
        }),
      });
    }
  }
  job.run(() => convFilterGradRows(heapOf(backend), g, xPtr, dyPtr, dwPtr, 0, split.main), split.flops);
  addPartials(backend, job, partials, dwPtr, n);
  return true;
}

/** dW += each partial (n floats in job memory), in the order given. */
function addPartials(backend: WasmBackendLike, job: Job, partials: number[], dwPtr: number, n: number): void {
  withScratch(backend, n, (tmp) => {
    for (const src of partials) {
      job.output(src, heapMemory(backend), tmp, n * 4);
      heapOf(backend).e.bias_act(dwPtr, 1, n, tmp, 0); // dW += partial (one row of n "bias" values)
    }
  });
}

/** Conv2D input gradient, split by image (col2im scatters into neighbouring rows of the same image). */
export function parallelConvInputGrad(backend: WasmBackendLike, g: ConvGeom, dyPtr: number, wPtr: number, dxPtr: number,
  keys: WeightKeys = {}): boolean {
  const { M, K } = convDims(g);
  const flops = 2 * M * K * g.Co;
  const pool = poolForOp(backend, flops);
  if (!pool || g.B < 2) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const ohw = g.OH * g.OW, imgIn = g.H * g.W * g.Ci * 4, imgOut = ohw * g.Co * 4;
  const b = shares(g.B, Math.min(pool.threads, g.B));
  const w = weight(job, keys.filter, mem, wPtr, K * g.Co * 4);
  for (let p = 1; p + 1 < b.length; p++) {
    if (b[p + 1] <= b[p]) continue;
    const dy = job.input(mem, dyPtr + b[p] * imgOut, (b[p + 1] - b[p]) * imgOut);
    for (const [i0, i1] of taskRanges(b[p], b[p + 1], Math.ceil(MIN_TASK_ROWS / ohw))) {
      const dx = job.alloc((i1 - i0) * imgIn);
      job.task(p - 1, {
        worker: (h: Heap) => convInputGradImages(h, { ...g, B: i1 - i0 }, dy + (i0 - b[p]) * imgOut, w, dx),
        main: () => convInputGradImages(heapOf(backend), { ...g, B: i1 - i0 }, dyPtr + i0 * imgOut, wPtr, dxPtr + i0 * imgIn),
        collect: () => job.output(dx, heapMemory(backend), dxPtr + i0 * imgIn, (i1 - i0) * imgIn),
      });
    }
  }
  job.run(() => convInputGradImages(heapOf(backend), { ...g, B: b[1] }, dyPtr, wPtr, dxPtr), flops);
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
 * C[M, N] = A[M, K] · B[K, N] (C contiguous, ldc = N), split by rows of C when M ≥ N, else by columns
 * (one task per worker). Each worker gets the part of A and B its share reads (the covering byte range;
 * with a transposed operand that can be all of it).
 */
export function parallelGemm(backend: WasmBackendLike, M: number, N: number, K: number, A: Strided, B: Strided, cPtr: number,
  keys: { a?: object; b?: object } = {}): boolean {
  const flops = 2 * M * N * K;
  const pool = poolForOp(backend, flops);
  const byRows = M >= N;
  if (!pool || (byRows ? M : N) < 2 * pool.threads || K === 0) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const b = shares(byRows ? M : N, pool.threads, byRows ? 4 : 8);
  const whole = byRows ? span(B, 0, K, 0, N) : span(A, 0, M, 0, K);
  const shared = weight(job, byRows ? keys.b : keys.a, mem, whole.src, whole.bytes);
  const gemm = (h: Heap, m: number, n: number, a: number, bp: number, c: number, ldc: number) =>
    h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => h.e.sgemm(m, n, K, a, A.si, A.sj, bp, B.si, B.sj, c, ldc, 0, ws));
  for (let p = 1; p < pool.threads; p++) {
    const [r0, r1] = [b[p], b[p + 1]];
    if (r1 <= r0) continue;
    if (byRows) {
      const a = span(A, r0, r1, 0, K);
      const ap = job.input(mem, a.src, a.bytes);
      const c = job.alloc((r1 - r0) * N * 4);
      job.task(p - 1, {
        worker: (h) => gemm(h, r1 - r0, N, ap, shared, c, N),
        main: () => gemm(heapOf(backend), r1 - r0, N, a.src, B.ptr, cPtr + r0 * N * 4, N),
        collect: () => job.output(c, heapMemory(backend), cPtr + r0 * N * 4, (r1 - r0) * N * 4),
      });
    } else {
      const bs = span(B, 0, K, r0, r1);
      const bp = job.input(mem, bs.src, bs.bytes);
      const w = r1 - r0, c = job.alloc(M * w * 4);
      job.task(p - 1, {
        worker: (h) => gemm(h, M, w, shared, bp, c, w),
        main: () => gemm(heapOf(backend), M, w, A.ptr, bs.src, cPtr + r0 * 4, N),
        collect: () => {
          for (let i = 0; i < M; i++) job.output(c + i * w * 4, heapMemory(backend), cPtr + (i * N + r0) * 4, w * 4);
        },
      });
    }
  }
  job.run(() => byRows
    ? gemm(heapOf(backend), b[1], N, A.ptr, B.ptr, cPtr, N)
    : gemm(heapOf(backend), M, b[1], A.ptr, B.ptr, cPtr, N), flops);
  return true;
}

/**
 * Depthwise conv geometry as engine.c takes it: B, H, W, C, mult, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl.
 * (Both depthwise gradients are independent per image, so they split by image.)
 */
export type DepthwiseGeom = readonly [number, number, number, number, number, number, number, number, number,
  number, number, number, number, number, number];

/** The geometry after B (the engine's depthwise functions take B, then these). */
type Rest = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

function depthwiseShares(pool: EnginePool, g: DepthwiseGeom): { b: number[]; tasks: (p: number) => [number, number][] } {
  const [B, , , , , OH, OW] = g;
  const b = shares(B, Math.min(pool.threads, B));
  return { b, tasks: (p) => taskRanges(b[p], b[p + 1], Math.ceil(MIN_TASK_ROWS / (OH * OW))) };
}

/**
 * Depthwise filter gradient, split by image; each task (whichever thread runs it) computes a partial dW, added
 * in task order (reproducible, as for the conv filter gradient).
 */
export function parallelDepthwiseFilterGrad(backend: WasmBackendLike, g: DepthwiseGeom, xPtr: number, dyPtr: number, dwPtr: number): boolean {
  const [B, H, W, C, mult, OH, OW, KH, KW] = g;
  const flops = 2 * B * OH * OW * KH * KW * C * mult;
  const pool = poolForOp(backend, flops);
  if (!pool || B < 2) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const imgIn = H * W * C * 4, imgOut = OH * OW * C * mult * 4, n = KH * KW * C * mult;
  const { b, tasks } = depthwiseShares(pool, g);
  const rest = g.slice(1) as unknown as Rest;
  const partials: number[] = [];
  for (let p = 1; p + 1 < b.length; p++) {
    const x = job.input(mem, xPtr + b[p] * imgIn, (b[p + 1] - b[p]) * imgIn);
    const dy = job.input(mem, dyPtr + b[p] * imgOut, (b[p + 1] - b[p]) * imgOut);
    for (const [i0, i1] of tasks(p)) {
      const partial = job.alloc(n * 4);
      partials.push(partial);
      job.task(p - 1, {
        worker: (h) => h.e.depthwise_filter_grad(x + (i0 - b[p]) * imgIn, dy + (i0 - b[p]) * imgOut, i1 - i0, ...rest, partial),
        main: () => withScratch(backend, n, (tmp) => {
          heapOf(backend).e.depthwise_filter_grad(xPtr + i0 * imgIn, dyPtr + i0 * imgOut, i1 - i0, ...rest, tmp);
          job.store(heapMemory(backend), tmp, partial, n * 4);
        }),
      });
    }
  }
  job.run(() => heapOf(backend).e.depthwise_filter_grad(xPtr, dyPtr, b[1], ...rest, dwPtr), flops);
  addPartials(backend, job, partials, dwPtr, n);
  return true;
}

/** Depthwise input gradient, split by image. */
export function parallelDepthwiseInputGrad(backend: WasmBackendLike, g: DepthwiseGeom, dyPtr: number, fPtr: number, dxPtr: number,
  keys: WeightKeys = {}): boolean {
  const [B, H, W, C, mult, OH, OW, KH, KW] = g;
  const flops = 2 * B * OH * OW * KH * KW * C * mult;
  const pool = poolForOp(backend, flops);
  if (!pool || B < 2) return false;
  const mem = heapMemory(backend);
  const job = pool.job();
  const imgIn = H * W * C * 4, imgOut = OH * OW * C * mult * 4;
  const rest = g.slice(1) as unknown as Rest;
  const { b, tasks } = depthwiseShares(pool, g);
  const f = weight(job, keys.filter, mem, fPtr, KH * KW * C * mult * 4);
  for (let p = 1; p + 1 < b.length; p++) {
    const dy = job.input(mem, dyPtr + b[p] * imgOut, (b[p + 1] - b[p]) * imgOut);
    for (const [i0, i1] of tasks(p)) {
      const dx = job.alloc((i1 - i0) * imgIn);
      job.task(p - 1, {
        worker: (h) => h.e.depthwise_input_grad(dy + (i0 - b[p]) * imgOut, f, i1 - i0, ...rest, dx),
        main: () => heapOf(backend).e.depthwise_input_grad(dyPtr + i0 * imgOut, fPtr, i1 - i0, ...rest, dxPtr + i0 * imgIn),
        collect: () => job.output(dx, heapMemory(backend), dxPtr + i0 * imgIn, (i1 - i0) * imgIn),
      });
    }
  }
  job.run(() => heapOf(backend).e.depthwise_input_grad(dyPtr, fPtr, b[1], ...rest, dxPtr), flops);
  return true;
}
