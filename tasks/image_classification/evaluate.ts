import { computeMetrics, perClassReport, type ClassReportRow } from '../../src/core/metrics/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { didYouMean } from '../../src/core/suggest.js';
import { metricInput, runSplit } from '../../src/core/trainer/evaluate.js';
import { multiHotFrom, readCsv, scanClassFolders, splitFromPixels } from './data/index.js';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { decodeForModel, table, type ImageClassifierLike, type PredictOptions } from './predict.js';
import { DEFAULT_BATCH_SIZE } from '../../src/core/config/index.js';

export interface EvaluationResult {
  metrics: Record<string, number>;
  perClass: ClassReportRow[];
  count: number;
  /** Multi-label models: metrics thresholded at `threshold`; support = images carrying each label. */
  multiLabel?: boolean;
  threshold?: number;
}

/** Scores a trained classifier on a folder of class sub-folders whose names are among the model's labels. */
export async function evaluateFolder(model: ImageClassifierLike, folder: string, options: PredictOptions = {}): Promise<EvaluationResult> {
  if (model.multiLabel) {
    // Class folders give each image one label, which would score a multi-label model against half-true targets.
    throw new FlashUserError(
      `'${folder}': class folders give one label per image and this model is multi-label; evaluate a labelled CSV instead (flash evaluate --model RUN --csv labels.csv)`,
    );
  }
  const scanned = await scanClassFolders(folder);
  const index = new Map(model.labels.map((l, i) => [l, i]));
  const unknown = scanned.labels.filter((l) => !index.has(l));
  if (unknown.length > 0) {
    throw new FlashUserError(`class folder(s) ${unknown.map((u) => `'${u}'`).join(', ')} in '${folder}' are not classes of this model (${model.labels.join(', ')})`);
  }
  const items = scanned.samples.map((s) => ({ file: s.file, label: index.get(scanned.labels[s.label]) as number }));
  const decoded = await decodeForModel(model, items, options);
  if (decoded.length === 0) throw new FlashUserError(`no decodable images in '${folder}'`);
  const out = await runSplit(model, splitFromPixels(model.spec!, decoded), options.batchSize ?? DEFAULT_BATCH_SIZE, true);
  const input = { probs: out.probs, labels: out.labels, numClasses: model.labels.length };
  const metrics = { loss: out.loss, ...computeMetrics(input, model.metricNames) };
  return { metrics, perClass: perClassReport(input, model.labels), count: decoded.length };
}

/** The columns of an evaluation CSV: the run's own `input_field` and `target_fields` unless given. */
export interface CsvFields {
  inputField: string;
  targetFields: string[];
}

/**
 * Scores a trained classifier on a labelled CSV laid out as for `from_csv` (image paths relative to the CSV's
 * folder, or to `imagesRoot`): one label column for a single-label model; for a multi-label model 0/1 columns or
 * one column of separated labels, thresholded at the model's threshold. Labels must be the model's.
 */
export async function evaluateCsv(
  model: ImageClassifierLike,
  csv: string,
  fields: CsvFields,
  options: PredictOptions & { imagesRoot?: string } = {},
): Promise<EvaluationResult> {
  const { rows } = await readCsv(csv, { ...fields, multiLabel: model.multiLabel ? true : 'auto' });
  const index = new Map(model.labels.map((l, i) => [l, i]));
  const known = (name: string, line: number): number => {
    const i = index.get(name);
    if (i === undefined) throw new FlashUserError(`'${csv}' line ${line}: label '${name}' is not one of the model's labels${didYouMean(name, model.labels)} (${model.labels.join(', ')})`);
    return i;
  };
  const listed = rows.find((r) => (r.targets?.length ?? 0) > 1);
  if (!model.multiLabel && listed) throw new FlashUserError(`'${csv}' line ${listed.line}: several labels in one row, but this model predicts one class per image`);
  const root = options.imagesRoot ?? dirname(csv);
  // Decoding keeps the order and drops undecodable files, so each item carries its row number as its label.
  const items = rows.map((r, i) => ({ file: isAbsolute(r.input) ? r.input : resolvePath(root, r.input), label: i }));
  const decoded = await decodeForModel(model, items, options);
  if (decoded.length === 0) throw new FlashUserError(`no decodable images in '${csv}'`);
  const k = model.labels.length;
  let split;
  if (model.multiLabel) {
    const targets = decoded.map((d) => (rows[d.label].targets ?? [rows[d.label].target!]).map((n) => known(n, rows[d.label].line)));
    split = splitFromPixels(model.spec!, decoded, undefined, multiHotFrom(targets, k).multiHot);
  } else {
    split = splitFromPixels(
      model.spec!,
      decoded.map((d) => {
        const r = rows[d.label];
        const name = r.target ?? r.targets?.[0];
        if (name === undefined) throw new FlashUserError(`'${csv}' line ${r.line}: empty label`);
        return { ...d, label: known(name, r.line) };
      }),
    );
  }
  const out = await runSplit(model, split, options.batchSize ?? DEFAULT_BATCH_SIZE, true);
  const input = metricInput(model, out);
  const metrics = { loss: out.loss, ...computeMetrics(input, model.metricNames) };
  return { metrics, perClass: perClassReport(input, model.labels), count: decoded.length, ...(model.multiLabel ? { multiLabel: true, threshold: model.threshold } : {}) };
}

/** The evaluation as text: overall metrics, then precision/recall/F1/support/AUROC per class (per label, multi-label). */
export function evaluationText(result: EvaluationResult): string {
  const overall = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ');
  const rows = result.perClass.map((r) => [r.label, r.precision.toFixed(3), r.recall.toFixed(3), r.f1.toFixed(3), String(r.support), Number.isNaN(r.auroc) ? 'n/a' : r.auroc.toFixed(3)]);
  const head = result.multiLabel ? `${result.count} images · multi-label, threshold ${result.threshold} · ${overall}` : `${result.count} images · ${overall}`;
  return `${head}\n\n${table([result.multiLabel ? 'label' : 'class', 'precision', 'recall', 'f1', 'support', 'auroc'], rows)}`;
}
