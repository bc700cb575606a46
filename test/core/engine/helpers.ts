import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { registerWasmTrainingKernels } from '../../../src/core/engine/index.js';

let ready: Promise<void> | undefined;

/** Registers the engine and initialises both the wasm and cpu backends (once per process). */
export function setup(): Promise<void> {
  ready ??= (async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return ready;
}

/** Deterministic uniform(-1, 1) values. */
export function random(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs `fn` on `backend` and returns every output's values. */
export async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const values = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return values;
}

/** max|a-b| ≤ tol × max(|ref|, tiny). */
export function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0, diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(Number.isFinite(diff) && diff <= tol * Math.max(scale, 1e-6), `${what}: max diff ${diff} vs scale ${scale}`);
}
