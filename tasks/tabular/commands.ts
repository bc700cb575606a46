/**
 * `flash predict` and `flash evaluate` on a tabular run: the CSV read, the run's saved transform applied exactly
 * (filled-in cells counted in one line), the saved network run, results in input order.
 */
import { extname, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/core/io/atomic.js';
import { computeMetrics, perClassReport, type MetricInput } from '../../src/core/metrics/index.js';
import type { RunCommandArgs } from '../types.js';
import { textTable } from '../classification/text_table.js';
import { shown } from './data.js';
import { predictRows, type TabularModule } from './model.js';
import { badCellMessage, badNumericCells, countsLine, extraColumns, transform } from './preprocess.js';
import { loadTabular, type TabularMeta } from './run.js';
import { columnIndex, isMissing, parseNumber, readTable, type Table } from './table.js';
import { selectShard, withRow } from '../../src/core/shard/shard.js';

export interface TabularPredictArgs extends RunCommandArgs {
  model: string;
  csv: string;
  output?: string;
  keepColumns: string[];
  backend?: string;
}

export interface TabularEvaluateArgs extends RunCommandArgs {
  model: string;
  csv: string;
  output?: string;
  backend?: string;
}

/** Reads the CSV and turns it into the model's vectors, saying what was filled in and what was ignored. */
function prepare(meta: TabularMeta, table: Table, note: (line: string) => void, keep: string[] = []) {
  const p = meta.preprocessing;
  const bad = badNumericCells(table, p.numerical.map((s) => s.name));
  if (bad.length) note(`warning: ${bad.length} non-numbers in numerical fields taken as missing (first: ${badCellMessage(table.file, bad[0])})`);
  const { x, n, counts } = transform(p, table);
  const extra = extraColumns(p, table, [...keep, meta.target]);
  if (extra.length) note(`ignored: columns the model does not read: ${extra.join(', ')}`);
  const line = countsLine(counts);
  if (line) note(`${table.file}: ${line}`);
  return { x, n };
}

/** One output row per input row: kept columns, then label, score and a column per class, or the prediction. */
function outputRows(module: TabularModule, meta: TabularMeta, table: Table, raw: number[][], keep: string[]): Record<string, string | number>[] {
  const keptIdx = keep.map((k) => columnIndex(table, k, '--keep_columns'));
  return raw.map((out, i) => {
    const row: Record<string, string | number> = {};
    keep.forEach((k, j) => (row[k] = table.rows[i][keptIdx[j]]));
    if (module.targetKind === 'values') {
      row.prediction = out[0];
    } else {
      const labels = meta.labels!;
      let best = 0;
      out.forEach((p, c) => p > out[best] && (best = c));
      row.label = labels[best];
      row.score = out[best];
      labels.forEach((l, c) => (row[l] = out[c]));
    }
    return row;
  });
}

/** Writes the rows as .csv, .json or .jsonl (by extension), atomically. */
async function writeRows(path: string, rows: Record<string, string | number>[]): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return writeJsonAtomic(path, rows);
  if (ext === '.jsonl') return writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  if (ext === '.csv') return writeFileAtomic(path, stringify(rows, { header: true, columns: Object.keys(rows[0] ?? {}) }));
  throw new FlashUserError(`--output ${path}: use a .csv, .json or .jsonl file`);
}

/** The predictions for a table's rows (predict and serve): one output row per input row, notes said through `note`. */
export function predictTable(module: TabularModule, meta: TabularMeta, table: Table, keep: string[], note: (line: string) => void): Record<string, string | number>[] {
  for (const k of keep) columnIndex(table, k, '--keep_columns');
  const { x, n } = prepare(meta, table, note, keep);
  return outputRows(module, meta, table, predictRows(module, x, n), keep);
}

/** `flash predict --model RUN --csv rows.csv [--output preds.csv|.json|.jsonl] [--keep_columns a b]`. */
export async function predictCommand(args: TabularPredictArgs): Promise<Record<string, string | number>[]> {
  const { io } = args;
  if (args.output) writeRowsCheck(args.output);
  const backend = await selectBackend(args.backend ?? 'auto');
  io.err(`${describeBackend(backend)}\n`);
  const { module, meta } = await loadTabular(resolve(io.cwd, args.model));
  try {
    const table = readTable(resolve(io.cwd, args.csv), shown(resolve(io.cwd, args.csv), io.cwd));
    // --shard i/n: a contiguous range of the rows in file order; each output row starts with its input row.
    const picked = selectShard(table.rows, args.shard);
    const part = args.shard ? { ...table, rows: picked.items, lines: selectShard(table.lines, args.shard).items } : table;
    const predicted = predictTable(module, meta, part, args.keepColumns, (l) => io.err(`${l}\n`));
    const rows = args.shard ? predicted.map((r, i) => withRow(r, picked.rows[i])) : predicted;
    if (args.output) {
      const path = resolve(io.cwd, args.output);
      await writeRows(path, rows);
      io.out(`wrote ${rows.length} predictions to ${shown(path, io.cwd)}\n`);
    } else {
      const cols = Object.keys(rows[0] ?? {});
      io.out(textTable(cols, rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? (r[c] as number).toPrecision(4) : String(r[c]))))));
    }
    return rows;
  } finally {
    module.dispose();
  }
}

function writeRowsCheck(output: string): void {
  if (!['.csv', '.json', '.jsonl'].includes(extname(output).toLowerCase())) throw new FlashUserError(`--output ${output}: use a .csv, .json or .jsonl file`);
}

export interface TabularEvaluation {
  rows: number;
  metrics: Record<string, number>;
  perClass?: ReturnType<typeof perClassReport>;
  residuals?: { mean: number; median_abs: number; p90_abs: number; max_abs: number };
}

/** `flash evaluate --model RUN --csv test.csv [--output metrics.json]`: metrics, and a per-class table or a residual summary. */
export async function evaluateCommand(args: TabularEvaluateArgs): Promise<TabularEvaluation> {
  const { io } = args;
  const backend = await selectBackend(args.backend ?? 'auto');
  io.err(`${describeBackend(backend)}\n`);
  const { module, meta } = await loadTabular(resolve(io.cwd, args.model));
  try {
    const path = resolve(io.cwd, args.csv);
    const all = readTable(path, shown(path, io.cwd));
    const tc = columnIndex(all, meta.target, 'the target the model predicts');
    const keep = all.rows.map((r, i) => (isMissing(r[tc]) ? -1 : i)).filter((i) => i >= 0);
    if (keep.length < all.rows.length) io.err(`${all.file}: ${all.rows.length - keep.length} rows without a '${meta.target}' value left out\n`);
    if (keep.length === 0) throw new FlashUserError(`${all.file}: no rows with a '${meta.target}' value to evaluate on`);
    const table: Table = { ...all, rows: keep.map((i) => all.rows[i]), lines: keep.map((i) => all.lines[i]) };
    const { x, n } = prepare(meta, table, (l) => io.err(`${l}\n`));
    const out = predictRows(module, x, n);
    const truth = table.rows.map((r, i) => {
      const cell = r[tc];
      if (module.targetKind === 'values') {
        const v = parseNumber(cell);
        if (v === undefined) throw new FlashUserError(`${table.file}: line ${table.lines[i]}, column '${meta.target}': '${cell}' is not a number`);
        return v;
      }
      const c = meta.labels!.indexOf(cell);
      if (c < 0) throw new FlashUserError(`${table.file}: line ${table.lines[i]}, column '${meta.target}': class '${cell}' is not one the model knows (${meta.labels!.join(', ')})`);
      return c;
    });
    const k = module.numOutputs;
    const input: MetricInput = { probs: Float32Array.from(out.flat()), labels: module.targetKind === 'values' ? new Int32Array(n) : Int32Array.from(truth), numClasses: k };
    if (module.targetKind === 'values') input.values = Float32Array.from(truth);
    const result: TabularEvaluation = { rows: n, metrics: computeMetrics(input, module.metricNames) };
    const lines = [`${table.file}: ${n} rows`, Object.entries(result.metrics).map(([m, v]) => `${m} ${v.toFixed(4)}`).join(' · ')];
    if (module.targetKind === 'values') {
      const res = out.map((o, i) => o[0] - truth[i]);
      const abs = res.map(Math.abs).sort((a, b) => a - b);
      const q = (f: number) => abs[Math.min(abs.length - 1, Math.floor(f * abs.length))];
      result.residuals = { mean: res.reduce((s, v) => s + v, 0) / n, median_abs: q(0.5), p90_abs: q(0.9), max_abs: abs[abs.length - 1] };
      const r = result.residuals;
      lines.push(`residuals (prediction − truth, in '${meta.target}' units): mean ${r.mean.toPrecision(4)} · median |r| ${r.median_abs.toPrecision(4)} · 90% |r| ≤ ${r.p90_abs.toPrecision(4)} · max |r| ${r.max_abs.toPrecision(4)}`);
      io.out(lines.join('\n') + '\n');
    } else {
      result.perClass = perClassReport(input, meta.labels!);
      const rows = result.perClass.map((c) => [c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), String(c.support), Number.isNaN(c.auroc) ? 'n/a' : c.auroc.toFixed(3)]);
      io.out(lines.join('\n') + '\n' + textTable(['class', 'precision', 'recall', 'f1', 'support', 'auroc'], rows));
    }
    if (args.output) await writeJsonAtomic(resolve(io.cwd, args.output), result);
    return result;
  } finally {
    module.dispose();
  }
}
