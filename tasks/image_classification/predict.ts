import { extname, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { FlashUserError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/io/atomic.js';
import { runSplit } from '../../src/core/trainer/evaluate.js';
import { decodeFiles, splitFromPixels } from './data/index.js';
import type { TaskModule } from '../../src/core/trainer/types.js';
import { textTable } from '../classification/text_table.js';
import type { InputSpec } from './run_metadata.js';
import { DEFAULT_BATCH_SIZE } from '../../src/core/config/index.js';
import { DEFAULT_THRESHOLD } from '../classification/schema.js';
import { ROW_FIELD, withRow } from '../../src/core/shard/shard.js';

/** What predicting needs of a classifier (ImageClassifier fits; declared here so this module needs no model code). */
export interface ImageClassifierLike extends TaskModule {
  readonly labels: string[];
  readonly spec?: InputSpec;
  readonly multiLabel: boolean;
  readonly threshold: number;
}

/** One image's prediction. */
export interface Prediction {
  file: string;
  /** The most probable class; multi-label: every predicted label joined with ';' ('' when none). */
  label: string;
  /** Its probability; multi-label: the highest label probability. */
  score: number;
  /**
   * Multi-label models only: every label whose probability is at least `threshold`, most probable first
   * (possibly none).
   */
  labels?: { label: string; score: number }[];
  /** Multi-label models only: the threshold `labels` used. */
  threshold?: number;
  /** The `topK` most probable classes, best first. */
  top: { label: string; score: number }[];
  /** Probability of every class, in label order. */
  probs: number[];
}

export interface PredictOptions {
  batchSize?: number;
  topK?: number;
  /** Multi-label models: a label is predicted from this probability; default the model's (0.5 unless trained otherwise). */
  threshold?: number;
  /** Undecodable files: skipped with a warning (default) or fatal. */
  strict?: boolean;
  onWarning?: (message: string) => void;
}

/** Decodes images at the model's input spec, skipping (or, strict, refusing) the ones that can't be read. */
export async function decodeForModel(
  model: ImageClassifierLike,
  items: { file: string; label: number }[],
  options: PredictOptions = {},
): Promise<{ id: string; pixels: Uint8Array; label: number }[]> {
  if (!model.spec) throw new Error('model has no input spec');
  const onWarning = options.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  return (await decodeFiles(items, model.spec, { strict: options.strict, onWarning })).items;
}

/** Predicts the class of each image file with a trained classifier. */
export async function predictFiles(model: ImageClassifierLike, files: string[], options: PredictOptions = {}): Promise<Prediction[]> {
  const topK = Math.max(1, Math.min(options.topK ?? 3, model.labels.length));
  const threshold = checkThreshold(options.threshold) ?? model.threshold;
  const decoded = await decodeForModel(model, files.map((file) => ({ file, label: -1 })), options);
  if (decoded.length === 0) return [];
  const split = splitFromPixels(model.spec!, decoded);
  const out = await runSplit(model, split, options.batchSize ?? DEFAULT_BATCH_SIZE, false);
  const k = model.labels.length;
  return out.ids.map((file, i) => {
    const probs = Array.from(out.probs.subarray(i * k, (i + 1) * k));
    const order = probs.map((p, c) => [p, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = order.slice(0, topK).map(([p, c]) => ({ label: model.labels[c], score: p }));
    if (model.multiLabel) return { file, ...thresholded(probs, model.labels, threshold), top, probs };
    return { file, label: top[0].label, score: top[0].score, top, probs };
  });
}

/** The multi-label fields of a prediction: the labels at or above `threshold`, most probable first. */
export function thresholded(probs: ArrayLike<number>, labels: string[], threshold: number): Pick<Prediction, 'label' | 'score' | 'labels' | 'threshold'> {
  const picked = Array.from(probs, (p, c) => ({ label: labels[c], score: p, c }))
    .filter((x) => x.score >= threshold)
    .sort((a, b) => b.score - a.score || a.c - b.c)
    .map(({ label, score }) => ({ label, score }));
  return { label: picked.map((p) => p.label).join(';'), score: Math.max(...Array.from(probs)), labels: picked, threshold };
}

/** A `--threshold` value checked: a number strictly between 0 and 1. */
export function checkThreshold(threshold: number | undefined): number | undefined {
  if (threshold !== undefined && !(threshold > 0 && threshold < 1)) {
    throw new FlashUserError(`--threshold must be a number between 0 and 1 (exclusive), got ${threshold}`);
  }
  return threshold;
}

/**
 * Serialises predictions for `--output`, by extension: .json (array), .jsonl (one object a line) or .csv. With
 * `inputRows` (a sharded predict) each row starts with its input row.
 */
export function formatPredictions(preds: Prediction[], labels: string[], format: 'json' | 'jsonl' | 'csv', inputRows?: number[]): string {
  if (preds.some((p) => p.labels !== undefined)) return formatMultiLabel(preds, labels, format, inputRows);
  if (format === 'csv') {
    return stringify(
      preds.map((p, i) => [...(inputRows ? [inputRows[i]] : []), p.file, p.label, p.score, ...p.probs]),
      { header: true, columns: [...(inputRows ? [ROW_FIELD] : []), 'file', 'label', 'score', ...labels] },
    );
  }
  const rows = preds.map((p, i) => withRow({ file: p.file, label: p.label, score: p.score, top_k: p.top, probs: Object.fromEntries(labels.map((l, c) => [l, p.probs[c]])) }, inputRows?.[i]));
  if (format === 'jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/**
 * Multi-label predictions: csv `file,labels,<label>…` (labels joined with ';', empty when none, then every
 * label's probability); json/jsonl `{ file, labels: [{ label, score }], threshold, probs }`.
 */
function formatMultiLabel(preds: Prediction[], labels: string[], format: 'json' | 'jsonl' | 'csv', inputRows?: number[]): string {
  if (format === 'csv') {
    return stringify(
      preds.map((p, i) => [...(inputRows ? [inputRows[i]] : []), p.file, p.label, ...p.probs]),
      { header: true, columns: [...(inputRows ? [ROW_FIELD] : []), 'file', 'labels', ...labels] },
    );
  }
  const rows = preds.map((p, i) => withRow({ file: p.file, labels: p.labels ?? [], threshold: p.threshold, probs: Object.fromEntries(labels.map((l, c) => [l, p.probs[c]])) }, inputRows?.[i]));
  if (format === 'jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** The output format implied by a file name, or a user error naming it. */
export function outputFormat(path: string): 'json' | 'jsonl' | 'csv' {
  const ext = extname(path).toLowerCase().slice(1);
  if (ext === 'json' || ext === 'jsonl' || ext === 'csv') return ext;
  throw new FlashUserError(`--output '${path}': unknown format '.${ext}'; use .json, .jsonl or .csv`);
}

/** Writes predictions to a file atomically, in the format its extension names (rows: see formatPredictions). */
export async function writePredictions(path: string, preds: Prediction[], labels: string[], cwd = process.cwd(), inputRows?: number[]): Promise<string> {
  const full = resolve(cwd, path);
  await writeFileAtomic(full, formatPredictions(preds, labels, outputFormat(path), inputRows));
  return full;
}

/** A plain-text table: file, label, and the top-k classes with their probabilities. */
export function predictionTable(preds: Prediction[], relativeTo?: (file: string) => string): string {
  if (preds.some((p) => p.labels !== undefined)) {
    // Multi-label: every label at or above the threshold with its probability.
    const t = preds.find((p) => p.threshold !== undefined)?.threshold ?? DEFAULT_THRESHOLD;
    const rows = preds.map((p) => [relativeTo ? relativeTo(p.file) : p.file, p.labels!.length ? p.labels!.map((l) => `${l.label} ${l.score.toFixed(3)}`).join(', ') : '(none)']);
    return table(['file', `labels (probability >= ${t})`], rows);
  }
  const rows = preds.map((p) => [relativeTo ? relativeTo(p.file) : p.file, p.label, p.top.map((t) => `${t.label} ${t.score.toFixed(3)}`).join(', ')]);
  return table(['file', 'label', 'top-k'], rows);
}

/** A plain-text table (kept here for the image task's callers; see tasks/classification/text_table.ts). */
export const table = textTable;
