/**
 * The tabular run report (report.json in the run folder, and lines in the run's output): permutation feature
 * importance of each input column on the validation split, and for regression predicted-vs-true and residual
 * plots (pred_vs_true.png, residuals.png) on the test split (or val).
 */
import { join } from 'node:path';
import { renderSvg, svgToPng, type TopLevelSpec } from '../../src/core/charts.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/core/io/atomic.js';
import { mulberry32 } from '../../src/core/random.js';
import { textTable } from '../classification/text_table.js';
import type { TableSplit } from './data.js';
import { sourceColumn, type Preprocessing } from './encode.js';
import { predictRows, type TabularModule } from './model.js';

/** Shuffles per column; their mean drop is the importance (3 is what scikit-learn's example uses at this size). */
export const PERMUTATION_REPEATS = 3;

/** Vector slots per input column, in the layout encode.ts writes (a date column owns all its parts). */
export function columnSlots(p: Preprocessing): Map<string, number[]> {
  const slots = new Map<string, number[]>();
  const add = (col: string, i: number) => slots.set(col, [...(slots.get(col) ?? []), i]);
  p.numerical.forEach((s, j) => add(sourceColumn(s), j));
  let pos = p.numerical.length;
  p.numerical.forEach((s) => s.indicator && add(sourceColumn(s), pos++));
  for (const s of p.categorical) for (let k = 0; k < (p.categoricalEncoding === 'embedding' ? 1 : s.categories.length + 2); k++) add(s.name, pos++);
  return slots;
}

/** The score the importance is measured in: accuracy (higher better) or RMSE (lower better). */
function score(module: TabularModule, out: number[][], y: Int32Array | Float32Array): number {
  if (module.targetKind === 'values') return Math.sqrt(out.reduce((s, o, i) => s + (o[0] - y[i]) ** 2, 0) / out.length);
  let hit = 0;
  out.forEach((o, i) => o.indexOf(Math.max(...o)) === y[i] && hit++);
  return hit / out.length;
}

export interface Importance {
  column: string;
  /** Mean worsening of the score when the column is shuffled (accuracy lost, or RMSE gained). */
  importance: number;
  sd: number;
}

/**
 * Permutation importance (Breiman 2001; scikit-learn's permutation_importance): shuffle one input column's
 * slots across the split's rows, keep the others, and measure how much the score worsens. Seeded.
 */
export function permutationImportance(module: TabularModule, p: Preprocessing, split: TableSplit, seed: number): { metric: string; baseline: number; columns: Importance[] } {
  const n = split.size;
  const w = split.width;
  const baseline = score(module, predictRows(module, split.x, n), split.y);
  const rand = mulberry32(seed * 104_729 + 7);
  const higherBetter = module.targetKind !== 'values';
  const columns: Importance[] = [];
  for (const [column, slots] of columnSlots(p)) {
    const drops: number[] = [];
    for (let r = 0; r < PERMUTATION_REPEATS; r++) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const x = split.x.slice();
      for (let i = 0; i < n; i++) for (const s of slots) x[i * w + s] = split.x[order[i] * w + s];
      const sc = score(module, predictRows(module, x, n), split.y);
      drops.push(higherBetter ? baseline - sc : sc - baseline);
    }
    const mean = drops.reduce((a, b) => a + b, 0) / drops.length;
    const sd = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, drops.length - 1));
    columns.push({ column, importance: mean, sd });
  }
  columns.sort((a, b) => b.importance - a.importance);
  return { metric: higherBetter ? 'accuracy' : 'rmse', baseline, columns };
}

/** A scatter of predicted against true values with the y = x line. */
export function predVsTrueSpec(points: { truth: number; prediction: number }[], target: string): TopLevelSpec {
  const lo = Math.min(...points.map((q) => Math.min(q.truth, q.prediction)));
  const hi = Math.max(...points.map((q) => Math.max(q.truth, q.prediction)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `predicted vs true ${target}`,
    width: 360,
    height: 360,
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.6 }, encoding: { x: { field: 'truth', type: 'quantitative', title: `true ${target}`, scale: { domain: [lo, hi] } }, y: { field: 'prediction', type: 'quantitative', title: 'predicted', scale: { domain: [lo, hi] } } } },
      { data: { values: [{ a: lo, b: lo }, { a: hi, b: hi }] }, mark: { type: 'line', color: 'gray', strokeDash: [4, 4] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** Residuals (prediction − truth) against the prediction, with the zero line. */
export function residualSpec(points: { truth: number; prediction: number }[], target: string): TopLevelSpec {
  const values = points.map((q) => ({ prediction: q.prediction, residual: q.prediction - q.truth }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `residuals (prediction − true ${target})`,
    width: 360,
    height: 260,
    layer: [
      { data: { values }, mark: { type: 'point', filled: true, opacity: 0.6 }, encoding: { x: { field: 'prediction', type: 'quantitative', title: 'predicted', scale: { zero: false } }, y: { field: 'residual', type: 'quantitative', title: 'residual' } } },
      { data: { values: [{ r: 0 }] }, mark: { type: 'rule', color: 'gray', strokeDash: [4, 4] }, encoding: { y: { field: 'r', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

export interface TabularReport {
  importance?: { split: 'val'; metric: string; baseline: number; repeats: number; columns: Importance[] };
  plots?: { split: string; files: string[] };
}

/** Writes report.json (and the regression plots) for a trained run; returns the lines to print. */
export async function writeTabularReport(runDir: string, module: TabularModule, p: Preprocessing, splits: { val?: TableSplit; test?: TableSplit }, target: string, seed: number): Promise<{ report: TabularReport; lines: string[] }> {
  const report: TabularReport = {};
  const lines: string[] = [];
  if (splits.val && splits.val.size > 1) {
    const imp = permutationImportance(module, p, splits.val, seed);
    report.importance = { split: 'val', metric: imp.metric, baseline: imp.baseline, repeats: PERMUTATION_REPEATS, columns: imp.columns };
    const what = imp.metric === 'accuracy' ? 'accuracy lost' : `rmse gained (in '${target}' units)`;
    const rows = imp.columns.map((c) => [c.column, c.importance.toFixed(4), c.sd.toFixed(4)]);
    lines.push(`permutation importance (val split, ${what} when the column is shuffled, mean of ${PERMUTATION_REPEATS}; baseline ${imp.metric} ${imp.baseline.toFixed(4)}):\n${textTable(['column', 'importance', 'sd'], rows).trimEnd()}`);
  }
  const evalSplit = splits.test ? { name: 'test', split: splits.test } : splits.val ? { name: 'val', split: splits.val } : undefined;
  if (module.targetKind === 'values' && evalSplit && evalSplit.split.size > 0) {
    const out = predictRows(module, evalSplit.split.x, evalSplit.split.size);
    const points = out.map((o, i) => ({ truth: evalSplit.split.y[i], prediction: o[0] }));
    const files: string[] = [];
    for (const [name, spec] of [['pred_vs_true', predVsTrueSpec(points, target)], ['residuals', residualSpec(points, target)]] as const) {
      await writeFileAtomic(join(runDir, `${name}.png`), await svgToPng(await renderSvg(spec)));
      files.push(`${name}.png`);
    }
    report.plots = { split: evalSplit.name, files };
    lines.push(`plots (${evalSplit.name} split): ${files.join(', ')}`);
  }
  await writeJsonAtomic(join(runDir, 'report.json'), report);
  return { report, lines };
}
