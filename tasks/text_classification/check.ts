/**
 * `flash text_classification --check`: lints the text data without training — rows and empty texts per split,
 * label counts, exact and near duplicates inside the train split and across splits (leakage), text lengths in
 * words, texts longer than max_length, and files that cannot be read (not UTF-8, a bad JSON line). Exits 1 when
 * training would be meaningless (a file that cannot be read, fewer than two classes).
 */
import { FlashUserError } from '../../src/core/errors.js';
import type { TaskIO } from '../../src/core/task_io.js';
import { textTable } from '../classification/text_table.js';
import { multiLabelMode } from '../classification/multi_label.js';
import { labelNames, labelReading, textBuilders, tokenizerConfig } from './data.js';
import type { RawRow } from './read.js';
import type { TextRecipe } from './schema.js';
import { words } from './tokenizer.js';

export interface TextSplitCheck {
  rows: number;
  empty: number;
  /** Rows whose text repeats an earlier row of the same split exactly. */
  duplicates: number;
  /** …or equals it once normalised (NFKC, lower case, punctuation and spacing ignored). */
  near_duplicates: number;
  /** Rows of val/test whose (normalised) text is also in train. */
  in_train?: number;
  /** Words per text (after the tokenizer), over non-empty texts. */
  words: { min: number; median: number; p95: number; max: number };
  /** Texts longer than data.max_length words (cut when training). */
  over_max_length: number;
  labels: Record<string, number>;
}

export interface TextCheckReport {
  ok: boolean;
  multi_label: boolean;
  splits: Record<string, TextSplitCheck>;
  problems: string[];
  warnings: string[];
}

/** Exact and normalised keys of a text, for duplicates. */
const exactKey = (t: string) => t.trim();
const nearKey = (t: string) => t.normalize('NFKC').toLowerCase().replace(/[\p{P}\p{S}\s]+/gu, ' ').trim();

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

/** The check of a recipe's data. */
export async function checkTextData(recipe: TextRecipe, cwd: string): Promise<TextCheckReport> {
  const d = recipe.data;
  const problems: string[] = [];
  const warnings: string[] = [];
  const builder = textBuilders.get(d.builder);
  const notes: string[] = [];
  let raw: Awaited<ReturnType<typeof builder.read>>;
  try {
    raw = await builder.read(d, cwd, notes);
  } catch (err) {
    if (!(err instanceof FlashUserError)) throw err;
    return { ok: false, multi_label: false, splits: {}, problems: [err.message], warnings };
  }
  const targetFields = builder.options.includes('target_fields') ? d.target_fields : ['label'];
  const config = tokenizerConfig(d);
  const nonEmpty = (rows: RawRow[]) => rows.filter((r) => r.text.trim() !== '');
  let reading = { multiLabel: false } as ReturnType<typeof labelReading>;
  try {
    reading = labelReading(nonEmpty(raw.train), targetFields, multiLabelMode(recipe));
  } catch (err) {
    if (!(err instanceof FlashUserError)) throw err;
    problems.push(err.message);
  }
  const trainExact = new Set(raw.train.map((r) => exactKey(r.text)));
  const trainNear = new Set(raw.train.map((r) => nearKey(r.text)));
  const splits: Record<string, TextSplitCheck> = {};
  for (const [name, rows] of [['train', raw.train], ['val', raw.val], ['test', raw.test]] as const) {
    if (!rows) continue;
    const labels: Record<string, number> = {};
    for (const r of nonEmpty(rows)) {
      try {
        for (const l of labelNames(r, targetFields, reading)) labels[l] = (labels[l] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof FlashUserError)) throw err;
        problems.push(err.message);
        break;
      }
    }
    const seenExact = new Set<string>();
    const seenNear = new Set<string>();
    let duplicates = 0;
    let near = 0;
    let inTrain = 0;
    let over = 0;
    const lengths: number[] = [];
    for (const r of nonEmpty(rows)) {
      const e = exactKey(r.text);
      const n = nearKey(r.text);
      if (seenExact.has(e)) duplicates++;
      else if (seenNear.has(n)) near++;
      seenExact.add(e);
      seenNear.add(n);
      if (name !== 'train' && (trainExact.has(e) || trainNear.has(n))) inTrain++;
      const w = words(config, r.text);
      lengths.push(w.words.length);
      if (w.truncated) over++;
    }
    lengths.sort((a, b) => a - b);
    const empty = rows.length - nonEmpty(rows).length;
    splits[name] = {
      rows: rows.length,
      empty,
      duplicates,
      near_duplicates: near,
      ...(name !== 'train' ? { in_train: inTrain } : {}),
      words: { min: lengths[0] ?? 0, median: quantile(lengths, 0.5), p95: quantile(lengths, 0.95), max: lengths.at(-1) ?? 0 },
      over_max_length: over,
      labels,
    };
    if (empty) warnings.push(`${name}: ${empty} empty text(s), skipped when training (fatal with --trainer.strict true)`);
    if (duplicates + near) warnings.push(`${name}: ${duplicates} duplicate and ${near} near-duplicate text(s)`);
    if (inTrain) warnings.push(`${name}: ${inTrain} text(s) also in train (leakage: the ${name} metrics flatter the model)`);
    if (over) warnings.push(`${name}: ${over} text(s) longer than data.max_length ${d.max_length} words, cut when training`);
  }
  const trainLabels = Object.keys(splits.train?.labels ?? {});
  if (splits.train && trainLabels.length < 2 && problems.length === 0) problems.push(`train: ${trainLabels.length} class(es) (${trainLabels.join(', ')}); a classifier needs at least two`);
  const counts = Object.values(splits.train?.labels ?? {});
  if (counts.length > 1 && Math.max(...counts) > 3 * Math.min(...counts)) warnings.push(`train: imbalanced labels (largest ${Math.max(...counts)}, smallest ${Math.min(...counts)}); data.class_weights auto weights the loss`);
  return { ok: problems.length === 0, multi_label: reading.multiLabel, splits, problems, warnings };
}

/** The report as text: a table of the splits, then the labels, warnings and problems. */
export function checkText(r: TextCheckReport): string {
  const names = Object.keys(r.splits);
  const rows = names.map((n) => {
    const s = r.splits[n];
    return [n, String(s.rows), String(s.empty), `${s.duplicates}/${s.near_duplicates}`, s.in_train === undefined ? '-' : String(s.in_train), `${s.words.min}/${s.words.median}/${s.words.p95}/${s.words.max}`, String(s.over_max_length)];
  });
  const labels = [...new Set(names.flatMap((n) => Object.keys(r.splits[n].labels)))].sort();
  const labelRows = labels.map((l) => [l, ...names.map((n) => String(r.splits[n].labels[l] ?? 0))]);
  return [
    names.length ? textTable(['split', 'rows', 'empty', 'dup/near', 'in train', 'words min/median/p95/max', 'over max_length'], rows) : '',
    labels.length ? `\n${r.multi_label ? 'texts per label (multi-label)' : 'texts per class'}:\n${textTable(['label', ...names], labelRows)}` : '',
    ...r.warnings.map((w) => `warning: ${w}\n`),
    ...r.problems.map((p) => `problem: ${p}\n`),
    r.ok ? 'ok: the data can be trained on\n' : '',
  ].join('');
}

/** `--check [--json]`: prints the report; a failed check exits 1. */
export async function checkCommand(args: { recipe: TextRecipe; io: TaskIO; json: boolean }): Promise<TextCheckReport> {
  const report = await checkTextData(args.recipe, args.io.cwd);
  args.io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : checkText(report));
  if (!report.ok) throw new FlashUserError(`data check failed: ${report.problems.join('; ')}`, 1);
  return report;
}
