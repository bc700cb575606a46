/**
 * The report's charts as Vega-Lite specs, compiled to Vega and rendered headlessly to SVG (no browser, no canvas),
 * then to PNG with sharp. Sizes and label fonts adapt to the number of classes so 2 and 50 classes both read well.
 */
import sharp from 'sharp';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { ClassCurves } from './curves.js';
import { thin } from './curves.js';

/** One value of the per-epoch history: `train_loss` at epoch 3 → { epoch: 3, split: 'train', metric: 'loss' }. */
export interface HistoryPoint {
  epoch: number;
  split: string;
  metric: string;
  value: number;
  /** Which run, when comparing runs. */
  run?: string;
}

const SPLIT_COLOURS: Record<string, string> = { train: '#1f77b4', val: '#ff7f0e', test: '#2ca02c' };
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 12,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Splits `val_f1_macro` into split `val` and metric `f1_macro` (no known prefix: split `train`). */
export function splitMetricName(name: string): { split: string; metric: string } {
  const m = /^(train|val|test)_(.+)$/.exec(name);
  return m ? { split: m[1], metric: m[2] } : { split: 'train', metric: name };
}

/** Rows of metrics.csv → history points. */
export function historyPoints(rows: Record<string, number>[], run?: string): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (name === 'epoch' || !Number.isFinite(value)) continue;
      out.push({ epoch: row.epoch, ...splitMetricName(name), value, ...(run ? { run } : {}) });
    }
  }
  return out;
}

/** Loss and metric curves per epoch: one panel per metric, train vs val (and one colour per run when comparing). */
export function curvesSpec(points: HistoryPoint[], title = 'Loss and metrics per epoch'): TopLevelSpec {
  const metrics = [...new Set(points.map((p) => p.metric))];
  metrics.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
  const compare = points.some((p) => p.run !== undefined);
  const maxEpoch = Math.max(1, ...points.map((p) => p.epoch));
  const splits = ['train', 'val', 'test'].filter((sp) => points.some((p) => p.split === sp));
  // One chart per metric (concat rather than facet: a partly filled last row gets no empty axes).
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    columns: Math.min(metrics.length, 4),
    concat: metrics.map((metric) => ({
      title: { text: metric, anchor: 'middle', fontSize: 12, fontWeight: 'normal' },
      transform: [{ filter: { field: 'metric', equal: metric } }],
      width: 230,
      height: 160,
      mark: { type: 'line', point: maxEpoch <= 40, strokeWidth: 2 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domain: [1, maxEpoch] } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: compare
          ? { field: 'run', type: 'nominal', title: 'run' }
          : { field: 'split', type: 'nominal', title: 'split', scale: { domain: splits, range: splits.map((sp) => SPLIT_COLOURS[sp]) } },
        ...(compare ? { strokeDash: { field: 'split', type: 'nominal', title: 'split' } } : {}),
        detail: compare ? { field: 'split', type: 'nominal' } : undefined,
        tooltip: [{ field: 'epoch' }, { field: 'split' }, { field: 'value', format: '.4f' }],
      },
    })),
    config: CONFIG,
  } as TopLevelSpec;
}

/** Cell size and label font for a k×k matrix: big cells with counts for a few classes, small ones for many. */
function matrixLayout(k: number): { cell: number; font: number; showText: boolean; textFont: number } {
  const cell = Math.max(12, Math.min(96, Math.floor(560 / k)));
  return { cell, font: k <= 20 ? 11 : k <= 40 ? 9 : 8, showText: cell >= 18, textFont: Math.max(7, Math.min(14, Math.floor(cell / 2.6))) };
}

/**
 * The confusion matrix twice — counts, and normalised by row (the share of each true class predicted as each
 * class, i.e. recall on the diagonal) — with class names on both axes, rows = true, columns = predicted.
 */
export function confusionSpec(cm: number[][], labels: string[]): TopLevelSpec {
  const k = labels.length;
  const { cell, font, showText, textFont } = matrixLayout(k);
  const values: { truth: string; pred: string; count: number; frac: number; pct: string }[] = [];
  cm.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const frac = total > 0 ? count / total : 0;
      values.push({ truth: labels[t], pred: labels[p], count, frac, pct: count === 0 ? '' : `${Math.round(frac * 100)}%` });
    });
  });
  const maxCount = Math.max(1, ...values.map((v) => v.count));
  const axis = { labelFontSize: font, labelLimit: 150, labelOverlap: false as const };
  // Horizontal column labels only while the longest fits its cell (about 0.6 em a character).
  const angle = Math.max(...labels.map((l) => l.length)) * font * 0.6 > cell - 4 ? -45 : 0;
  const panel = (field: 'count' | 'frac', title: string, text: string, colourMax: number) => ({
    title,
    width: cell * k,
    height: cell * k,
    encoding: {
      x: { field: 'pred', type: 'nominal', sort: labels, title: 'predicted', axis: { ...axis, labelAngle: angle } },
      y: { field: 'truth', type: 'nominal', sort: labels, title: 'true', axis },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field, type: 'quantitative', scale: { domain: [0, colourMax], range: ['#ffffff', '#08519c'], interpolate: 'rgb' }, legend: { title: field === 'frac' ? 'share of row' : 'count', format: field === 'frac' ? '.0%' : 'd' } },
          tooltip: [{ field: 'truth', title: 'true' }, { field: 'pred', title: 'predicted' }, { field: 'count' }, { field: 'frac', format: '.1%', title: 'share of row' }],
        },
      },
      ...(showText
        ? [
            {
              mark: { type: 'text', fontSize: textFont },
              encoding: {
                text: { field: text, type: 'nominal' },
                color: { condition: { test: `datum.${field} > ${colourMax / 2}`, value: 'white' }, value: '#222' },
              },
            },
          ]
        : []),
    ],
  });
  const panels = [panel('count', 'Confusion matrix (counts)', 'count', maxCount), panel('frac', 'Normalised by true class (row)', 'pct', 1)];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    ...(k <= 12 ? { hconcat: panels } : { vconcat: panels }),
    resolve: { scale: { color: 'independent' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Curve of each class: layered with a legend for up to 10 classes, small multiples (one panel a class) beyond. */
function curveSpec(curves: ClassCurves[], kind: 'pr' | 'roc'): TopLevelSpec {
  const xTitle = kind === 'pr' ? 'recall' : 'false positive rate';
  const yTitle = kind === 'pr' ? 'precision' : 'true positive rate';
  const score = (c: ClassCurves) => (kind === 'pr' ? c.ap : c.auc);
  const tag = kind === 'pr' ? 'AP' : 'AUC';
  const name = (c: ClassCurves) => `${c.label} (${tag} ${Number.isNaN(score(c)) ? 'n/a' : score(c).toFixed(3)})`;
  const many = curves.length > 10;
  const key = (c: ClassCurves) => (many ? c.label : name(c));
  const scoreText = (c: ClassCurves) => `${tag} ${Number.isNaN(score(c)) ? 'n/a' : score(c).toFixed(3)}`;
  // PR: plot the precision at which each recall level is first reached (false positives at an unchanged recall only
  // add spikes; the areas were computed on the full curves).
  const pts = (c: ClassCurves) => (kind === 'pr' ? c.pr.filter((p, i) => i === 0 || p.x > c.pr[i - 1].x) : c.roc);
  const values = curves.flatMap((c, ci) => thin(pts(c)).map((p, i) => ({ cls: key(c), ci, i, x: p.x, y: p.y, score: scoreText(c) })));
  const order = curves.map(key);
  const title = kind === 'pr' ? 'Precision-recall per class (one vs rest)' : 'ROC per class (one vs rest)';
  const scale = { domain: [0, 1] };
  const line = { type: 'line', interpolate: kind === 'pr' ? 'step-before' : 'linear', strokeWidth: 2, clip: true };
  const diagonal = { data: { values: [{ x: 0, y: kind === 'pr' ? 0.5 : 0 }, { x: 1, y: kind === 'pr' ? 0.5 : 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#bbb' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
  if (!many) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: 340,
      height: 300,
      layer: [
        ...(kind === 'roc' ? [diagonal] : []),
        {
          data: { values },
          mark: line,
          encoding: {
            x: { field: 'x', type: 'quantitative', title: xTitle, scale },
            y: { field: 'y', type: 'quantitative', title: yTitle, scale },
            color: { field: 'cls', type: 'nominal', sort: order, title: 'class', scale: { scheme: 'category10' } },
            order: { field: 'i', type: 'quantitative' },
          },
        },
      ],
      config: CONFIG,
    } as TopLevelSpec;
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { field: 'cls', type: 'nominal', sort: order, title: null, header: { labelFontSize: 10, labelLimit: 130 } },
    columns: 8,
    spec: {
      width: 110,
      height: 90,
      encoding: {
        x: { field: 'x', type: 'quantitative', title: xTitle, scale, axis: { tickCount: 2, labelFontSize: 9 } },
        y: { field: 'y', type: 'quantitative', title: yTitle, scale, axis: { tickCount: 2, labelFontSize: 9 } },
      },
      layer: [
        { mark: { ...line, strokeWidth: 1.5 }, encoding: { order: { field: 'i', type: 'quantitative' } } },
        {
          transform: [{ filter: 'datum.i == 0' }],
          mark: { type: 'text', align: kind === 'pr' ? 'left' : 'right', baseline: 'bottom', fontSize: 10, color: '#444' },
          encoding: { text: { field: 'score' }, x: { value: kind === 'pr' ? 4 : 106 }, y: { value: 86 } },
        },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec;
}

export const prSpec = (curves: ClassCurves[]): TopLevelSpec => curveSpec(curves, 'pr');
export const rocSpec = (curves: ClassCurves[]): TopLevelSpec => curveSpec(curves, 'roc');

export { renderSvg, svgToPng } from '../../../src/core/charts.js';

/** An SVG ready to inline in HTML5 (which needs no namespace declarations): no http URLs in the page. */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '').replace(/\sxlink:href=/g, ' href=');
}
