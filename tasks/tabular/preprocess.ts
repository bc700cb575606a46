/**
 * The feature transform, learned on the training split only and saved with the run (flash.json `preprocessing`),
 * so predict and evaluate apply exactly what training did — never statistics of the rows being predicted.
 *
 * The vector layout and the row encoding are in encode.ts (imports nothing, so `flash export` ships it to the
 * browser); this module fits the transform: medians, means and stds (after signed log1p for a skewed column), date
 * parts, and the kept categories (seen fewer than `minCount` times in train: folded into <unknown>, so <unknown>
 * is trained on something).
 */
import { FlashUserError } from '../../src/core/errors.js';
import { DATE_PARTS, encodeRows, isMissing, MISSING_CODE, parseNumber, rawValue, signedLog1p, sourceColumn, UNKNOWN_CODE, type CategoricalSpec, type NumericSpec, type Preprocessing, type TransformCounts } from './encode.js';
import type { Fields } from './infer.js';
import { columnIndex, type Table } from './table.js';

export { MISSING_CODE, UNKNOWN_CODE, type CategoricalSpec, type NumericSpec, type Preprocessing, type TransformCounts };

/** |skewness| above which a numerical column is shaped by signed log1p (when that at least halves the skew). */
export const SKEW_THRESHOLD = 2;

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

function skewness(v: number[]): number {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const m2 = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  const m3 = v.reduce((a, b) => a + (b - mean) ** 3, 0) / n;
  return m2 > 1e-24 ? m3 / m2 ** 1.5 : 0;
}

/** One numerical feature's statistics from its train cells (date parts and skew shaping included). */
function fitNumeric(table: Table, spec: Pick<NumericSpec, 'name' | 'date'>, role: string): NumericSpec & { skew?: [number, number] } {
  const c = columnIndex(table, sourceColumn(spec), role);
  const cells = table.rows.map((r) => rawValue(spec, r[c]));
  const present = cells.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const med = median(present);
  const filled = cells.map((v) => v ?? med);
  let transform: NumericSpec['transform'];
  let skew: [number, number] | undefined;
  if (!spec.date && new Set(present).size > 2) {
    // A long tail squeezes most rows into a sliver of the standardised range; log1p spreads them out. Kept only
    // when it clearly helps (halves |skew|), so a bounded column with a few outliers stays linear.
    const before = skewness(filled);
    const after = Math.abs(before) > SKEW_THRESHOLD ? skewness(filled.map(signedLog1p)) : before;
    if (Math.abs(before) > SKEW_THRESHOLD && Math.abs(after) < Math.abs(before) / 2) (transform = 'signed_log1p'), (skew = [before, after]);
  }
  const values = transform ? filled.map(signedLog1p) : filled;
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, values.length));
  // A constant column keeps scale 1 (dividing by 0 would make NaN features).
  return { ...spec, ...(transform ? { transform } : {}), median: med, mean, std: sd > 1e-12 ? sd : 1, indicator: present.length < cells.length, ...(skew ? { skew } : {}) };
}

/** Learns the transform from the training rows; `notes` gets a line per shaped (skewed) column. */
export function fitPreprocessing(table: Table, fields: Fields & { dates?: string[] }, minCategoryCount: number, notes: string[] = [], categoricalEncoding: 'embedding' | 'onehot' = 'onehot'): Preprocessing {
  const specs = [
    ...fields.numerical.map((name) => fitNumeric(table, { name }, '--numerical_fields')),
    ...(fields.dates ?? []).flatMap((column) => DATE_PARTS.map((part) => fitNumeric(table, { name: `${column}:${part}`, date: { column, part } }, 'a date field'))),
  ];
  const numerical = specs.map(({ skew, ...s }) => {
    if (skew) notes.push(`${s.name}: skewed (skewness ${skew[0].toFixed(1)}), taken through signed log1p (skewness ${skew[1].toFixed(1)}) before standardising`);
    return s;
  });
  const categorical = fields.categorical.map((name): CategoricalSpec => {
    const c = columnIndex(table, name, '--categorical_fields');
    const counts = new Map<string, number>();
    for (const r of table.rows) if (!isMissing(r[c])) counts.set(r[c].trim(), (counts.get(r[c].trim()) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCategoryCount).map(([v]) => v).sort();
    return { name, categories: kept, folded: counts.size - kept.length };
  });
  const featureNames = [
    ...numerical.map((s) => s.name),
    ...numerical.filter((s) => s.indicator).map((s) => `${s.name}:missing`),
    ...(categoricalEncoding === 'embedding' ? categorical.map((s) => s.name) : categorical.flatMap((s) => [MISSING_CODE, UNKNOWN_CODE, ...s.categories].map((v) => `${s.name}=${v}`))),
  ];
  return { version: 1, numerical, categorical, minCategoryCount, categoricalEncoding, width: featureNames.length, featureNames };
}

/** The table's rows as feature vectors (row-major [n × width]); a missing column is an error naming it. */
export function transform(p: Preprocessing, table: Table): { x: Float32Array; n: number; counts: TransformCounts } {
  for (const s of p.numerical) columnIndex(table, sourceColumn(s), s.date ? 'a date feature of the model' : 'a numerical feature of the model');
  for (const s of p.categorical) columnIndex(table, s.name, 'a categorical feature of the model');
  return encodeRows(p, table.columns, table.rows);
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
  const used = new Set([...p.numerical.map(sourceColumn), ...p.categorical.map((s) => s.name), ...also]);
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
