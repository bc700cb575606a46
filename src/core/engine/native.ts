/**
 * Loader for the engine's own WebAssembly module (native/engine.wasm, built from native/engine.c).
 *
 * The module imports tfjs-backend-wasm's heap as its memory, so kernels read and write tensors in place
 * (no copies): pointers are the backend's `memoryOffset`s, scratch space comes from the backend's malloc.
 * One instance per backend heap (a re-created backend gets a fresh instance).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { DataId, TensorInfo } from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm the engine uses. */
export interface WasmBackendLike {
  incRef(dataId: DataId): void;
  readSync(dataId: DataId): ArrayLike<number>;
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32' | 'bool'): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Exports of engine.wasm; all pointers are byte offsets into the backend heap. */
export interface EngineExports {
  sgemm(M: number, N: number, K: number, A: number, sai: number, sap: number, B: number, sbp: number, sbj: number,
    C: number, ldc: number, accumulate: number, ws: number): void;
  im2col(x: number, H: number, W: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number,
    sw: number, dh: number, dw: number, pt: number, pl: number, m0: number, m1: number, col: number): void;
  col2im(col: number, H: number, W: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number,
    sw: number, dh: number, dw: number, pt: number, pl: number, m0: number, m1: number, dx: number): void;
  fill_zero(p: number, n: number): void;
  depthwise_filter_grad(x: number, dy: number, B: number, H: number, W: number, C: number, mult: number, OH: number,
    OW: number, KH: number, KW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
    dW: number): void;
  depthwise_input_grad(dy: number, filt: number, B: number, H: number, W: number, C: number, mult: number, OH: number,
    OW: number, KH: number, KW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
    dx: number): void;
  max_pool_grad(x: number, dy: number, B: number, H: number, W: number, C: number, OH: number, OW: number, KH: number,
    KW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, dx: number): void;
  batch_norm_grad(x: number, dy: number, mean: number, variance: number, scale: number, hasScale: number, N: number,
    C: number, eps: number, dx: number, dmean: number, dvar: number, dscale: number, doffset: number,
    scratch: number): void;
  reduce_rows(x: number, N: number, C: number, scale: number, out: number, partial: number): void;
  broadcast_rows(v: number, N: number, C: number, scale: number, out: number): void;
  mask_grad(dy: number, x: number, n: number, lo: number, loIncl: number, hi: number, hiIncl: number, out: number): void;
  square_grad(dy: number, x: number, n: number, out: number): void;
  slice4d(x: number, d1: number, d2: number, d3: number, b0: number, b1: number, b2: number, b3: number, s0: number,
    s1: number, s2: number, s3: number, out: number): void;
  min_scalar(x: number, n: number, s: number, out: number): void;
  bias_act(out: number, M: number, N: number, bias: number, act: number): void;
  binary_rows(a: number, v: number, N: number, C: number, op: number, out: number): void;
  batch_norm(x: number, N: number, C: number, mean: number, sm: number, variance: number, sv: number, scale: number,
    ss: number, offset: number, so: number, eps: number, out: number, ab: number): void;
  max_scalar(x: number, n: number, s: number, out: number): void;
  adam_update(w: number, m: number, v: number, g: number, n: number, b1: number, c1: number, b2: number, c2: number,
    om1: number, om2: number, eps: number, nlr: number, wo: number, mo: number, vo: number): void;
  gather_rows(x: number, idx: number, n: number, outer: number, dim: number, inner: number, out: number): void;
  segment_sum_f32(x: number, ids: number, rows: number, inner: number, segments: number, out: number): void;
  segment_sum_i32(x: number, ids: number, rows: number, inner: number, segments: number, out: number): void;
}

/** Floats of scratch `sgemm` needs (KC*NC + MC*KC + 32 in engine.c). */
export const SGEMM_WORKSPACE_FLOATS = 256 * 512 + 64 * 256 + 32;

/** The folder holding package.json, found upward from this file (works from src/ under tsx and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('flash engine: cannot find the package root (package.json) above ' + import.meta.url);
    dir = up;
  }
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, EngineExports>();

/** Which build of the engine modules runs: with relaxed SIMD's fused multiply-add, or SIMD128 only. */
export type EngineSimd = 'relaxed' | 'plain';

/** The smallest module using f32x4.relaxed_madd: (func (param v128 v128 v128) (result v128) ...). */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // relaxed_madd
]);

let simd: EngineSimd | undefined;

/** Whether this runtime runs relaxed SIMD, turning on Node 20's flag for it if needed. */
export function relaxedSimdSupported(): boolean {
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  // Node 20's V8 has relaxed SIMD behind this flag; setting it at run time works for modules compiled
  // afterwards (checked by validating the probe again). It enables a wasm feature only, process-wide.
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

/**
 * The engine build this process uses, decided once: the relaxed-SIMD one where the runtime supports it, unless
 * FLASH_ENGINE_SIMD=plain forces the SIMD128-only one (FLASH_ENGINE_SIMD=relaxed fails where unsupported).
 */
export function engineSimd(): EngineSimd {
  if (simd) return simd;
  const want = process.env.FLASH_ENGINE_SIMD ?? 'auto';
  if (want !== 'auto' && want !== 'plain' && want !== 'relaxed') {
    throw new Error(`FLASH_ENGINE_SIMD must be auto, plain or relaxed, got '${want}'`);
  }
  const relaxed = want !== 'plain' && relaxedSimdSupported();
  if (want === 'relaxed' && !relaxed) throw new Error('FLASH_ENGINE_SIMD=relaxed, but this runtime does not validate relaxed SIMD');
  simd = relaxed ? 'relaxed' : 'plain';
  return simd;
}

export function wasmPath(): string {
  const name = engineSimd() === 'relaxed' ? 'engine_relaxed.wasm' : 'engine.wasm';
  return join(packageRoot(), 'src', 'core', 'engine', 'native', name);
}

/** The same code built for a shared memory (the worker threads' module, see threads/pool.ts). */
export function sharedWasmPath(): string {
  const name = engineSimd() === 'relaxed' ? 'engine_shared_relaxed.wasm' : 'engine_shared.wasm';
  return join(packageRoot(), 'src', 'core', 'engine', 'native', name);
}

/**
 * Where an engine computation runs: the exported functions plus scratch space in the memory they work on.
 * On the main thread that is the tfjs heap; for a worker's share, a recorder over the pool's shared memory.
 */
export interface Heap {
  e: EngineExports;
  scratch<T>(floats: number, fn: (p: number) => T): T;
}

/** The main thread's Heap: engine.wasm on the backend's heap, scratch from the backend's malloc. */
export function heapOf(backend: WasmBackendLike): Heap {
  return { e: engineFor(backend), scratch: (floats, fn) => withScratch(backend, floats, fn) };
}

export function heapMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('flash engine: cannot reach the tfjs-backend-wasm heap (no exported memory)');
  }
  return memory;
}

/** The engine module bound to this backend's heap (instantiated on first use). */
export function engineFor(backend: WasmBackendLike): EngineExports {
  const memory = heapMemory(backend);
  let inst = instances.get(memory);
  if (!inst) {
    compiled ??= new WebAssembly.Module(readFileSync(wasmPath()));
    inst = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as EngineExports;
    instances.set(memory, inst);
  }
  return inst;
}

/** Heap address of a tensor's data. */
export function ptr(backend: WasmBackendLike, t: TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error('flash engine: tensor is not on the wasm backend');
  return entry.memoryOffset;
}

/** Runs `fn` with `floats` of scratch on the backend heap, freed afterwards. */
export function withScratch<T>(backend: WasmBackendLike, floats: number, fn: (p: number) => T): T {
  const p = backend.wasm._malloc(Math.max(4, floats * 4)) >>> 0;
  if (p === 0) throw new Error(`flash engine: out of wasm memory (${floats * 4} bytes of scratch)`);
  try {
    return fn(p);
  } finally {
    backend.wasm._free(p);
  }
}

/** Product of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
