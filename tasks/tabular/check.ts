/**
 * `flash tabular_* --check`: lints the training table without training — columns as inferred, missing share per
 * column, left-out columns and why, a column that alone gives away the target (leakage), target imbalance,
 * duplicate rows, and rows of the val/test files that are also in the train file.
 */
import { resolve } from 'node:path';
import { textTable } from '../classification/text_table.js';
import type { TaskIO } from '../types.js';
import { demoCsv, shown } from './data.js';
import { chooseFields } from './infer.js';
import { columnIndex, isMissing, parseNumber, readTable, type Table } from './table.js';

export interface CheckArgs {
  io: TaskIO;
  classification: boolean;
  target: string;
  data: { train_file: string | null; val_file: string | null; test_file: string | null; categorical_fields: string[] | null; numerical_fields: string[] | null };
}

/** Pearson correlation of two equal-length arrays (NaN when either is constant). */
function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Features that alone determine the target: every value of a column always with one class, or |r| > 0.99. */
function leaks(t: Table, features: string[], target: string, classification: boolean): string[] {
  const tc = columnIndex(t, target, 'the target');
  const out: string[] = [];
  for (const f of features) {
    const c = columnIndex(t, f, 'a feature');
    const rows = t.rows.filter((r) => !isMissing(r[c]) && !isMissing(r[tc]));
    if (rows.length < 10) continue;
    if (classification) {
      const classOf = new Map<string, string>();
      let pure = true;
      for (const r of rows) {
        const prior = classOf.get(r[c]);
        if (prior !== undefined && prior !== r[tc]) pure = false;
        classOf.set(r[c], r[tc]);
      }
      // Pure only counts when values repeat (an ID is trivially pure) and more than one class is involved.
      if (pure && classOf.size < rows.length / 2 && new Set(classOf.values()).size > 1) out.push(`${f} (each value always comes with one '${target}' class)`);
    } else {
      const pairs = rows.map((r) => [parseNumber(r[c]), parseNumber(r[tc])]).filter((p): p is [number, number] => p[0] !== undefined && p[1] !== undefined);
      if (pairs.length >= 10) {
        const r = correlation(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
        if (Math.abs(r) > 0.99) out.push(`${f} (correlation with '${target}' ${r.toFixed(3)})`);
      }
    }
  }
  return out;
}

/** Prints the check; returns the number of findings worth a look. */
export function checkTable(args: CheckArgs): number {
  const { io, target, data: d } = args;
  const say = (l: string) => io.out(`${l}\n`);
  const path = d.train_file === null ? demoCsv() : resolve(io.cwd, d.train_file);
  const t = readTable(path, shown(path, io.cwd));
  const fields = chooseFields(t, [target], { categorical: d.categorical_fields, numerical: d.numerical_fields });
  say(`${t.file}: ${t.rows.length} rows, ${t.columns.length} columns; target '${target}'`);
  const kind = (c: string) =>
    c === target ? 'target' : fields.numerical.includes(c) ? 'numerical' : fields.categorical.includes(c) ? 'categorical' : fields.dates?.includes(c) ? 'date (expanded)' : `left out: ${fields.dropped.find((x) => x.name === c)?.why ?? 'not listed'}`;
  const rows = t.columns.map((c, i) => {
    const missing = t.rows.filter((r) => isMissing(r[i])).length;
    return [c, kind(c), `${((100 * missing) / t.rows.length).toFixed(1)}%`, String(new Set(t.rows.map((r) => r[i])).size)];
  });
  io.out(textTable(['column', 'kind', 'missing', 'distinct'], rows));
  let findings = 0;
  const found = (l: string) => {
    findings++;
    say(`! ${l}`);
  };
  const leaked = leaks(t, [...fields.numerical, ...fields.categorical], target, args.classification);
  if (leaked.length) found(`possible leakage: ${leaked.join(', ')} — a column that alone gives the target is often recorded after the fact`);
  const tc = columnIndex(t, target, 'the target');
  if (args.classification) {
    const counts = new Map<string, number>();
    for (const r of t.rows) if (!isMissing(r[tc])) counts.set(r[tc], (counts.get(r[tc]) ?? 0) + 1);
    const sorted = [...counts].sort((a, b) => b[1] - a[1]);
    say(`classes: ${sorted.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (sorted.length >= 2 && sorted[0][1] > 3 * sorted[sorted.length - 1][1]) found(`imbalanced target: '${sorted[0][0]}' has ${(sorted[0][1] / sorted[sorted.length - 1][1]).toFixed(1)}x the rows of '${sorted[sorted.length - 1][0]}' (class weights auto apply)`);
  }
  const key = (r: string[]) => JSON.stringify(r);
  const seen = new Set<string>();
  let dup = 0;
  for (const r of t.rows) (seen.has(key(r)) ? dup++ : seen.add(key(r)));
  if (dup) found(`${dup} duplicate rows in ${t.file}`);
  for (const other of [d.val_file, d.test_file]) {
    if (other === null) continue;
    const p = resolve(io.cwd, other);
    const o = readTable(p, shown(p, io.cwd));
    const sameLayout = o.columns.join() === t.columns.join();
    const shared = sameLayout ? o.rows.filter((r) => seen.has(key(r))).length : 0;
    if (shared) found(`${shared} rows of ${o.file} are also in ${t.file} (their scores will flatter the model)`);
  }
  say(findings ? `${findings} finding(s) above; training would still run` : 'no findings');
  return findings;
}
