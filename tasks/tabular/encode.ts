/**
 * Rows → the feature vectors a tabular model takes, from the saved transform (flash.json `preprocessing`).
 *
 * This module imports nothing, so its compiled file runs unchanged in a browser: `flash export` copies it into the
 * web folder, and the page encodes `{column: value}` objects with the very code predict, evaluate and serve use
 * in Node (preprocess.ts wraps it with file-and-column error messages). The fitting lives in preprocess.ts.
 *
 * Vector layout: per numerical feature its standardised value (a missing cell takes the train median first; a
 * skewed column goes through signed log1p before standardising; a date part is read from its date column), then
 * one 0/1 missing-indicator per numerical feature that had missing train cells, then per categorical column its
 * code (0 = <missing>, 1 = <unknown>, 2… the kept categories) in one slot, read by the model's Embedding layer —
 * or, with `categoricalEncoding: 'onehot'` (and in runs saved before codes existed), a one-hot block
 * [<missing>, <unknown>, …categories].
 */

export const MISSING_CODE = '<missing>';
export const UNKNOWN_CODE = '<unknown>';

/** The parts a date column expands into (each a numerical feature `column:part`). */
export const DATE_PARTS = ['year', 'month', 'weekday', 'yearday'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

export interface NumericSpec {
  /** The feature's name: the column, or `column:part` for a date part. */
  name: string;
  /** A date part: the date column it is read from and which part. */
  date?: { column: string; part: DatePart };
  /** A skewed column's shaping before standardisation (learned on train). */
  transform?: 'signed_log1p';
  median: number;
  /** Mean and std after the transform (what standardisation uses). */
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
  /** How categories enter the vector: a code per column (for an Embedding) or a one-hot block; absent = onehot. */
  categoricalEncoding?: 'embedding' | 'onehot';
  /** Length of the feature vector the model takes. */
  width: number;
  /** A name per vector entry (`bill_length_mm`, `bill_length_mm:missing`, `island` (its code) or `island=Dream`). */
  featureNames: string[];
}

/** Cells that mean "no value" (pandas' default NA strings, the common ones). */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '?']);

/** True when a cell holds no value. */
export function isMissing(cell: string | undefined): boolean {
  return cell === undefined || MISSING.has(cell.trim());
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The cell as a number, or undefined when it is not one (hex, '1,5', words); missing cells are not numbers either. */
export function parseNumber(cell: string): number | undefined {
  const t = cell.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

/** An ISO date or date-time (2024-03-01, 2024-03-01T12:00, 2024/03/01); the time of day is not read. */
export const DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A part of a date cell, or undefined when the cell is not a valid date. Computed from the written year, month
 * and day in UTC, so Node and every browser agree whatever their time zone.
 */
export function datePart(cell: string, part: DatePart): number | undefined {
  const m = DATE.exec(cell.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const check = new Date(t);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined; // 2024-02-31
  if (part === 'year') return y;
  if (part === 'month') return mo;
  if (part === 'weekday') return check.getUTCDay();
  return Math.round((t - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
}

/** sign(v)·log(1 + |v|): compresses a long tail on either side, defined for every number. */
export function signedLog1p(v: number): number {
  return Math.sign(v) * Math.log1p(Math.abs(v));
}

/** A numerical feature's raw value from its cell (a number, or a date part), or undefined when missing or unreadable. */
export function rawValue(spec: Pick<NumericSpec, 'date'>, cell: string | undefined): number | undefined {
  if (isMissing(cell)) return undefined;
  return spec.date ? datePart(cell!, spec.date.part) : parseNumber(cell!);
}

/** A raw value shaped by the feature's transform (before standardisation). */
export function shaped(spec: Pick<NumericSpec, 'transform'>, v: number): number {
  return spec.transform === 'signed_log1p' ? signedLog1p(v) : v;
}

/** The column a numerical feature reads. */
export function sourceColumn(spec: Pick<NumericSpec, 'name' | 'date'>): string {
  return spec.date?.column ?? spec.name;
}

/** What `encodeRows` counted: cells it had to fill in, so predict can say so in one line. */
export interface TransformCounts {
  /** Missing (or unparsable) numerical cells filled with the train median. */
  missingNumbers: number;
  /** Missing categorical cells (<missing>). */
  missingCategories: number;
  /** Categories not kept in training (<unknown>), by column. */
  unknown: Record<string, number>;
}

/**
 * Rows of string cells (in `columns` order) as feature vectors, row-major [n × width]. Every column the transform
 * reads must be in `columns` (callers check first, to name the file); an absent one throws.
 */
export function encodeRows(p: Preprocessing, columns: string[], rows: string[][]): { x: Float32Array; n: number; counts: TransformCounts } {
  const at = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`no column '${name}' (a feature of the model); the columns are ${columns.join(', ')}`);
    return i;
  };
  const numCols = p.numerical.map((s) => at(sourceColumn(s)));
  const catCols = p.categorical.map((s) => at(s.name));
  const codes = p.categorical.map((s) => new Map(s.categories.map((v, i) => [v, i + 2])));
  const indicatorAt = new Map<number, number>();
  let pos = p.numerical.length;
  p.numerical.forEach((s, j) => s.indicator && indicatorAt.set(j, pos++));
  const oneHot = p.categoricalEncoding !== 'embedding';
  const blockAt: number[] = [];
  p.categorical.forEach((s) => {
    blockAt.push(pos);
    pos += oneHot ? s.categories.length + 2 : 1;
  });
  const n = rows.length;
  const x = new Float32Array(n * p.width);
  const counts: TransformCounts = { missingNumbers: 0, missingCategories: 0, unknown: {} };
  rows.forEach((r, i) => {
    const base = i * p.width;
    p.numerical.forEach((s, j) => {
      const v = rawValue(s, r[numCols[j]]);
      if (v === undefined) counts.missingNumbers++;
      x[base + j] = (shaped(s, v ?? s.median) - s.mean) / s.std;
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
        code = codes[j].get(cell.trim()) ?? 1;
        if (code === 1) counts.unknown[s.name] = (counts.unknown[s.name] ?? 0) + 1;
      }
      if (oneHot) x[base + blockAt[j] + code] = 1;
      else x[base + blockAt[j]] = code;
    });
  });
  return { x, n, counts };
}

/** Where the model finds each part of the vector: the numerical block, and (embedding encoding) each column's code slot. */
export interface InputLayout {
  /** Entries before the categorical part (numerical values and missing-indicators). */
  numeric: number;
  /** Per categorical column: its code's slot and how many codes it has (kept categories + 2). Empty for one-hot. */
  codes: { name: string; slot: number; size: number }[];
}

/** The vector layout of a transform. */
export function inputLayout(p: Preprocessing): InputLayout {
  const numeric = p.numerical.length + p.numerical.filter((s) => s.indicator).length;
  if (p.categoricalEncoding !== 'embedding') return { numeric: p.width, codes: [] };
  return { numeric, codes: p.categorical.map((s, j) => ({ name: s.name, slot: numeric + j, size: s.categories.length + 2 })) };
}

/** Plain objects `{column: value}` as string rows (null and undefined are missing), columns from the objects' keys. */
export function recordsToRows(records: Record<string, unknown>[]): { columns: string[]; rows: string[][] } {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  const rows = records.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  return { columns, rows };
}
