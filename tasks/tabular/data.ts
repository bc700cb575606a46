/**
 * The data side of a tabular run: the CSVs read and checked, the target decoded, the validation split held out
 * (seeded; stratified for classes), the transform fitted on the train split only, and each split as feature vectors.
 */
import type { TabularCommonDataRecipe } from './schema.js';
import { mulberry32 } from '../../src/core/random.js';
import * as tf from '@tensorflow/tfjs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { FlashUserError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/package_root.js';
import type { Batch, BatchOptions, DataModuleLike, DataSplit } from '../../src/core/trainer/types.js';
import { chooseFields, type FieldChoice } from './infer.js';
import { badCellMessage, badNumericCells, countsLine, fitPreprocessing, transform, type Preprocessing } from './preprocess.js';
import { columnIndex, isMissing, parseNumber, readTable, type Table } from './table.js';

/** The bundled demo table: Palmer penguins (CC0, data/demo/penguins/). */
export function demoCsv(): string {
  return join(packageRoot(), 'data', 'demo', 'penguins', 'penguins.csv');
}

/** A deterministic generator (mulberry32): the same seed, the same split and epoch order. */
export const rng = mulberry32;

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Feature vectors and targets of one split: class indices (int32) or values in target units (float32). */
export class TableSplit implements DataSplit {
  constructor(
    readonly x: Float32Array,
    readonly width: number,
    readonly y: Int32Array | Float32Array,
  ) {}
  get size(): number {
    return this.y.length;
  }
  async *batches(opts: BatchOptions): AsyncIterable<Batch> {
    const order = this.y.length ? Array.from({ length: this.y.length }, (_, i) => i) : [];
    if (opts.shuffle) shuffle(order, rng((opts.seed ?? 0) * 1_000_003 + (opts.epoch ?? 0)));
    for (let i = 0; i < order.length; i += opts.batchSize) {
      const idx = order.slice(i, i + opts.batchSize);
      const xb = new Float32Array(idx.length * this.width);
      idx.forEach((k, r) => xb.set(this.x.subarray(k * this.width, (k + 1) * this.width), r * this.width));
      const y = this.y instanceof Int32Array ? tf.tensor1d(idx.map((k) => this.y[k]), 'int32') : tf.tensor1d(idx.map((k) => this.y[k]), 'float32');
      yield { x: tf.tensor2d(xb, [idx.length, this.width]), y, ids: idx.map(String) };
    }
  }
}

/** How a task reads its target column. */
export interface TargetCodec {
  kind: 'classification' | 'regression';
  /** Learns from the train targets (class list, or mean and std); throws on a useless target. */
  fit(values: string[], file: string, target: string): void;
  /** Re-learns what it can from the train split's encoded targets alone, once the val rows are held out. */
  fitTrain?(codes: number[]): void;
  /** A target cell → class index or value; a message when it cannot be one. */
  encode(cell: string): number | string;
  /** What flash.json keeps of the target. */
  meta(): Record<string, unknown>;
}

export interface TabularData extends DataModuleLike {
  readonly train: TableSplit;
  readonly val?: TableSplit;
  readonly test?: TableSplit;
  preprocessing: Preprocessing;
  target: string;
  fields: FieldChoice;
}

/** The data keys a tabular builder reads. */
export type TabularDataKeys = TabularCommonDataRecipe & { batch_size: number; val_split: number };

/** A path as messages show it: relative to the working folder when inside it. */
export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function subset(t: Table, keep: number[]): Table {
  return { file: t.file, columns: t.columns, rows: keep.map((i) => t.rows[i]), lines: keep.map((i) => t.lines[i]) };
}

/**
 * Reads and prepares every split. `saved` (resume) reuses the run's transform instead of fitting a new one.
 * `say` prints the run's notes: fields decided, rows dropped, the split.
 */
export function buildTabularData(
  d: TabularDataKeys,
  opts: {
    target: string;
    codec: TargetCodec;
    cwd: string;
    seed: number;
    strict: boolean;
    say: (line: string) => void;
    saved?: { preprocessing: Preprocessing; fields: FieldChoice };
    /** Tables already in memory (the TypeScript API's fromRecords), instead of the data keys' files. */
    tables?: { train: Table; val?: Table; test?: Table };
  },
): TabularData {
  const { target, codec, cwd, say } = opts;
  const trainPath = d.train_file === null ? demoCsv() : resolve(cwd, d.train_file);
  const read = (path: string) => readTable(path, shown(path, cwd));
  const full = opts.tables?.train ?? read(trainPath);
  const fields = opts.saved?.fields ?? chooseFields(full, [target], { categorical: d.categorical_fields, numerical: d.numerical_fields });
  if (!opts.saved) fields.notes.forEach(say);

  /** A table's usable rows: a target, and (train) numbers where numbers belong. */
  const clean = (t: Table, role: string): { table: Table; codes: number[] } => {
    const tc = columnIndex(t, target, 'the target');
    const keep: number[] = [];
    const codes: number[] = [];
    let noTarget = 0;
    const bad = new Map(badNumericCells(t, fields.numerical).map((b) => [b.line, b]));
    if (bad.size && opts.strict) throw new FlashUserError(badCellMessage(t.file, bad.values().next().value!));
    t.rows.forEach((r, i) => {
      if (isMissing(r[tc])) return void noTarget++;
      if (bad.has(t.lines[i])) return;
      const code = codec.encode(r[tc]);
      if (typeof code === 'string') throw new FlashUserError(`${t.file}: line ${t.lines[i]}, column '${target}': ${code}`);
      keep.push(i);
      codes.push(code);
    });
    if (noTarget) say(`${t.file}: ${noTarget} ${role} rows without a '${target}' value left out`);
    if (bad.size) {
      say(`warning: ${t.file}: ${bad.size} rows skipped for a non-number in a numerical field (first: ${badCellMessage(t.file, bad.values().next().value!).replace(`${t.file}: `, '')}); --trainer.strict true makes this fatal`);
    }
    if (keep.length === 0) throw new FlashUserError(`${t.file}: no usable ${role} rows`);
    return { table: subset(t, keep), codes };
  };

  // The target is learned from the whole train file before the split, so a class held out in val is known.
  const tc = columnIndex(full, target, 'the target');
  codec.fit(full.rows.map((r) => r[tc]).filter((v) => !isMissing(v)), full.file, target);
  const train = clean(full, 'train');
  let trainTable = train.table;
  let trainCodes = train.codes;
  let val: { table: Table; codes: number[] } | undefined;
  const valTable = opts.tables?.val ?? (d.val_file !== null ? read(resolve(cwd, d.val_file)) : undefined);
  if (valTable) {
    val = clean(valTable, 'val');
  } else if (d.val_split > 0) {
    const held = holdOut(trainCodes, d.val_split, opts.seed, codec.kind === 'classification');
    if (held.length > 0 && held.length < trainCodes.length) {
      const heldSet = new Set(held);
      const rest = trainCodes.map((_, i) => i).filter((i) => !heldSet.has(i));
      val = { table: subset(trainTable, held), codes: held.map((i) => trainCodes[i]) };
      trainTable = subset(trainTable, rest);
      trainCodes = rest.map((i) => trainCodes[i]);
      say(`validation: ${held.length} of ${held.length + rest.length} train rows held out (--data.val_split ${d.val_split}${codec.kind === 'classification' ? ', stratified' : ''}, seeded)`);
    }
  }
  const testTable = opts.tables?.test ?? (d.test_file !== null ? read(resolve(cwd, d.test_file)) : undefined);
  const test = testTable ? clean(testTable, 'test') : undefined;
  codec.fitTrain?.(trainCodes);

  const shapedNotes: string[] = [];
  const preprocessing = opts.saved?.preprocessing ?? fitPreprocessing(trainTable, fields, d.min_category_count, shapedNotes, d.categorical_encoding ?? 'embedding');
  shapedNotes.forEach(say);
  const folded = preprocessing.categorical.filter((c) => c.folded > 0);
  if (!opts.saved && folded.length) {
    say(`rare categories (fewer than ${d.min_category_count} train rows) fold into <unknown>: ${folded.map((c) => `${c.name} ${c.folded}`).join(', ')}`);
  }
  const asSplit = (s: { table: Table; codes: number[] }, role: string) => {
    const { x, counts } = transform(preprocessing, s.table);
    const line = countsLine(counts);
    if (line && role !== 'train') say(`${role}: ${line}`);
    return new TableSplit(x, preprocessing.width, codec.kind === 'classification' ? Int32Array.from(s.codes) : Float32Array.from(s.codes));
  };
  return {
    train: asSplit({ table: trainTable, codes: trainCodes }, 'train'),
    val: val && asSplit(val, 'val'),
    test: test && asSplit(test, 'test'),
    batchSize: d.batch_size,
    preprocessing,
    target,
    fields,
  };
}

/** Indices held out for validation: `fraction` of the rows, per class when stratified (a class of one stays in train). */
function holdOut(codes: number[], fraction: number, seed: number, stratified: boolean): number[] {
  const rand = rng(seed * 7919 + 1);
  const groups = new Map<number, number[]>();
  codes.forEach((c, i) => {
    const key = stratified ? c : 0;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  });
  const held: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const idx = shuffle(groups.get(key)!, rand);
    const k = idx.length < 2 ? 0 : Math.max(1, Math.round(idx.length * fraction));
    held.push(...idx.slice(0, Math.min(k, idx.length - 1)));
  }
  return held.sort((a, b) => a - b);
}

/** Class codec: labels sorted, at least two. */
export function classCodec(): TargetCodec & { labels: string[] } {
  const c = {
    kind: 'classification' as const,
    labels: [] as string[],
    fit(values: string[], file: string, target: string) {
      c.labels = [...new Set(values)].sort();
      if (c.labels.length < 2) throw new FlashUserError(`${file}: the target '${target}' has ${c.labels.length === 0 ? 'no values' : `one value ('${c.labels[0]}')`}; a classifier needs at least two classes`);
    },
    encode(cell: string) {
      const i = c.labels.indexOf(cell);
      return i >= 0 ? i : `class '${cell}' is not in the training data (classes: ${c.labels.join(', ')})`;
    },
    meta: () => ({ labels: c.labels }),
  };
  return c;
}

/** Regression codec: numbers; mean and std of the train targets for standardising them. */
export function valueCodec(): TargetCodec & { mean: number; std: number } {
  const c = {
    kind: 'regression' as const,
    mean: 0,
    std: 1,
    fit(values: string[], file: string, target: string) {
      const nums = values.map(parseNumber);
      const bad = values.find((_, i) => nums[i] === undefined);
      if (bad !== undefined) throw new FlashUserError(`${file}: the target '${target}' holds '${bad}', not a number; regression needs a numeric target (tabular_classification predicts classes)`);
      const v = nums as number[];
      const distinct = new Set(v).size;
      if (distinct < 2) throw new FlashUserError(`${file}: the target '${target}' has ${distinct === 0 ? 'no values' : `one value (${v[0]})`}; nothing to learn`);
      c.fitTrain(v);
    },
    // Standardisation comes from the train split only, like every other statistic of the run.
    fitTrain(v: number[]) {
      c.mean = v.reduce((s, x) => s + x, 0) / v.length;
      c.std = Math.sqrt(v.reduce((s, x) => s + (x - c.mean) ** 2, 0) / v.length) || 1;
    },
    encode(cell: string) {
      return parseNumber(cell) ?? `'${cell}' is not a number`;
    },
    meta: () => ({ target_mean: c.mean, target_std: c.std }),
  };
  return c;
}
