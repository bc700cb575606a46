import { extname, relative, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { didYouMean } from '../../src/core/suggest.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/core/io/atomic.js';
import { computeMetrics, perClassReport, type ClassReportRow } from '../../src/core/metrics/index.js';
import { readRunMeta } from '../../src/core/run/run_folder.js';
import { metricInput, runSplit } from '../../src/core/trainer/evaluate.js';
import { textTable } from '../classification/text_table.js';
import type { TextEvaluateArgs, TextPredictArgs } from './cli.js';
import { labelledSplit } from './data.js';
import { TextClassifier, type PredictTextOptions, type TextPrediction } from './model.js';
import { readCsvTexts, readFolderTexts, readJsonTexts, type RawRow } from './read.js';
import { encode } from './tokenizer.js';
import { ROW_FIELD, selectShard, withRow } from '../../src/core/shard/shard.js';

/** Classifies texts with a loaded classifier, in their order (see TextClassifier.predict). */
export function predictTexts(clf: TextClassifier, texts: string[], o: PredictTextOptions = {}): Promise<TextPrediction[]> {
  return clf.predict(texts, o);
}

/**
 * Predictions as a file's content, by format: csv (text, label, score, one column per class), json or jsonl; with
 * `inputRows` (a sharded predict) each row starts with its input row.
 */
export function formatTextPredictions(preds: TextPrediction[], labels: string[], format: 'csv' | 'json' | 'jsonl', inputRows?: number[]): string {
  const keep = Object.keys(preds[0]?.columns ?? {});
  const cell = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
  if (format === 'csv') {
    if (inputRows && keep.includes(ROW_FIELD)) throw new FlashUserError(`--keep_columns: a sharded output has its own '${ROW_FIELD}' column; don't keep one of that name`);
    return stringify(
      preds.map((p, i) => [...(inputRows ? [inputRows[i]] : []), ...keep.map((c) => cell(p.columns![c])), p.text, p.label, p.score, ...p.probs]),
      { header: true, columns: [...(inputRows ? [ROW_FIELD] : []), ...keep, 'text', 'label', 'score', ...labels] },
    );
  }
  const rows = preds.map((p, i) => withRow({
    ...p.columns,
    text: p.text,
    label: p.label,
    score: p.score,
    ...(p.labels ? { labels: p.labels, threshold: p.threshold } : { top_k: p.top }),
    probs: Object.fromEntries(labels.map((l, c) => [l, p.probs[c]])),
  }, inputRows?.[i]));
  if (format === 'jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** The text field a run was trained on (for a --csv without --input_field). */
async function runInputField(runDir: string): Promise<string> {
  const meta = await readRunMeta<{ input_field?: string } & Awaited<ReturnType<typeof readRunMeta>>>(runDir);
  return meta.input_field ?? 'text';
}

/** Rows of a file by its extension: .jsonl/.json as JSON, anything else as CSV. */
function readTexts(file: string, opts: { inputField: string; targetFields?: string[] }): Promise<RawRow[]> {
  return /\.jsonl?$/i.test(file) ? readJsonTexts(file, opts) : readCsvTexts(file, opts);
}

/** All of stdin as UTF-8 (`--csv -`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `flash predict` on a text run: texts from the command line or a file; a table, or a file with --output. */
export async function predictCommand(args: TextPredictArgs): Promise<TextPrediction[]> {
  const { io } = args;
  const runDir = resolve(io.cwd, args.model);
  io.err(`${describeBackend(await selectBackend(args.backend))}\n`);
  const clf = await TextClassifier.load(runDir);
  try {
    let texts = args.texts ?? [];
    let kept: Record<string, unknown>[] | undefined;
    if (args.file === '-') {
      texts = (await readStdin()).split(/\r?\n/).filter((l) => l.trim() !== '');
    } else if (args.file !== undefined) {
      const file = resolve(io.cwd, args.file);
      const inputField = args.inputField ?? (await runInputField(runDir));
      const rows = await readTexts(file, { inputField });
      texts = rows.map((r) => r.text);
      if (args.keepColumns) {
        const columns = Object.keys(rows[0]?.columns ?? {});
        const missing = args.keepColumns.find((c) => !columns.includes(c));
        if (missing !== undefined) throw new FlashUserError(`--keep_columns: no column '${missing}' in '${args.file}'${didYouMean(missing, columns)}; its columns: ${columns.join(', ')}`);
        kept = rows.map((r) => Object.fromEntries(args.keepColumns!.map((c) => [c, r.columns?.[c] ?? ''])));
      }
    }
    // --shard i/n: a contiguous range of the texts in order; its rows carry their input row.
    const picked = selectShard(texts, args.shard);
    texts = picked.items;
    if (kept) kept = selectShard(kept, args.shard).items;
    const preds = await predictTexts(clf, texts, { topK: args.topK, threshold: args.threshold, batchSize: args.batchSize });
    if (kept) preds.forEach((p, i) => (p.columns = kept![i]));
    const cut = texts.filter((t) => encode(clf.tokenizer, t).truncated).length;
    if (cut > 0) io.err(`warning: ${cut} text(s) longer than the model's max_length ${clf.tokenizer.config.max_length} words were cut to it\n`);
    if (args.output) {
      const path = resolve(io.cwd, args.output);
      await writeFileAtomic(path, formatTextPredictions(preds, clf.labels, extname(path).slice(1).toLowerCase() as 'csv' | 'json' | 'jsonl', args.shard ? picked.rows : undefined));
      io.out(`wrote ${preds.length} predictions to ${relative(io.cwd, path)}\n`);
    } else {
      const short = (t: string) => {
        const one = t.replace(/\s+/g, ' ').trim();
        return [...one].length > 50 ? `${[...one].slice(0, 49).join('')}…` : one;
      };
      io.out(textTable(['text', 'label', 'top-k'], preds.map((p) => [short(p.text), p.label || '(none)', p.top.map((t) => `${t.label} ${t.score.toFixed(3)}`).join(', ')])));
    }
    return preds;
  } finally {
    clf.dispose();
  }
}

export interface TextEvaluation {
  count: number;
  metrics: Record<string, number>;
  perClass: ClassReportRow[];
  multiLabel: boolean;
}

/** Scores a classifier on labelled rows. */
export async function evaluateRows(clf: TextClassifier, rows: RawRow[], targetFields: string[], batchSize = 32): Promise<TextEvaluation> {
  const split = labelledSplit(rows, targetFields, clf);
  const out = await runSplit(clf, split, batchSize, true);
  const input = metricInput(clf, out);
  return { count: split.size, metrics: { loss: out.loss, ...computeMetrics(input, clf.metricNames) }, perClass: perClassReport(input, clf.labels), multiLabel: clf.multiLabel };
}

/** `flash evaluate` on a text run: overall metrics and a per-class table. */
export async function evaluateCommand(args: TextEvaluateArgs): Promise<TextEvaluation> {
  const { io } = args;
  const runDir = resolve(io.cwd, args.model);
  io.err(`${describeBackend(await selectBackend(args.backend))}\n`);
  const clf = await TextClassifier.load(runDir);
  try {
    const meta = await readRunMeta<{ input_field?: string; target_fields?: string[] } & Awaited<ReturnType<typeof readRunMeta>>>(runDir);
    const inputField = args.inputField ?? meta.input_field ?? 'text';
    let targetFields = args.targetFields ?? meta.target_fields ?? ['label'];
    let rows: RawRow[];
    if (args.folder !== undefined) {
      rows = (await readFolderTexts(resolve(io.cwd, args.folder))).rows;
      targetFields = ['label'];
    } else {
      rows = await readTexts(resolve(io.cwd, (args.csv ?? args.jsonl)!), { inputField, targetFields });
    }
    const result = await evaluateRows(clf, rows, targetFields, args.batchSize);
    const overall = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ');
    const table = result.perClass.map((r) => [r.label, r.precision.toFixed(3), r.recall.toFixed(3), r.f1.toFixed(3), String(r.support), Number.isNaN(r.auroc) ? 'n/a' : r.auroc.toFixed(3)]);
    io.out(`${result.count} texts${result.multiLabel ? ` · multi-label, threshold ${clf.threshold}` : ''} · ${overall}\n\n${textTable([result.multiLabel ? 'label' : 'class', 'precision', 'recall', 'f1', 'support', 'auroc'], table)}`);
    if (args.output) await writeJsonAtomic(resolve(io.cwd, args.output), result);
    return result;
  } finally {
    clf.dispose();
  }
}
