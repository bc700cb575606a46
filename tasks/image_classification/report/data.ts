/** What a run report shows, gathered from a run folder: its flash.json, metrics history and the best model's predictions. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { TaskIO } from '../../../src/core/task_io.js';
import { dataOptions } from '../data_options.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { argmaxRows, computeMetrics, confusionMatrix, perClassReport, type ClassReportRow } from '../../../src/core/metrics/index.js';
import { metricInput, runSplit } from '../../../src/core/trainer/evaluate.js';
import type { DataSplit } from '../../../src/core/trainer/types.js';
import { builders } from '../builders.js';
import { decodeFiles, scanClassFolders, splitFromPixels } from '../data/index.js';
import { ImageClassifier, readFlashJson } from '../model.js';
import type { FlashJson } from '../run_metadata.js';
import { allClassCurves, type ClassCurves } from './curves.js';

export type SplitName = 'val' | 'test';

export interface ReportOptions {
  /** Which labelled split to evaluate: default the run's test split when it had one, else val. */
  splitName?: SplitName;
  /** A folder of class sub-folders to evaluate on instead (`flash report runs/X --folder DIR`). */
  folder?: string;
  /**
   * An already decoded labelled split to evaluate (a training run passes its data module's test or val split, so
   * nothing is decoded twice); `name` says which ('test', 'val'). `null`: the run has no labelled split, so the
   * report has no evaluation (nothing is rebuilt to look for one).
   */
  split?: { name: string; split: DataSplit } | null;
  /** Where the recipe's relative data paths start (the training run's working directory); default process.cwd(). */
  cwd?: string;
  batchSize?: number;
  onWarning?: (message: string) => void;
}

/** The best model's outputs on a labelled split, plus everything derived from them. */
export interface Evaluation {
  /** 'test', 'val' or the folder given. */
  source: string;
  /** Sample ids (file paths) in row order. */
  ids: string[];
  probs: Float32Array;
  labels: Int32Array;
  /** Multi-label models: [n × k] 0/1 targets (then `pred` and `confusion` are empty: they are single-label views). */
  targets?: Uint8Array;
  pred: Int32Array;
  /** Raw pixels (model input size) by id, for thumbnails of samples that are not files on disk. */
  pixels: Map<string, Uint8Array>;
  metrics: Record<string, number>;
  confusion: number[][];
  perClass: ClassReportRow[];
  curves: ClassCurves[];
}

export interface ReportData {
  runDir: string;
  meta: FlashJson;
  /** Rows of metrics.csv (one per epoch), empty when the run logged none. */
  history: Record<string, number>[];
  /** recipe.yaml as written by the run. */
  recipeYaml: string;
  evaluation?: Evaluation;
  /** Why there is no evaluation (no labelled split could be found), when there is none. */
  evaluationNote?: string;
}

/** Parses metrics.csv (numbers only, as the csv logger writes it). */
export function parseMetricsCsv(text: string): Record<string, number>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length < 2) return [];
  const header = lines[0].split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row: Record<string, number> = {};
    header.forEach((h, i) => {
      if (cells[i] !== undefined && cells[i] !== '') row[h] = Number(cells[i]);
    });
    return row;
  });
}

/** The epoch history from metrics.csv, or failing that from metrics.jsonl. */
export async function readHistory(runDir: string): Promise<Record<string, number>[]> {
  const csv = await readFile(join(runDir, 'metrics.csv'), 'utf8').catch(() => undefined);
  if (csv !== undefined) return parseMetricsCsv(csv);
  const jsonl = await readFile(join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  const byEpoch = new Map<number, Record<string, number>>();
  for (const line of jsonl.split('\n')) {
    try {
      const e = JSON.parse(line) as { kind?: string; epoch?: number; name?: string; value?: unknown };
      if (e.kind !== 'metric' || typeof e.epoch !== 'number' || typeof e.name !== 'string') continue;
      const row = byEpoch.get(e.epoch) ?? { epoch: e.epoch };
      row[e.name] = typeof e.value === 'number' ? e.value : NaN;
      byEpoch.set(e.epoch, row);
    } catch {
      // blank or torn line
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

const at = (cwd: string, p: string) => (isAbsolute(p) ? p : resolve(cwd, p));

/** Decodes a folder of class sub-folders whose names are classes of the model into a labelled split. */
async function folderSplit(model: ImageClassifier, folder: string, options: ReportOptions): Promise<{ split: DataSplit; pixels: Map<string, Uint8Array> }> {
  const scanned = await scanClassFolders(folder);
  const index = new Map(model.labels.map((l, i) => [l, i]));
  const unknown = scanned.labels.filter((l) => !index.has(l));
  if (unknown.length > 0) {
    throw new FlashUserError(`class folder(s) ${unknown.map((u) => `'${u}'`).join(', ')} in '${folder}' are not classes of this model`);
  }
  const items = scanned.samples.map((s) => ({ file: s.file, label: index.get(scanned.labels[s.label]) as number }));
  const decoded = await decodeFiles(items, model.spec!, { onWarning: options.onWarning });
  if (decoded.items.length === 0) throw new FlashUserError(`no decodable images in '${folder}'`);
  return { split: splitFromPixels(model.spec!, decoded.items), pixels: new Map(decoded.items.map((it) => [it.id, it.pixels])) };
}

/**
 * The labelled split to evaluate: a folder given, else the recipe's test/val folder, else the recipe's data
 * rebuilt as the run built it (a val split carved from the training folder, file lists, the demo set).
 */
async function labelledSplit(
  model: ImageClassifier,
  meta: FlashJson,
  options: ReportOptions,
): Promise<{ source: string; split: DataSplit; pixels: Map<string, Uint8Array> } | { note: string }> {
  const cwd = options.cwd ?? process.cwd();
  if (options.split) return { source: options.split.name, split: options.split.split, pixels: new Map() };
  if (options.split === null) return { note: 'the run has no labelled val or test split to evaluate; run flash report with --folder' };
  if (options.folder && model.multiLabel) {
    return { note: 'a multi-label model is evaluated on a CSV of its labels (flash evaluate --csv), not on class folders' };
  }
  if (options.folder) return { source: options.folder, ...(await folderSplit(model, at(cwd, options.folder), options)) };
  const d = meta.recipe.data;
  const name: SplitName = options.splitName ?? ((meta.data?.test ?? 0) > 0 ? 'test' : 'val');
  const folder = name === 'test' ? d.test_folder : d.val_folder;
  if (d.builder === 'from_folders' && folder) return { source: name, ...(await folderSplit(model, at(cwd, folder), options)) };
  // The saved model's own input (not a backbone looked up by name: the backbone may have been a saved run folder).
  const spec = model.spec!;
  const quiet: TaskIO = { out: () => undefined, err: () => undefined, isTTY: false, cwd, env: process.env };
  const common = dataOptions(meta.recipe, quiet, {
    imageSize: [spec.height, spec.width],
    channels: spec.channels,
    strict: false,
    augment: false,
    onWarning: options.onWarning ?? (() => undefined),
  });
  const data = await builders.get(d.builder).build(d, common, cwd);
  const split = name === 'test' ? data.test : data.val;
  if (!split || split.size === 0) return { note: `the run has no labelled ${name} split to evaluate; pass a folder of class sub-folders` };
  return { source: name, split, pixels: new Map() };
}

/** Runs the model over a split and derives the report's tables and curves. */
export async function evaluateSplitForReport(model: ImageClassifier, split: DataSplit, source: string, batchSize = 32): Promise<Omit<Evaluation, 'pixels'>> {
  const out = await runSplit(model, split, batchSize, true);
  const k = model.labels.length;
  const input = metricInput(model, out);
  if (out.targets) {
    // Multi-label: per-label tables and curves (each label against its absence); no confusion matrix or argmax.
    return {
      source,
      ids: out.ids,
      probs: out.probs,
      labels: out.labels,
      targets: out.targets,
      pred: new Int32Array(0),
      metrics: { loss: out.loss, ...computeMetrics(input, model.metricNames) },
      confusion: [],
      perClass: perClassReport(input, model.labels),
      curves: allClassCurves(out.probs, out.labels, model.labels, out.targets),
    };
  }
  const pred = argmaxRows(out.probs, k);
  return {
    source,
    ids: out.ids,
    probs: out.probs,
    labels: out.labels,
    pred,
    metrics: { loss: out.loss, ...computeMetrics(input, model.metricNames) },
    confusion: confusionMatrix(pred, out.labels, k),
    perClass: perClassReport(input, model.labels),
    curves: allClassCurves(out.probs, out.labels, model.labels),
  };
}

/** Reads a run folder and evaluates its best model on a labelled split (assumes a tfjs backend is active). */
export async function gatherReportData(runDir: string, options: ReportOptions = {}): Promise<ReportData> {
  const meta = await readFlashJson(runDir);
  if (meta.task !== 'image_classification') throw new FlashUserError(`'${runDir}' is a ${meta.task} run; the report covers image_classification`);
  const history = await readHistory(runDir);
  const recipeYaml = await readFile(join(runDir, 'recipe.yaml'), 'utf8').catch(() => JSON.stringify(meta.recipe, null, 2));
  const model = await ImageClassifier.load(runDir);
  try {
    const found = await labelledSplit(model, meta, options);
    if ('note' in found) return { runDir, meta, history, recipeYaml, evaluationNote: found.note };
    const ev = await evaluateSplitForReport(model, found.split, found.source, options.batchSize ?? meta.recipe.data.batch_size ?? 32);
    return { runDir, meta, history, recipeYaml, evaluation: { ...ev, pixels: found.pixels } };
  } finally {
    model.network().dispose();
  }
}
