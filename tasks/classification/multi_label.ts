/**
 * What a multi-label run does differently, for any `*_classification` task: which metric picks the best
 * checkpoint (arg-max accuracy means nothing when a sample has several labels) and the per-label table printed
 * at the end. The loss and activation are in objective.ts, the metrics in src/core/metrics/multi_label.ts.
 */
import type { TrainerRecipe } from '../../src/core/config/index.js';
import type { ClassificationModelRecipe } from './schema.js';
import { FlashUserError } from '../../src/core/errors.js';
import { f1MicroValue, macroPrf, perClassReport } from '../../src/core/metrics/index.js';
import { metricInput, runSplit } from '../../src/core/trainer/evaluate.js';
import type { DataSplit, TaskModule } from '../../src/core/trainer/types.js';
import { DEFAULT_MULTI_LABEL_METRICS } from './objective.js';
import { textTable } from './text_table.js';

/** A recipe's classification keys, as these functions read them. */
type ClassificationRecipe = { trainer: TrainerRecipe; model: ClassificationModelRecipe };

/** A classifier as the per-label table reads it. */
type Classifier = TaskModule & { readonly labels: string[] };

/** The recipe's `model.multi_label` as the data options take it ('auto', or forced on/off). */
export function multiLabelMode(recipe: ClassificationRecipe): 'auto' | boolean {
  const v = recipe.model.multi_label;
  return v === 'auto' ? 'auto' : v === 'true';
}

/** The monitor a multi-label run uses when the recipe keeps the single-label default (val_accuracy). */
export const MULTI_LABEL_MONITOR = 'val_f1_macro';

/** The metric keys a multi-label run logs for validation (besides val_loss). */
export function multiLabelMonitors(): string[] {
  return ['val_loss', ...DEFAULT_MULTI_LABEL_METRICS.map((m) => `val_${m}`)];
}

/**
 * The monitor and its mode for a run. Single-label: the recipe's. Multi-label: the recipe's when it names a
 * multi-label metric; the default val_accuracy becomes val_f1_macro (said in the run's output); any other
 * single-label metric is a user error listing the ones that exist.
 */
export function multiLabelRun(
  recipe: ClassificationRecipe,
  multiLabel: boolean,
  say: (line: string) => void,
): { monitor: string; monitorMode: 'auto' | 'max' | 'min' } {
  const { monitor, monitor_mode: monitorMode } = recipe.trainer;
  if (!multiLabel) return { monitor, monitorMode };
  const known = multiLabelMonitors();
  if (known.includes(monitor) || monitor.startsWith('train_')) return { monitor, monitorMode };
  if (monitor === 'val_accuracy') {
    say(`multi-label: monitoring ${MULTI_LABEL_MONITOR} (val_accuracy is single-label arg-max accuracy); metrics at threshold ${recipe.model.threshold}`);
    return { monitor: MULTI_LABEL_MONITOR, monitorMode: 'auto' };
  }
  throw new FlashUserError(`--trainer.monitor '${monitor}' is not logged for multi-label data; use one of ${known.join(', ')}`);
}

/**
 * The per-label table of a multi-label model on a labelled split: precision, recall, F1 at the model's threshold,
 * support (images carrying the label) and AUROC, then micro and macro F1.
 */
export async function perLabelTable(model: Classifier, split: DataSplit, batchSize: number, unit = 'samples'): Promise<string> {
  const out = await runSplit(model, split, batchSize, false);
  const input = metricInput(model, out);
  const rows = perClassReport(input, model.labels).map((r) => [
    r.label,
    r.precision.toFixed(3),
    r.recall.toFixed(3),
    r.f1.toFixed(3),
    String(r.support),
    Number.isNaN(r.auroc) ? 'n/a' : r.auroc.toFixed(3),
  ]);
  const summary = `micro f1 ${f1MicroValue(input).toFixed(3)} · macro f1 ${macroPrf(input, 'f1').toFixed(3)} · ${out.ids.length} ${unit}`;
  return `${textTable(['label', 'precision', 'recall', 'f1', 'support', 'auroc'], rows)}${summary}\n`;
}
