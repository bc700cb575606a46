/**
 * text_classification's data: rows read by read.ts → labels (one per text, or several) → a stratified val split
 * when no val file is given → a tokenizer fitted on the training split only → splits of encoded texts whose
 * batches are the model's input vectors.
 */
import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { FlashUserError } from '../../src/core/errors.js';
import { mulberry32 } from '../../src/core/random.js';
import { Registry } from '../../src/core/registry.js';
import { didYouMean } from '../../src/core/suggest.js';
import type { Batch, BatchOptions, DataModuleLike, DataSplit } from '../../src/core/trainer/types.js';
import { inputTensor, type TextInput } from './input.js';
import { readCsvTexts, readFolderTexts, readJsonTexts, type RawRow } from './read.js';
import type { TextRecipe } from './schema.js';

type TextDataRecipe = TextRecipe['data'];
import { encode, featureCount, fitTokenizer, type EncodedText, type TokenizerConfig, type TokenizerState } from './tokenizer.js';

/** Encoded texts and their targets: class indices, or for multi-label the sorted label indices of each text. */
export class TextSplit implements DataSplit {
  constructor(
    readonly ids: string[],
    readonly encoded: EncodedText[],
    readonly targets: number[][],
    readonly tokenizer: TokenizerState,
    readonly numClasses: number,
    readonly multiLabel: boolean,
    /** The texts themselves, for reports (the most confidently wrong ones). */
    readonly texts?: string[],
  ) {}
  /** The layout batches come in: the model's (TextClassifier.setup(data) sets it); the default model's until then. */
  input: TextInput = { layout: 'bag' };
  /** Width of the dense layout (every feature id). */
  get dim(): number {
    return featureCount(this.tokenizer);
  }
  get size(): number {
    return this.ids.length;
  }
  async *batches(opts: BatchOptions): AsyncIterable<Batch> {
    const order = this.ids.map((_, i) => i);
    if (opts.shuffle) shuffle(order, mulberry32(((opts.seed ?? 0) * 7919 + (opts.epoch ?? 0) * 104729) >>> 0));
    for (let i = 0; i < order.length; i += opts.batchSize) {
      const idx = order.slice(i, i + opts.batchSize);
      const x = inputTensor(this.input, this.tokenizer, idx.map((k) => this.encoded[k]));
      let y: tf.Tensor;
      if (this.multiLabel) {
        const m = new Float32Array(idx.length * this.numClasses);
        idx.forEach((k, row) => this.targets[k].forEach((c) => (m[row * this.numClasses + c] = 1)));
        y = tf.tensor2d(m, [idx.length, this.numClasses]);
      } else {
        y = tf.tensor1d(idx.map((k) => this.targets[k][0] ?? -1), 'int32');
      }
      yield { x, y, ids: idx.map((k) => this.ids[k]) };
    }
  }
  /** Texts carrying each class (single-label: its count). */
  classCounts(): number[] {
    const counts = new Array<number>(this.numClasses).fill(0);
    for (const t of this.targets) for (const c of t) counts[c]++;
    return counts;
  }
}

function shuffle<T>(a: T[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

/** Everything a run knows of its data. */
export interface TextData extends DataModuleLike {
  readonly train: TextSplit;
  readonly val?: TextSplit;
  readonly test?: TextSplit;
  labels: string[];
  multiLabel: boolean;
  tokenizer: TokenizerState;
  /** Lines for the run's output: counts, what was skipped or cut. */
  notes: string[];
}

/** Where the rows of each split come from: a data builder. */
export interface TextBuilder {
  description: string;
  options: string[];
  read(d: TextDataRecipe, cwd: string, notes: string[]): Promise<{ train: RawRow[]; val?: RawRow[]; test?: RawRow[]; origin: string }>;
}

const fileAt = (cwd: string, f: string | null) => (f === null ? undefined : resolve(cwd, f));

/** A file builder from a reader. */
function fileBuilder(description: string, reader: typeof readCsvTexts): TextBuilder {
  return {
    description,
    options: ['train_file', 'val_file', 'test_file', 'input_field', 'target_fields', 'val_split'],
    async read(d, cwd) {
      if (d.train_file === null) throw new FlashUserError("missing required option '--train_file' (data.train_file)");
      const opts = { inputField: d.input_field, targetFields: d.target_fields };
      const at = (f: string | null) => (f === null ? undefined : reader(fileAt(cwd, f)!, opts));
      return { train: (await at(d.train_file))!, val: await at(d.val_file), test: await at(d.test_file), origin: `'${d.train_file}'` };
    },
  };
}

/** The data builders (Flash's `from_*`), by name. */
export const textBuilders = new Registry<TextBuilder>('builder');
textBuilders.register('from_csv', fileBuilder('CSV files with a text column and a label column (or several 0/1 label columns)', readCsvTexts), 'CSV files');
textBuilders.register('from_json', fileBuilder('JSON lines files (one object a line) with a text field and a label field (a label, a list of labels, or several 0/1 fields)', readJsonTexts), 'JSON lines files');
textBuilders.register(
  'from_folders',
  {
    description: 'folders of class sub-folders of .txt files (one text a file)',
    options: ['train_folder', 'val_folder', 'test_folder', 'val_split'],
    async read(d, cwd, notes) {
      if (d.train_folder === null) throw new FlashUserError("missing required option '--train_folder' (data.train_folder)");
      const at = async (f: string | null) => {
        if (f === null) return undefined;
        const { rows, ignored } = await readFolderTexts(fileAt(cwd, f)!);
        if (ignored > 0) notes.push(`ignored ${ignored} non-.txt file(s) in '${f}'`);
        return rows;
      };
      return { train: (await at(d.train_folder))!, val: await at(d.val_folder), test: await at(d.test_folder), origin: `'${d.train_folder}'` };
    },
  },
  'class folders of .txt files',
);

/** Separators of several labels in one cell, one kind per column. */
const LABEL_DELIMITERS = [';', '|', ','];
const ONE = new Set(['1', '1.0', 'true', 'yes']);
const ZERO = new Set(['0', '0.0', 'false', 'no', '']);

/** How the train rows hold labels: single, 0/1 columns, lists (JSON arrays) or delimited cells. */
export interface LabelReading {
  multiLabel: boolean;
  delimiter?: string;
}

export function labelReading(rows: RawRow[], targetFields: string[], mode: 'auto' | boolean): LabelReading {
  if (targetFields.length > 1) {
    if (mode === false) throw new FlashUserError(`several target fields (${targetFields.join(', ')}) mean multi-label classification, but --model.multi_label is false; give one label column`);
    return { multiLabel: true };
  }
  if (rows.some((r) => Array.isArray(r.targets[0]))) {
    if (mode === false) throw new FlashUserError(`${rows.find((r) => Array.isArray(r.targets[0]))!.where}: a list of labels, but --model.multi_label is false`);
    return { multiLabel: true };
  }
  let found: { d: string; where: string } | undefined;
  for (const r of rows) {
    const cell = r.targets[0] as string;
    for (const d of LABEL_DELIMITERS) {
      if (!cell.includes(d)) continue;
      if (found && found.d !== d) throw new FlashUserError(`${r.where}: labels separated by '${d}', but ${found.where} uses '${found.d}'; use one separator in the column`);
      found ??= { d, where: r.where };
    }
  }
  if (found && mode === false) throw new FlashUserError(`${found.where}: the label looks like several labels separated by '${found.d}', but --model.multi_label is false (one label per row)`);
  if (found) return { multiLabel: true, delimiter: found.d };
  return mode === true ? { multiLabel: true, delimiter: ' ' } : { multiLabel: false };
}

/** One row's label names under a reading. */
export function labelNames(r: RawRow, targetFields: string[], reading: LabelReading): string[] {
  if (targetFields.length > 1) {
    return targetFields.filter((f, i) => {
      const v = String(r.targets[i]).toLowerCase();
      if (ONE.has(v)) return true;
      if (ZERO.has(v)) return false;
      throw new FlashUserError(`${r.where}: column ${f} holds '${r.targets[i]}'; each target column is one label, 1 (has it) or 0 (has not)`);
    });
  }
  const cell = r.targets[0];
  if (Array.isArray(cell)) return [...new Set(cell.map((c) => c.normalize('NFC')).filter((c) => c !== ''))];
  const v = cell.normalize('NFC');
  if (!reading.multiLabel) {
    if (v === '') throw new FlashUserError(`${r.where}: empty ${targetFields[0]} (the label)`);
    return [v];
  }
  const parts = reading.delimiter === ' ' ? v.split(/\s+/) : v.split(reading.delimiter ?? '\u0000');
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
}

/** Drops rows whose text is empty: a warning naming how many and the first, or with `strict` an error naming it. */
function dropEmpty(rows: RawRow[], field: string, strict: boolean, notes: string[]): RawRow[] {
  const empty = rows.filter((r) => r.text.trim() === '');
  if (empty.length === 0) return rows;
  if (strict) throw new FlashUserError(`${empty[0].where}: empty text (${field}); --trainer.strict is on`);
  notes.push(`warning: skipped ${empty.length} row(s) with an empty text (${field}), e.g. ${empty[0].where}; --trainer.strict true makes this fatal`);
  return rows.filter((r) => r.text.trim() !== '');
}

/** Indices of a stratified, seeded split: per class (by first label), round(n × fraction) to val, at least one each side. */
export function stratifiedSplit(keys: number[], fraction: number, seed: number): { train: number[]; val: number[] } {
  const byClass = new Map<number, number[]>();
  keys.forEach((k, i) => (byClass.get(k) ?? byClass.set(k, []).get(k)!).push(i));
  const rand = mulberry32(seed ^ 0x7e57);
  const train: number[] = [];
  const val: number[] = [];
  for (const k of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(k)!;
    shuffle(idx, rand);
    const n = idx.length < 2 || fraction === 0 ? 0 : Math.min(idx.length - 1, Math.max(1, Math.round(idx.length * fraction)));
    val.push(...idx.slice(0, n));
    train.push(...idx.slice(n));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/** The tokenizer config a recipe describes. */
export function tokenizerConfig(d: TextDataRecipe): TokenizerConfig {
  const subwords = d.subword_min > 0 && d.subword_max > 0 && d.subword_buckets > 0;
  return {
    splitter: d.tokenizer,
    normalize: d.normalize,
    lowercase: d.lowercase,
    max_length: d.max_length,
    subword_min: subwords ? d.subword_min : 0,
    subword_max: subwords ? d.subword_max : 0,
    subword_buckets: subwords ? d.subword_buckets : 0,
    bigram_buckets: d.bigram_buckets,
    most_common: d.most_common,
    min_count: d.min_count,
  };
}

export interface BuildTextDataOptions {
  builder: TextBuilder;
  data: TextDataRecipe;
  cwd: string;
  multiLabel: 'auto' | boolean;
  seed: number;
  strict: boolean;
  /** A saved tokenizer to use instead of fitting one (resume). */
  tokenizer?: TokenizerState;
}

/** Reads, labels, splits and encodes the data a recipe describes. */
export async function buildTextData(o: BuildTextDataOptions): Promise<TextData> {
  const d = o.data;
  const notes: string[] = [];
  const raw = await o.builder.read(d, o.cwd, notes);
  const targetFields = o.builder.options.includes('target_fields') ? d.target_fields : ['label'];
  const field = o.builder.options.includes('input_field') ? d.input_field : 'text';
  let train = dropEmpty(raw.train, field, o.strict, notes);
  const val = raw.val && dropEmpty(raw.val, field, o.strict, notes);
  const test = raw.test && dropEmpty(raw.test, field, o.strict, notes);
  if (train.length === 0) throw new FlashUserError(`${raw.origin}: no training text left (every text is empty)`);
  const reading = labelReading(train, targetFields, o.multiLabel);
  const names = (rows: RawRow[]) => rows.map((r) => labelNames(r, targetFields, reading));
  const trainNames = names(train);
  const labels = reading.multiLabel && targetFields.length > 1 ? [...targetFields] : [...new Set(trainNames.flat())].sort();
  const column = targetFields.length > 1 ? `the target columns ${targetFields.join(', ')}` : `the ${targetFields[0]} ${o.builder.options.includes('target_fields') ? 'column' : 'folders'}`;
  if (labels.length < 2) {
    throw new FlashUserError(`${raw.origin}: ${column} ${labels.length ? `has one class ('${labels[0]}')` : 'has no labels'}; a classifier needs at least two`);
  }
  const index = new Map(labels.map((l, i) => [l, i]));
  const toTargets = (rows: RawRow[], ns: string[][]) =>
    ns.map((n, i) =>
      n.map((name) => {
        const c = index.get(name);
        if (c === undefined) throw new FlashUserError(`${rows[i].where}: label '${name}' is not one of the labels in ${raw.origin}${didYouMean(name, labels)} (${labels.slice(0, 20).join(', ')})`);
        return c;
      }).sort((a, b) => a - b),
    );
  let trainTargets = toTargets(train, trainNames);
  let valRows = val;
  let valTargets = val && toTargets(val, names(val));
  if (!val && d.val_split > 0) {
    const split = stratifiedSplit(trainTargets.map((t) => t[0] ?? -1), d.val_split, o.seed);
    valRows = split.val.map((i) => train[i]);
    valTargets = split.val.map((i) => trainTargets[i]);
    train = split.train.map((i) => train[i]);
    trainTargets = split.train.map((i) => trainTargets[i]);
    if (valRows.length === 0) valRows = valTargets = undefined;
    else notes.push(`validation: ${valRows.length} texts held out of the training data (data.val_split ${d.val_split}, stratified, seed ${o.seed})`);
  }
  const testTargets = test && toTargets(test, names(test));
  // The vocabulary sees the training split only: validation and test words it has not seen are <unk>.
  const tokenizer = o.tokenizer ?? fitTokenizer(tokenizerConfig(d), train.map((r) => r.text));
  const dim = featureCount(tokenizer);
  let cut = 0;
  const split = (rows: RawRow[], targets: number[][]) => {
    const encoded = rows.map((r) => encode(tokenizer, r.text));
    cut += encoded.filter((e) => e.truncated).length;
    return new TextSplit(rows.map((r) => r.id), encoded, targets, tokenizer, labels.length, reading.multiLabel, rows.map((r) => r.text));
  };
  const data: TextData = {
    train: split(train, trainTargets),
    val: valRows && split(valRows, valTargets!),
    test: test && split(test, testTargets!),
    batchSize: d.batch_size,
    labels,
    multiLabel: reading.multiLabel,
    tokenizer,
    notes,
  };
  if (cut > 0) notes.push(`warning: ${cut} text(s) longer than data.max_length ${d.max_length} words were cut to it`);
  return data;
}

/**
 * Rows labelled with a trained model's labels (evaluate): single-label models read one label per row, multi-label
 * ones read the layout the train data had (0/1 columns, lists or separated labels). Unknown labels name the row.
 */
export function labelledSplit(rows: RawRow[], targetFields: string[], model: { labels: string[]; multiLabel: boolean; tokenizer: TokenizerState; input?: TextInput }): TextSplit {
  const reading = labelReading(rows, targetFields, model.multiLabel ? 'auto' : false);
  const index = new Map(model.labels.map((l, i) => [l, i]));
  const targets = rows.map((r) =>
    labelNames(r, targetFields, model.multiLabel ? { ...reading, multiLabel: true } : reading).map((name) => {
      const c = index.get(name);
      if (c === undefined) throw new FlashUserError(`${r.where}: label '${name}' is not one of the model's labels${didYouMean(name, model.labels)} (${model.labels.slice(0, 20).join(', ')})`);
      return c;
    }),
  );
  const encoded = rows.map((r) => encode(model.tokenizer, r.text));
  const split = new TextSplit(rows.map((r) => r.id), encoded, targets, model.tokenizer, model.labels.length, model.multiLabel, rows.map((r) => r.text));
  if (model.input) split.input = model.input;
  return split;
}
