import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from './errors.js';
import { Registry } from './registry.js';

/** Outcome of trying to load one backend. */
export type BackendLoad = { ok: true; tfName: string } | { ok: false; why: string };

/** A TensorFlow.js backend flash can run on, tried in registration order by `auto`. */
export interface BackendProvider {
  description: string;
  /** Makes the backend available (imports its package, registers kernels); never throws. */
  load(): Promise<BackendLoad>;
}

/** Imports an optional package by name; undefined when it is not installed or fails to load. */
async function importOptional(name: string): Promise<{ error?: string }> {
  try {
    await import(name);
    return {};
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return { error: `${name} is not installed` };
    return { error: `${name} failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** tfjs-node(-gpu) register a backend called 'tensorflow'; the GPU build says so in its kernel backend. */
function nativeProvider(pkg: string, description: string): BackendProvider {
  return {
    description,
    async load() {
      const { error } = await importOptional(pkg);
      if (error) return { ok: false, why: error };
      if (!tf.findBackendFactory('tensorflow')) return { ok: false, why: `${pkg} loaded but registered no backend` };
      return { ok: true, tfName: 'tensorflow' };
    },
  };
}

/** Backends in the order `auto` prefers them: fastest first. */
export const backends = new Registry<BackendProvider>('backend');
backends.register(
  'tensorflow-gpu',
  nativeProvider('@tensorflow/tfjs-node-gpu', 'libtensorflow with CUDA (optional: npm install @tensorflow/tfjs-node-gpu)'),
  'libtensorflow with CUDA (optional @tensorflow/tfjs-node-gpu)',
);
backends.register(
  'tensorflow',
  nativeProvider('@tensorflow/tfjs-node', 'native libtensorflow (optional: npm install @tensorflow/tfjs-node)'),
  'native libtensorflow on the CPU (optional @tensorflow/tfjs-node)',
);
backends.register(
  'wasm',
  {
    description: 'WebAssembly (XNNPACK, SIMD) with flash\'s training kernels; ships with flash',
    async load() {
      const { error } = await importOptional('@tensorflow/tfjs-backend-wasm');
      if (error) return { ok: false, why: error };
      const engine = await import('./engine/index.js');
      engine.registerWasmTrainingKernels();
      return { ok: true, tfName: 'wasm' };
    },
  },
  "WebAssembly (XNNPACK, SIMD) plus flash's training kernels; ships with flash",
);
backends.register(
  'cpu',
  {
    description: 'pure JavaScript; always available, 20–100× slower than wasm',
    async load() {
      return { ok: true, tfName: 'cpu' };
    },
  },
  'pure JavaScript; always available, 20–100× slower than wasm',
);

/** What `selectBackend` chose and why the faster ones were passed over. */
export interface BackendChoice {
  /** flash's name for it (`wasm`, `tensorflow`, …). */
  name: string;
  /** tfjs's name for it (`tf.getBackend()`). */
  tfName: string;
  skipped: { name: string; why: string }[];
  /** Its threads, in words: `flash engine, 2 threads` (wasm), `1 thread` (cpu), `libtensorflow's thread pool`. */
  threads: string;
}

/** Options of `selectBackend`. */
export interface BackendOptions {
  /** CPU threads for flash's wasm engine (recipe `trainer.threads`); null/undefined = all cores. */
  threads?: number | null;
}

/** Applies the thread count where flash controls it (wasm) and says what is true for the backend. */
async function applyThreads(tfName: string, threads: number | null | undefined): Promise<string> {
  if (tfName === 'wasm') {
    const { setEngineThreads, defaultEngineThreads } = await import('./engine/threads/config.js');
    const n = threads ?? defaultEngineThreads();
    setEngineThreads(tf.backend(), n);
    return `flash engine, ${n} thread${n === 1 ? '' : 's'}`;
  }
  const note = threads == null ? '' : '; --trainer.threads applies to wasm only';
  if (tfName === 'cpu') return `1 thread${note}`;
  return `libtensorflow's own thread pool${note}`;
}

/**
 * Activates a backend: the requested one, or with `auto` the first in the registry that loads and initialises.
 * Also turns tfjs's production mode on (skips debug checks, silences its "install tfjs-node" banner) and, on
 * wasm, sets the engine's thread count (`options.threads`, default all cores).
 */
export async function selectBackend(requested = 'auto', options: BackendOptions = {}): Promise<BackendChoice> {
  const { threads } = options;
  if (threads != null && (!Number.isInteger(threads) || threads < 1)) {
    throw new FlashUserError(`threads must be a whole number ≥ 1 (or null for all cores), got ${threads}`);
  }
  tf.env().set('PROD', true);
  const candidates = requested === 'auto' ? backends.names() : [backends.has(requested) ? requested : (backends.get(requested), requested)];
  const skipped: { name: string; why: string }[] = [];
  for (const name of candidates) {
    const loaded = await backends.get(name).load();
    if (!loaded.ok) {
      skipped.push({ name, why: loaded.why });
      continue;
    }
    let ok = false;
    try {
      ok = await tf.setBackend(loaded.tfName);
      await tf.ready();
    } catch (err) {
      skipped.push({ name, why: `failed to initialise: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    if (!ok) {
      skipped.push({ name, why: 'failed to initialise' });
      continue;
    }
    return { name, tfName: loaded.tfName, skipped, threads: await applyThreads(loaded.tfName, threads) };
  }
  const reasons = skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
  throw new FlashUserError(`backend '${requested}' is not available (${reasons})`);
}

/** One line for the run log: "backend wasm (flash engine, 2 threads; skipped tensorflow-gpu: … not installed; …)". */
export function describeBackend(choice: BackendChoice): string {
  const skipped = choice.skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
  return `backend ${choice.name} (${choice.threads}${skipped ? `; skipped ${skipped}` : ''})`;
}
