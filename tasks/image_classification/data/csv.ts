/**
 * `from_csv`: a CSV with an image-path column and label column(s) (Lightning Flash's `from_csv`), read with
 * csv-parse (quoted fields, a UTF-8 BOM, CRLF or LF line ends, surrounding spaces trimmed). Image paths are
 * relative to `imagesRoot`, by default the CSV's own folder.
 *
 * Multi-label (see multiLabelOf):
 * - several target columns: each is one label, named by its column, with 0/1 cells (Flash's and Keras' layout);
 * - one target column whose cells hold several labels separated by ';', ',' or '|' (one kind per column), or,
 *   with multiLabel true, by whitespace (fastai's Planet layout, `haze primary`). An empty cell is an image
 *   with no label. Labels are the sorted union of the names in the train CSV.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { FlashUserError } from '../../../src/core/errors.js';
import { didYouMean } from '../../../src/core/suggest.js';
import type { DataOptions, MultiLabelMode, Sample } from './options.js';
import { planFiles, type DataPlan } from './plan.js';
import { compareNames } from './scan.js';

/** Characters that separate several labels in one cell (`cat,dog`, `cat;dog`, `cat|dog`). */
export const LABEL_DELIMITERS = [',', ';', '|'];

export interface CsvRow {
  /** 1-based line of the record in the file (the header is line 1). */
  line: number;
  input: string;
  /** Undefined when no target column was asked for (predict files), and for multi-label rows. */
  target?: string;
  /** Multi-label rows: the label names of the image (possibly none), in first-seen order without repeats. */
  targets?: string[];
}

export interface CsvReadOptions {
  inputField: string;
  /** The label column(s): one, or several 0/1 columns (multi-label). Omit for unlabelled (predict) files. */
  targetFields?: string[];
  /** 'auto' (default): multi-label when the columns say so; true: a single label column is a list too; false: refuse lists. */
  multiLabel?: MultiLabelMode;
  /** A single label column's delimiter, fixed (val/test CSVs take the train CSV's); default: found by labelDelimiterOf. */
  labelDelimiter?: string;
}

/** Cell values of a 0/1 target column (several target columns = one label each). */
const ONE = new Set(['1', '1.0', 'true', 'yes']);
const ZERO = new Set(['0', '0.0', 'false', 'no', '']);

/**
 * How one label column holds labels: the delimiter it uses (';', ',' or '|', found in some cell), ' ' (whitespace)
 * when multiLabel is true and none is found, or undefined for plain single-label cells. Two different delimiters
 * in one column, or a delimiter with multiLabel false, are user errors naming the file and line.
 */
export function labelDelimiterOf(cells: { line: number; value: string }[], multiLabel: MultiLabelMode, where: string, unit = 'line'): string | undefined {
  let found: { delim: string; line: number } | undefined;
  for (const cell of cells) {
    for (const d of LABEL_DELIMITERS) {
      if (!cell.value.includes(d)) continue;
      if (found && found.delim !== d) {
        throw new FlashUserError(`${where} ${unit} ${cell.line}: labels separated by '${d}', but ${unit} ${found.line} uses '${found.delim}'; use one separator in the column`);
      }
      found ??= { delim: d, line: cell.line };
    }
  }
  if (found && multiLabel === false) {
    throw new FlashUserError(
      `${where} ${unit} ${found.line}: the label looks like several labels separated by '${found.delim}', but --model.multi_label is false (one label per row)`,
    );
  }
  return found?.delim ?? (multiLabel === true ? ' ' : undefined);
}

/** The label names of one delimited cell: split, trimmed, empties and repeats dropped (whitespace: any run of it). */
export function splitLabels(cell: string, delimiter: string): string[] {
  const parts = delimiter === ' ' ? cell.split(/\s+/) : cell.split(delimiter);
  return [...new Set(parts.map((p) => p.trim().normalize('NFC')).filter((p) => p !== ''))];
}

/** The CSV as shown in messages. */
const named = (file: string) => `'${file}'`;

/** Checks the target columns: at least one, no repeats, and several only when multi-label is allowed. */
export function checkTargetFields(targetFields: string[] | undefined, multiLabel: MultiLabelMode = 'auto'): void {
  if (targetFields === undefined) return;
  if (targetFields.length === 0) throw new FlashUserError('target_fields is empty: give the label column, or one 0/1 column per label');
  const dup = targetFields.find((c, i) => targetFields.indexOf(c) !== i);
  if (dup !== undefined) throw new FlashUserError(`target_fields names the column '${dup}' twice`);
  if (targetFields.length > 1 && multiLabel === false) {
    throw new FlashUserError(
      `several target fields (${targetFields.join(', ')}) mean multi-label classification, but --model.multi_label is false; give one label column`,
    );
  }
}

/**
 * Reads the rows of a CSV: the `inputField` column and the label column, each row checked (no empty path or
 * label, no delimited label list). Errors name the file, and the line where there is one.
 */
export async function readCsvRows(file: string, opts: CsvReadOptions): Promise<CsvRow[]> {
  return (await readCsv(file, opts)).rows;
}

/** `readCsvRows` plus the delimiter a single multi-label column uses (undefined otherwise). */
export async function readCsv(file: string, opts: CsvReadOptions): Promise<{ rows: CsvRow[]; delimiter?: string }> {
  const multiLabel = opts.multiLabel ?? 'auto';
  checkTargetFields(opts.targetFields, multiLabel);
  const targets = opts.targetFields ?? [];
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`CSV file ${named(file)} does not exist`);
    if (code === 'EISDIR') throw new FlashUserError(`${named(file)} is a folder, not a CSV file`);
    throw new FlashUserError(`CSV file ${named(file)} cannot be read: ${(err as Error).message}`);
  }
  let header: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      columns: (h: string[]) => {
        header = h.map((c) => String(c).trim());
        const dup = header.find((c, i) => header.indexOf(c) !== i);
        if (dup !== undefined) throw new FlashUserError(`CSV file ${named(file)} has two columns named '${dup}'`);
        return header;
      },
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  } catch (err) {
    if (err instanceof FlashUserError) throw err;
    throw new FlashUserError(`cannot parse CSV file ${named(file)}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (header.length === 0) throw new FlashUserError(`CSV file ${named(file)} is empty: expected a header row naming its columns`);
  for (const [what, col] of [['input_field', opts.inputField], ...targets.map((t) => ['target_fields', t] as const)] as const) {
    if (!header.includes(col)) {
      throw new FlashUserError(`${what}: no column '${col}' in ${named(file)}${didYouMean(col, header)}; its columns: ${header.join(', ')}`);
    }
  }
  if (records.length === 0) throw new FlashUserError(`CSV file ${named(file)} has a header but no rows`);
  const rows = records.map(({ record, info }) => {
    const at = `${named(file)} line ${info.lines}`;
    const input = record[opts.inputField] ?? '';
    if (input === '') throw new FlashUserError(`${at}: empty ${opts.inputField} (an image path)`);
    return { line: info.lines, input, record };
  });
  const plain = (r: (typeof rows)[number]): CsvRow => ({ line: r.line, input: r.input });
  if (targets.length > 1) {
    // One 0/1 column per label, named by the column.
    const out = rows.map((r) => {
      const names = targets.filter((col) => {
        const v = (r.record[col] ?? '').toLowerCase();
        if (ONE.has(v)) return true;
        if (ZERO.has(v)) return false;
        throw new FlashUserError(`${named(file)} line ${r.line}: column ${col} holds '${r.record[col]}'; each target column is one label, 1 (has it) or 0 (has not)`);
      });
      return { ...plain(r), targets: names };
    });
    return { rows: out };
  }
  if (targets.length === 0) return { rows: rows.map(plain) };
  const target = targets[0];
  const cells = rows.map((r) => ({ line: r.line, value: (r.record[target] ?? '').normalize('NFC') }));
  const delimiter = opts.labelDelimiter ?? labelDelimiterOf(cells, multiLabel, named(file));
  if (delimiter !== undefined) return { rows: rows.map((r, i) => ({ ...plain(r), targets: splitLabels(cells[i].value, delimiter) })), delimiter };
  return {
    rows: rows.map((r, i) => {
      if (cells[i].value === '') throw new FlashUserError(`${named(file)} line ${r.line}: empty ${target} (the label)`);
      return { ...plain(r), target: cells[i].value };
    }),
  };
}

export interface CsvOptions extends DataOptions {
  trainFile: string;
  valFile?: string;
  testFile?: string;
  /** A CSV of images to predict (only the input column is read). */
  predictFile?: string;
  inputField: string;
  /** One label column, or one 0/1 column per label (multi-label). */
  targetFields: string[];
  /** Image paths in the CSVs are relative to this folder; default: each CSV's own folder. */
  imagesRoot?: string;
}

/** The image paths of rows, each checked to be a file; errors name the CSV line. */
async function resolveFiles(csv: string, rows: CsvRow[], root: string): Promise<string[]> {
  const files = rows.map((r) => (path.isAbsolute(r.input) ? r.input : path.resolve(root, r.input)));
  // Checked 16 at a time; the error names the first bad row in file order, whichever stat finishes first.
  const problems: (string | undefined)[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      let ok = false;
      try {
        ok = (await fs.stat(files[i])).isFile();
      } catch {
        problems[i] = `${named(csv)} line ${rows[i].line}: image '${rows[i].input}' not found (looked for '${files[i]}')`;
        continue;
      }
      if (!ok) problems[i] = `${named(csv)} line ${rows[i].line}: '${files[i]}' is not a file`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, rows.length) }, worker));
  const first = problems.find((p) => p !== undefined);
  if (first !== undefined) throw new FlashUserError(first);
  return files;
}

/** Label names shown in a message: all of them, or the first 20 and how many in all. */
const shownLabels = (labels: string[]) => (labels.length > 20 ? `${labels.slice(0, 20).join(', ')}, … (${labels.length} in all)` : labels.join(', '));

/** The plan of `fromCsv` (CSVs read, image files checked to exist, nothing decoded). */
export async function planCsv(opts: CsvOptions): Promise<DataPlan> {
  if (!opts.trainFile) throw new FlashUserError('from_csv needs train_file: a CSV with an image-path column and a label column');
  if (!opts.inputField) throw new FlashUserError(`from_csv needs input_field: the column of ${named(opts.trainFile)} holding image paths`);
  if (!opts.targetFields || opts.targetFields.length === 0) {
    throw new FlashUserError(`from_csv needs target_fields: the column of ${named(opts.trainFile)} holding labels`);
  }
  const multiLabel = opts.multiLabel ?? 'auto';
  checkTargetFields(opts.targetFields, multiLabel);
  const targetFields = opts.targetFields;
  const rootOf = (csv: string) => opts.imagesRoot ?? path.dirname(csv);
  if (opts.imagesRoot !== undefined) {
    let dir = false;
    try {
      dir = (await fs.stat(opts.imagesRoot)).isDirectory();
    } catch {
      throw new FlashUserError(`images_root '${opts.imagesRoot}' does not exist`);
    }
    if (!dir) throw new FlashUserError(`images_root '${opts.imagesRoot}' is not a folder`);
  }
  const labelled = async (csv: string | undefined, read: Partial<CsvReadOptions> = {}) => {
    if (csv === undefined) return undefined;
    const { rows, delimiter } = await readCsv(csv, { inputField: opts.inputField, targetFields, multiLabel, ...read });
    return { csv, rows, delimiter, files: await resolveFiles(csv, rows, rootOf(csv)) };
  };
  const train = (await labelled(opts.trainFile))!;
  const isMulti = train.rows.some((r) => r.targets !== undefined);
  // Val/test CSVs are read the way the train CSV was: the same kind, and the same delimiter in one label column.
  let read: Partial<CsvReadOptions> = {};
  let labels: string[];
  if (isMulti) {
    read = { multiLabel: true, labelDelimiter: train.delimiter };
    labels = (targetFields.length > 1 ? [...targetFields] : [...new Set(train.rows.flatMap((r) => r.targets!))]).sort(compareNames);
  } else {
    labels = [...new Set(train.rows.map((r) => r.target!))].sort(compareNames);
  }
  const val = await labelled(opts.valFile, read);
  const test = await labelled(opts.testFile, read);
  for (const split of [val, test]) {
    const listed = isMulti ? undefined : (split?.rows.find((r) => (r.targets?.length ?? 0) > 1) ?? split?.rows.find((r) => r.targets !== undefined));
    if (listed) {
      throw new FlashUserError(`${named(split!.csv)} line ${listed.line}: several labels in one row, but ${named(opts.trainFile)} has one label per row`);
    }
    for (const r of split?.rows ?? []) {
      for (const name of r.targets ?? [r.target!]) {
        if (!labels.includes(name)) {
          throw new FlashUserError(
            `${named(split!.csv)} line ${r.line}: label '${name}' is not one of the labels in ${named(opts.trainFile)}${didYouMean(name, labels)} (${shownLabels(labels)})`,
          );
        }
      }
    }
  }
  let predictFiles: string[] | undefined;
  if (opts.predictFile !== undefined) {
    const rows = await readCsvRows(opts.predictFile, { inputField: opts.inputField });
    predictFiles = await resolveFiles(opts.predictFile, rows, rootOf(opts.predictFile));
  }
  const labelOrigin =
    targetFields.length > 1 ? `the target columns of ${named(opts.trainFile)} (${targetFields.join(', ')})` : `the ${targetFields[0]} column of ${named(opts.trainFile)}`;
  if (isMulti) {
    const samples = (split: { rows: CsvRow[]; files: string[] } | undefined): Sample[] | undefined =>
      split?.rows.map((r, i) => {
        const targets = r.targets!.map((name) => labels.indexOf(name)).sort((a, b) => a - b);
        return { id: split.files[i], source: split.files[i], label: targets.length ? targets[0] : -1, targets };
      });
    return {
      labels,
      train: samples(train)!,
      val: samples(val),
      test: samples(test),
      predictFiles: predictFiles ?? [],
      ignored: [],
      origin: named(opts.trainFile),
      labelOrigin,
      multiLabel: true,
    };
  }
  const plan = await planFiles({
    ...opts,
    trainFiles: train.files,
    trainTargets: train.rows.map((r) => r.target!),
    valFiles: val?.files,
    valTargets: val?.rows.map((r) => r.target!),
    testFiles: test?.files,
    testTargets: test?.rows.map((r) => r.target!),
    predictFiles,
  });
  return { ...plan, origin: named(opts.trainFile), labelOrigin };
}
