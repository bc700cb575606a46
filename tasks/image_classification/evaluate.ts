import { computeMetrics, perClassReport, type ClassReportRow } from '../../src/core/metrics/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { runSplit } from '../../src/core/trainer/evaluate.js';
import { scanClassFolders, splitFromPixels } from './data/index.js';
import type { ImageClassifier } from './model.js';
import { decodeForModel, table, type PredictOptions } from './predict.js';

export interface EvaluationResult {
  metrics: Record<string, number>;
  perClass: ClassReportRow[];
  count: number;
}

/** Scores a trained classifier on a folder of class sub-folders whose names are among the model's labels. */
export async function evaluateFolder(model: ImageClassifier, folder: string, options: PredictOptions = {}): Promise<EvaluationResult> {
  if (model.multiLabel) {
    // Class folders give each image one label, which would score a multi-label model against half-true targets.
    throw new FlashUserError(
      `'${folder}': flash evaluate reads class folders (one label per image) and this model is multi-label; train with --test_file labels.csv to score it on labelled data`,
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
  const out = await runSplit(model, splitFromPixels(model.spec!, decoded), options.batchSize ?? 32, true);
  const input = { probs: out.probs, labels: out.labels, numClasses: model.labels.length };
  const metrics = { loss: out.loss, ...computeMetrics(input, model.metricNames) };
  return { metrics, perClass: perClassReport(input, model.labels), count: decoded.length };
}

/** The evaluation as text: overall metrics, then precision/recall/F1/support/AUROC per class. */
export function evaluationText(result: EvaluationResult): string {
  const overall = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ');
  const rows = result.perClass.map((r) => [r.label, r.precision.toFixed(3), r.recall.toFixed(3), r.f1.toFixed(3), String(r.support), Number.isNaN(r.auroc) ? 'n/a' : r.auroc.toFixed(3)]);
  return `${result.count} images · ${overall}\n\n${table(['class', 'precision', 'recall', 'f1', 'support', 'auroc'], rows)}`;
}
