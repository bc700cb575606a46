/**
 * The run report (`report.html` + `curves.png`, `confusion_matrix.png`, `pr_curves.png`, `roc_curves.png`,
 * `sample_predictions.png` in the run folder), `flash report runs/X` and `flash compare runs/A runs/B`.
 */
import { basename, join, relative, resolve } from 'node:path';
import type { TaskIO as CliIO } from '../../../src/core/task_io.js';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { writeFileAtomic } from '../../../src/core/io/atomic.js';
import { flattenParams } from '../../../src/core/loggers/jsonl.js';
import type { Logger } from '../../../src/core/trainer/types.js';
import { readFlashJson } from '../model.js';
import { table } from '../predict.js';
import { confusionSpec, curvesSpec, historyPoints, inlineSvg, prSpec, renderSvg, rocSpec, svgToPng } from './charts.js';
import { gatherReportData, readHistory, type ReportData, type ReportOptions, type SplitName } from './data.js';
import { buildGallery, galleryPng, type Gallery } from './gallery.js';
import { reportHtml, type ReportCharts } from './html.js';

export { classCurves, allClassCurves, thin, type ClassCurves, type CurvePoint } from './curves.js';
export { confusionSpec, curvesSpec, historyPoints, prSpec, rocSpec, renderSvg, svgToPng, inlineSvg, type HistoryPoint } from './charts.js';
export { gatherReportData, evaluateSplitForReport, parseMetricsCsv, readHistory, type Evaluation, type ReportData, type ReportOptions, type SplitName } from './data.js';
export { buildGallery, galleryPng, type Gallery, type GalleryItem } from './gallery.js';
export { reportHtml, reportJson } from './html.js';

export interface WriteRunReportOptions extends ReportOptions {
  /** Loggers that also get the images (`logImage`) and report.html (`logArtifact`), e.g. the run's TensorBoard logger. */
  loggers?: Logger[];
  /** Step the images are logged at (default: the number of epochs in the history). */
  step?: number;
}

export interface RunReport {
  /** Absolute path of report.html. */
  html: string;
  /** PNG files written, by name (`curves`, `confusion_matrix`, `pr_curves`, `roc_curves`, `sample_predictions`). */
  pngs: Record<string, string>;
  data: ReportData;
  gallery?: Gallery;
}

/**
 * Evaluates the run's best model on its test split (or val, or `folder`) and writes report.html and the PNG
 * charts into the run folder. Expects an active tfjs backend (a training run has one; `reportCommand` picks one).
 */
export async function writeRunReport(runDir: string, options: WriteRunReportOptions = {}): Promise<RunReport> {
  const data = await gatherReportData(runDir, options);
  const labels = data.meta.labels;
  const charts: ReportCharts = {};
  const pngs: Record<string, string> = {};
  const images: [string, Buffer][] = [];
  const chart = async (name: string, key: keyof ReportCharts, spec: Parameters<typeof renderSvg>[0]) => {
    const svg = await renderSvg(spec);
    charts[key] = inlineSvg(svg);
    const png = await svgToPng(svg);
    const file = join(runDir, `${name}.png`);
    await writeFileAtomic(file, png);
    pngs[name] = file;
    images.push([name, png]);
  };
  if (data.history.length > 0) await chart('curves', 'curves', curvesSpec(historyPoints(data.history)));
  let gallery: Gallery | undefined;
  const ev = data.evaluation;
  if (ev) {
    if (!ev.targets) await chart('confusion_matrix', 'confusion', confusionSpec(ev.confusion, labels));
    await chart('pr_curves', 'pr', prSpec(ev.curves));
    await chart('roc_curves', 'roc', rocSpec(ev.curves));
  }
  // The gallery shows single-label mistakes (pred / true); a multi-label report has the per-label table and curves.
  if (ev && !ev.targets) {
    gallery = await buildGallery(ev, labels, data.meta.input);
    const title = gallery.kind === 'wrong' ? `Most confidently wrong on ${ev.source}: pred / true (p)` : `Least confident on ${ev.source} (no mistakes)`;
    const png = await galleryPng(gallery, title);
    if (png) {
      const file = join(runDir, 'sample_predictions.png');
      await writeFileAtomic(file, png);
      pngs.sample_predictions = file;
      images.push(['sample_predictions', png]);
    }
  }
  const html = join(runDir, 'report.html');
  await writeFileAtomic(html, reportHtml(data, charts, gallery));
  const step = options.step ?? data.history.length;
  for (const logger of options.loggers ?? []) {
    for (const [name, png] of images) if (name !== 'curves') await logger.logImage?.(name, png, step);
    await logger.logArtifact?.('report.html', html);
  }
  return { html, pngs, data, gallery };
}

export interface ReportCommandArgs {
  /** The run folder (`flash report runs/X`). */
  run: string;
  /** Evaluate on this folder of class sub-folders instead of the run's test/val split. */
  folder?: string;
  split?: SplitName;
  backend?: string;
  io: CliIO;
}

/** `flash report runs/X [--folder DIR]`: (re)writes the run's report and says where it is. */
export async function reportCommand(args: ReportCommandArgs): Promise<RunReport> {
  const { io } = args;
  const runDir = resolve(io.cwd, args.run);
  await readFlashJson(runDir);
  await selectBackend(args.backend ?? 'auto');
  const report = await writeRunReport(runDir, {
    folder: args.folder,
    splitName: args.split,
    cwd: io.cwd,
    onWarning: (m) => io.err(`warning: ${m}\n`),
  });
  const rel = (p: string) => relative(io.cwd, p) || '.';
  const ev = report.data.evaluation;
  if (ev) {
    const overall = Object.entries(ev.metrics).map(([k, v]) => `${k} ${Number.isNaN(v) ? 'n/a' : v.toFixed(4)}`).join(' · ');
    io.out(`evaluated the best model on ${ev.source === 'test' || ev.source === 'val' ? `the ${ev.source} split` : `'${ev.source}'`} (${ev.ids.length} images): ${overall}\n`);
  } else if (report.data.evaluationNote) {
    io.err(`warning: ${report.data.evaluationNote}\n`);
  }
  io.out(`report: ${rel(report.html)}\n`);
  const pngs = Object.values(report.pngs);
  if (pngs.length) io.out(`plots: ${pngs.map(rel).join(', ')}\n`);
  return report;
}

export interface CompareResult {
  runs: string[];
  /** Recipe keys (dotted) whose values differ between the runs, with each run's value. */
  recipeDiff: { key: string; values: string[] }[];
  /** Final metrics (flash.json `metrics`: the best model's val metrics, plus test) of each run; NaN when missing. */
  metrics: { name: string; values: number[] }[];
  /** The side-by-side tables as text. */
  text: string;
  /** Path of the combined curves PNG when `out` was given. */
  png?: string;
}

/** Short unique names for run folders: their base names, or relative paths when base names collide. */
function runNames(dirs: string[], cwd: string): string[] {
  const bases = dirs.map((d) => basename(d));
  return new Set(bases).size === bases.length ? bases : dirs.map((d) => relative(cwd, d) || d);
}

const show = (v: unknown) => (v === undefined ? '—' : v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * `flash compare runs/A runs/B …`: the recipes side by side (only the keys that differ, output_dir left out),
 * the final metrics of each, and with `out` a PNG of all runs' curves together.
 */
export async function compareRuns(runDirs: string[], options: { out?: string; cwd?: string } = {}): Promise<CompareResult> {
  const cwd = options.cwd ?? process.cwd();
  if (runDirs.length < 2) throw new FlashUserError('compare needs at least two run folders');
  const dirs = runDirs.map((d) => resolve(cwd, d));
  const metas = await Promise.all(dirs.map((d) => readFlashJson(d)));
  const names = runNames(dirs, cwd);
  const flat = metas.map((m) => flattenParams(m.recipe as unknown as Record<string, unknown>));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => k !== 'trainer.output_dir');
  const recipeDiff = keys
    .map((key) => ({ key, values: flat.map((f) => show(f[key])) }))
    .filter((r) => new Set(r.values).size > 1);
  const metricNames = [...new Set(metas.flatMap((m) => Object.keys(m.metrics ?? {})))];
  const metrics = metricNames.map((name) => ({ name, values: metas.map((m) => m.metrics?.[name] ?? NaN) }));
  const histories = await Promise.all(dirs.map((d) => readHistory(d)));
  const extra = [
    { name: 'best_epoch', values: metas.map((m) => m.best_epoch ?? NaN) },
    { name: 'epochs', values: histories.map((h) => h.length) },
  ];
  const fmt = (v: number) => (Number.isNaN(v) ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4));
  const recipeText = recipeDiff.length
    ? table(['recipe key', ...names], recipeDiff.map((r) => [r.key, ...r.values]))
    : 'the recipes are the same (apart from output_dir)\n';
  const metricText = table(['metric', ...names], [...metrics, ...extra].map((m) => [m.name, ...m.values.map(fmt)]));
  let png: string | undefined;
  if (options.out) {
    const points = histories.flatMap((h, i) => historyPoints(h, names[i]));
    if (points.length === 0) throw new FlashUserError('none of the runs has per-epoch metrics (metrics.csv) to plot');
    png = resolve(cwd, options.out);
    await writeFileAtomic(png, await svgToPng(await renderSvg(curvesSpec(points, `Runs compared: ${names.join(' vs ')}`))));
  }
  return { runs: dirs, recipeDiff, metrics, text: `${recipeText}\n${metricText}`, png };
}

/** `flash compare runs/A runs/B … [--out curves.png]`: prints the tables. */
export async function compareCommand(args: { runs: string[]; out?: string; io: CliIO }): Promise<CompareResult> {
  const result = await compareRuns(args.runs, { out: args.out, cwd: args.io.cwd });
  args.io.out(result.text);
  if (result.png) args.io.out(`curves: ${relative(args.io.cwd, result.png) || result.png}\n`);
  return result;
}
