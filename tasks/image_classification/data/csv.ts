/**
 * `from_csv`: a CSV with an image-path column and a label column (Lightning Flash's `from_csv`), read with
 * csv-parse (quoted fields, a UTF-8 BOM, CRLF or LF line ends, surrounding spaces trimmed). Single-label: several
 * target columns, or a label that looks like a delimited list, are refused for now (multi-label needs a sigmoid
 * head). Image paths are relative to `imagesRoot`, by default the CSV's own folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { FlashUserError } from '../../../src/core/errors.js';
import { didYouMean } from '../../../src/core/suggest.js';
import { ImageClassificationData, type DataOptions, type DataPlan } from './datamodule.js';
import { compareNames } from './scan.js';

/** Characters that separate several labels in one cell (`cat,dog`, `cat;dog`, `cat|dog`). */
export const LABEL_DELIMITERS = [',', ';', '|'];

export interface CsvRow {
  /** 1-based line of the record in the file (the header is line 1). */
  line: number;
  input: string;
  /** Undefined when no target column was asked for (predict files). */
  target?: string;
}

export interface CsvReadOptions {
  inputField: string;
  /** The label column(s); only one is supported (several mean multi-label). Omit for unlabelled (predict) files. */
  targetFields?: string[];
}

/** The CSV as shown in messages. */
const named = (file: string) => `'${file}'`;

/** Refuses multi-label settings with one line that says why. */
export function assertSingleTarget(targetFields: string[] | undefined): string | undefined {
  if (targetFields === undefined) return undefined;
  if (targetFields.length === 0) throw new FlashUserError('target_fields is empty: give the name of the label column');
  if (targetFields.length > 1) {
    throw new FlashUserError(
      `several target fields (${targetFields.join(', ')}) mean multi-label classification, which flash does not support yet; give one label column in target_fields`,
    );
  }
  return targetFields[0];
}

/**
 * Reads the rows of a CSV: the `inputField` column and the label column, each row checked (no empty path or
 * label, no delimited label list). Errors name the file, and the line where there is one.
 */
export async function readCsvRows(file: string, opts: CsvReadOptions): Promise<CsvRow[]> {
  const target = assertSingleTarget(opts.targetFields);
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
  for (const [what, col] of [['input_field', opts.inputField], ['target_fields', target]] as const) {
    if (col !== undefined && !header.includes(col)) {
      throw new FlashUserError(`${what}: no column '${col}' in ${named(file)}${didYouMean(col, header)}; its columns: ${header.join(', ')}`);
    }
  }
  if (records.length === 0) throw new FlashUserError(`CSV file ${named(file)} has a header but no rows`);
  return records.map(({ record, info }) => {
    const at = `${named(file)} line ${info.lines}`;
    const input = record[opts.inputField] ?? '';
    if (input === '') throw new FlashUserError(`${at}: empty ${opts.inputField} (an image path)`);
    const row: CsvRow = { line: info.lines, input };
    if (target !== undefined) {
      const label = (record[target] ?? '').normalize('NFC');
      if (label === '') throw new FlashUserError(`${at}: empty ${target} (the label)`);
      const delim = LABEL_DELIMITERS.find((d) => label.includes(d));
      if (delim !== undefined) {
        throw new FlashUserError(
          `${at}: label '${label}' looks like several labels separated by '${delim}'; multi-label classification is not supported yet (one label per row)`,
        );
      }
      row.target = label;
    }
    return row;
  });
}

export interface CsvOptions extends DataOptions {
  trainFile: string;
  valFile?: string;
  testFile?: string;
  /** A CSV of images to predict (only the input column is read). */
  predictFile?: string;
  inputField: string;
  /** One label column (several mean multi-label: not supported yet). */
  targetFields: string[];
  /** Image paths in the CSVs are relative to this folder; default: each CSV's own folder. */
  imagesRoot?: string;
}

/** The image paths of rows, each checked to be a file; errors name the CSV line. */
async function resolveFiles(csv: string, rows: CsvRow[], root: string): Promise<string[]> {
  const files = rows.map((r) => (path.isAbsolute(r.input) ? r.input : path.resolve(root, r.input)));
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      let ok = false;
      try {
        ok = (await fs.stat(files[i])).isFile();
      } catch {
        throw new FlashUserError(`${named(csv)} line ${rows[i].line}: image '${rows[i].input}' not found (looked for '${files[i]}')`);
      }
      if (!ok) throw new FlashUserError(`${named(csv)} line ${rows[i].line}: '${files[i]}' is not a file`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, rows.length) }, worker));
  return files;
}

/** The plan of `fromCsv` (CSVs read, image files checked to exist, nothing decoded). */
export async function planCsv(opts: CsvOptions): Promise<DataPlan> {
  if (!opts.trainFile) throw new FlashUserError('from_csv needs train_file: a CSV with an image-path column and a label column');
  if (!opts.inputField) throw new FlashUserError(`from_csv needs input_field: the column of ${named(opts.trainFile)} holding image paths`);
  if (!opts.targetFields || opts.targetFields.length === 0) {
    throw new FlashUserError(`from_csv needs target_fields: the column of ${named(opts.trainFile)} holding labels`);
  }
  const target = assertSingleTarget(opts.targetFields)!;
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
  const labelled = async (csv: string | undefined) => {
    if (csv === undefined) return undefined;
    const rows = await readCsvRows(csv, { inputField: opts.inputField, targetFields: [target] });
    return { csv, rows, files: await resolveFiles(csv, rows, rootOf(csv)) };
  };
  const train = (await labelled(opts.trainFile))!;
  const labels = [...new Set(train.rows.map((r) => r.target!))].sort(compareNames);
  const val = await labelled(opts.valFile);
  const test = await labelled(opts.testFile);
  for (const split of [val, test]) {
    for (const r of split?.rows ?? []) {
      if (!labels.includes(r.target!)) {
        throw new FlashUserError(
          `${named(split!.csv)} line ${r.line}: label '${r.target}' is not one of the labels in ${named(opts.trainFile)}${didYouMean(r.target!, labels)}` +
            ` (${labels.length > 20 ? `${labels.slice(0, 20).join(', ')}, … (${labels.length} in all)` : labels.join(', ')})`,
        );
      }
    }
  }
  let predictFiles: string[] | undefined;
  if (opts.predictFile !== undefined) {
    const rows = await readCsvRows(opts.predictFile, { inputField: opts.inputField });
    predictFiles = await resolveFiles(opts.predictFile, rows, rootOf(opts.predictFile));
  }
  const plan = await ImageClassificationData.planFiles({
    ...opts,
    trainFiles: train.files,
    trainTargets: train.rows.map((r) => r.target!),
    valFiles: val?.files,
    valTargets: val?.rows.map((r) => r.target!),
    testFiles: test?.files,
    testTargets: test?.rows.map((r) => r.target!),
    predictFiles,
  });
  return { ...plan, origin: named(opts.trainFile), labelOrigin: `the ${target} column of ${named(opts.trainFile)}` };
}
