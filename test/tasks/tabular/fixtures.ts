/** Small tables the tabular tests write: a learnable signal, and whatever mess a test asks for. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { transform, type Preprocessing } from '../../../tasks/tabular/preprocess.js';
import { readTable } from '../../../tasks/tabular/table.js';

/** A seeded uniform generator for the tables. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

const COLORS = ['red', 'green', 'blue'];

export interface ToyRow {
  x1: number;
  x2: number;
  color: string;
  /** class: 'a' when x1 + colour shift > 0, else 'b'. */
  cls: string;
  /** value: 3·x1 − 2·x2 + 5·[color = blue] + 10. */
  value: number;
}

/** `n` rows of the toy signal. */
export function toyRows(n: number, seed: number): ToyRow[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => {
    const x1 = r() * 4 - 2;
    const x2 = r() * 4 - 2;
    const color = COLORS[Math.floor(r() * 3)];
    const shift = color === 'red' ? 1 : color === 'green' ? -1 : 0;
    return { x1, x2, color, cls: x1 + shift > 0 ? 'a' : 'b', value: 3 * x1 - 2 * x2 + (color === 'blue' ? 5 : 0) + 10 };
  });
}

/** Writes a CSV of the toy rows with the columns given (header first). */
export async function writeToyCsv(path: string, rows: ToyRow[], cols: (keyof ToyRow)[] = ['x1', 'x2', 'color', 'cls', 'value']): Promise<void> {
  await writeFile(path, [cols.join(','), ...rows.map((row) => cols.map((c) => (typeof row[c] === 'number' ? (row[c] as number).toFixed(4) : row[c])).join(','))].join('\n') + '\n');
}

/** The run's saved transform applied to a CSV, as the tensor model.json takes (no flash predict code). */
export async function modelInputsOf(csv: string, runDir: string): Promise<tf.Tensor> {
  const meta = JSON.parse(await readFile(join(runDir, 'flash.json'), 'utf8')) as { preprocessing: Preprocessing };
  const { x, n } = transform(meta.preprocessing, readTable(csv));
  return tf.tensor2d(x, [n, meta.preprocessing.width]);
}
