/**
 * The feature transform, learned on the training split only and saved with the run (flash.json `preprocessing`),
 * so predict and evaluate apply exactly what training did — never statistics of the rows being predicted.
 *
 * Vector layout: per numerical column its standardised value (a missing cell takes the train median first),
 * then one 0/1 missing-indicator per numerical column that had missing train cells, then per categorical column a
 * one-hot block [<missing>, <unknown>, …categories] (categories seen fewer than `minCount` times in train fold
 * into <unknown>, so <unknown> is trained on something). A one-hot block into the first Dense layer is exactly a
 * learned embedding of the category.
 */
import { FlashUserError } from '../../src/core/errors.js';
import type { Fields } from './infer.js';
import { columnIndex, isMissing, parseNumber, type Table } from './table.js';

export const MISSING_CODE = '<missing>';
export const UNKNOWN_CODE = '<unknown>';

export interface NumericSpec {
  name: string;
  median: number;
  mean: number;
  std: number;
  /** Whether the vector carries a missing-indicator for it (train had missing cells). */
  indicator: boolean;
}

export interface CategoricalSpec {
  name: string;
  /** Kept categories, sorted; code i+2 (0 = <missing>, 1 = <unknown>). */
  categories: string[];
  /** Train categories folded into <unknown> for being rare. */
  folded: number;
}

/** The saved transform (JSON). */
export interface Preprocessing {
  version: 1;
  numerical: NumericSpec[];
  categorical: CategoricalSpec[];
  minCategoryCount: number;
  /** Length of the feature vector the model takes. */
  width: number;
  /** A name per vector entry (`bill_length_mm`, `bill_length_mm:missing`, `island=Dream`). */
  featureNames: string[];
}

/** A bad numeric cell: skipped (train) or taken as missing (predict), or fatal with --trainer.strict. */
export interface BadCell {
  line: number;
  column: string;
  value: string;
}

/** Rows of a table whose numerical cells all parse; the others listed. */
export function badNumericCells(table: Table, numerical: string[]): BadCell[] {
  const bad: BadCell[] = [];
  const cols = numerical.map((n) => [n, table.columns.indexOf(n)] as const).filter(([, i]) => i >= 0);
  table.rows.forEach((r, i) => {
    for (const [name, c] of cols) if (!isMissing(r[c]) && parseNumber(r[c]) === undefined) bad.push({ line: table.lines[i], column: name, value: r[c] });
  });
  return bad;
}

/** One line naming a bad cell. */
export function badCellMessage(file: string, b: BadCell): string {
  return `${file}: line ${b.line}, column '${b.column}': '${b.value}' is not a number (a numerical field)`;
}

function median(sorted: number[]): number {
  const n = sorted.length;
  return n === 0 ? 0 : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Learns the transform from the training rows. */
export function fitPreprocessing(table: Table, fields: Fields, minCategoryCount: number): Preprocessing {
  const numerical = fields.numerical.map((name): NumericSpec => {
    const c = columnIndex(table, name, '--numerical_fields');
    const cells = table.rows.map((r) => (isMissing(r[c]) ? undefined : parseNumber(r[c])));
    const present = cells.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    const med = median(present);
    const filled = cells.map((v) => v ?? med);
    const mean = filled.reduce((s, v) => s + v, 0) / Math.max(1, filled.length);
    const sd = Math.sqrt(filled.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, filled.length));
    // A constant column keeps scale 1 (dividing by 0 would make NaN features).
    return { name, median: med, mean, std: sd > 1e-12 ? sd : 1, indicator: present.length < cells.length };
  });
  const categorical = fields.categorical.map((name): CategoricalSpec => {
    const c = columnIndex(table, name, '--categorical_fields');
    const counts = new Map<string, number>();
    for (const r of table.rows) if (!isMissing(r[c])) counts.set(r[c], (counts.get(r[c]) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCategoryCount).map(([v]) => v).sort();
    return { name, categories: kept, folded: counts.size - kept.length };
  });
  const featureNames = [
    ...numerical.map((s) => s.name),
    ...numerical.filter((s) => s.indicator).map((s) => `${s.name}:missing`),
    ...categorical.flatMap((s) => [MISSING_CODE, UNKNOWN_CODE, ...s.categories].map((v) => `${s.name}=${v}`)),
  ];
  return { version: 1, numerical, categorical, minCategoryCount, width: featureNames.length, featureNames };
}

/** What `transform` counted: cells it had to fill in, so predict can say so in one line. */
export interface TransformCounts {
  /** Missing (or unparsable) numerical cells filled with the train median. */
  missingNumbers: number;
  /** Missing categorical cells (<missing>). */
  missingCategories: number;
  /** Categories not kept in training (<unknown>), by column. */
  unknown: Record<string, number>;
}

/** The table's rows as feature vectors (row-major [n × width]); a missing column is an error naming it. */
export function transform(p: Preprocessing, table: Table): { x: Float32Array; n: number; counts: TransformCounts } {
  const numCols = p.numerical.map((s) => columnIndex(table, s.name, 'a numerical feature of the model'));
  const catCols = p.categorical.map((s) => columnIndex(table, s.name, 'a categorical feature of the model'));
  const codes = p.categorical.map((s) => new Map(s.categories.map((v, i) => [v, i + 2])));
  const indicatorAt = new Map<number, number>();
  let pos = p.numerical.length;
  p.numerical.forEach((s, j) => s.indicator && indicatorAt.set(j, pos++));
  const blockAt: number[] = [];
  p.categorical.forEach((s) => {
    blockAt.push(pos);
    pos += s.categories.length + 2;
  });
  const n = table.rows.length;
  const x = new Float32Array(n * p.width);
  const counts: TransformCounts = { missingNumbers: 0, missingCategories: 0, unknown: {} };
  table.rows.forEach((r, i) => {
    const base = i * p.width;
    p.numerical.forEach((s, j) => {
      const cell = r[numCols[j]];
      const v = isMissing(cell) ? undefined : parseNumber(cell);
      if (v === undefined) counts.missingNumbers++;
      x[base + j] = ((v ?? s.median) - s.mean) / s.std;
      const ind = indicatorAt.get(j);
      if (ind !== undefined && v === undefined) x[base + ind] = 1;
    });
    p.categorical.forEach((s, j) => {
      const cell = r[catCols[j]];
      let code: number;
      if (isMissing(cell)) {
        code = 0;
        counts.missingCategories++;
      } else {
        code = codes[j].get(cell) ?? 1;
        if (code === 1) counts.unknown[s.name] = (counts.unknown[s.name] ?? 0) + 1;
      }
      x[base + blockAt[j] + code] = 1;
    });
  });
  return { x, n, counts };
}

/** One line saying what was filled in, or undefined when nothing was. */
export function countsLine(c: TransformCounts): string | undefined {
  const unknown = Object.entries(c.unknown);
  const parts = [
    ...(c.missingNumbers ? [`${c.missingNumbers} missing numbers (train median)`] : []),
    ...(c.missingCategories ? [`${c.missingCategories} missing categories (${MISSING_CODE})`] : []),
    ...(unknown.length ? [`${unknown.reduce((s, [, k]) => s + k, 0)} unseen categories (${UNKNOWN_CODE}: ${unknown.map(([col, k]) => `${col} ${k}`).join(', ')})`] : []),
  ];
  return parts.length ? `filled in: ${parts.join('; ')}` : undefined;
}

/** Columns of a table the model does not read (ignored, and said). */
export function extraColumns(p: Preprocessing, table: Table, also: string[] = []): string[] {
  const used = new Set([...p.numerical.map((s) => s.name), ...p.categorical.map((s) => s.name), ...also]);
  return table.columns.filter((c) => !used.has(c));
}

/** The saved transform, checked enough that a hand-edited flash.json fails with a line instead of NaNs. */
export function checkPreprocessing(p: unknown, where: string): Preprocessing {
  const q = p as Preprocessing | undefined;
  if (!q || q.version !== 1 || !Array.isArray(q.numerical) || !Array.isArray(q.categorical) || typeof q.width !== 'number') {
    throw new FlashUserError(`${where}: no valid 'preprocessing' in flash.json (not a tabular run, or an edited file)`);
  }
  return q;
}
