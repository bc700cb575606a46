import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Recipe } from '../config/index.js';
import { FlashUserError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';

/**
 * The part of `flash.json` every task writes: which task made the run, with what recipe and versions, and how
 * it went. A task adds its own fields beside these (labels, input spec, …), written and read by its module.
 */
export interface RunMeta {
  task: string;
  /** The fully resolved recipe the run used. */
  recipe: Recipe;
  versions: { flash: string; tfjs: string; node: string };
  backend: string;
  /** Epoch (1-based) of the saved model, and the metrics of that epoch plus test metrics when there was a test split. */
  best_epoch?: number;
  metrics: Record<string, number>;
  /** Sample counts per split. */
  data: Record<string, number>;
  created: string;
  /** running while a run writes it; failed or interrupted when it ended so (a hard kill leaves running, and no live lock). */
  status: 'running' | 'completed' | 'stopped' | 'interrupted' | 'failed';
}

const require = createRequire(import.meta.url);

/** flash's own version, read from its package.json (source tree or dist/). */
export function flashVersion(): string {
  for (const rel of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'flash' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

export function versions(): RunMeta['versions'] {
  return { flash: flashVersion(), tfjs: tf.version.tfjs, node: process.versions.node };
}

/** Reads a run folder's flash.json: "not a flash run folder" when it is missing, a clear line when it is not JSON. */
export async function readRunMeta<T extends RunMeta = RunMeta>(runDir: string): Promise<T> {
  const path = join(runDir, 'flash.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FlashUserError(`'${runDir}' is not a flash run folder (no flash.json)`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    throw new FlashUserError(`'${path}' is not valid JSON`);
  }
  if (typeof meta !== 'object' || meta === null || typeof (meta as { task?: unknown }).task !== 'string') {
    throw new FlashUserError(`'${path}' names no task: not a flash run folder`);
  }
  return meta as T;
}

/** The task a run folder belongs to (its flash.json's `task`). */
export async function taskOfRun(runDir: string): Promise<string> {
  return (await readRunMeta(runDir)).task;
}

export async function writeRunMeta(runDir: string, meta: RunMeta & Record<string, unknown>): Promise<void> {
  await writeJsonAtomic(join(runDir, 'flash.json'), meta);
}

/** `runs/<task>-20261123-201500` (under cwd; `parent` for other kinds of folder: `sweeps`). */
export function defaultRunDir(cwd: string, task: string, parent = 'runs'): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  const base = resolve(cwd, parent, `${task}-${stamp}`);
  // Two runs started in the same second get their own folders.
  for (let i = 2; ; i++) if (!existsSync(i === 2 ? base : `${base}-${i - 1}`)) return i === 2 ? base : `${base}-${i - 1}`;
}


