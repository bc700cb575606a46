/**
 * Reading labelled (or unlabelled) texts from CSV, JSON lines and class folders. Every problem is a one-line
 * user error naming the file, and the line or column where there is one.
 */
import { existsSync, promises as fs } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FlashUserError } from '../../src/core/errors.js';
import { didYouMean } from '../../src/core/suggest.js';

/** One text as read: where it came from, the text, and its raw target values (one per target field). */
export interface RawRow {
  /** `'train.csv' line 3`, `'data/pos/a.txt'`: for messages. */
  where: string;
  /** A stable id (the line, or the file's path under the folder). */
  id: string;
  text: string;
  /** Per target field: a cell, or a list (a JSON array). Empty when no target was asked for. */
  targets: (string | string[])[];
  /** Every column (CSV) or field (JSON) of the row, for predict's --keep_columns. */
  columns?: Record<string, unknown>;
}

export interface ReadOptions {
  inputField: string;
  /** The target fields to read; omit for unlabelled files (predict). */
  targetFields?: string[];
}

const named = (file: string) => `'${file}'`;

/** The file's bytes as UTF-8 text, or a user error naming the file and the first line that is not UTF-8. */
export async function readUtf8(file: string, what = 'file'): Promise<string> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`${what} ${named(file)} does not exist`);
    if (code === 'EISDIR') throw new FlashUserError(`${named(file)} is a folder, not a ${what}`);
    throw new FlashUserError(`${what} ${named(file)} cannot be read: ${(err as Error).message}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    // Find the first line that fails, for the message (only on this error path).
    let line = 1;
    let start = 0;
    const strict = new TextDecoder('utf-8', { fatal: true });
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 0x0a) {
        try {
          strict.decode(buf.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw new FlashUserError(`${what} ${named(file)} is not UTF-8 text (line ${line}); re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
  }
}

/** Rows of a CSV with a header: the input column and the target columns, by the header's names. */
export async function readCsvTexts(file: string, opts: ReadOptions): Promise<RawRow[]> {
  const text = await readUtf8(file, 'CSV file');
  let header: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      columns: (h: string[]) => (header = h.map((c) => String(c).trim())),
      skip_empty_lines: true,
      relax_column_count: false,
      info: true,
    }) as unknown as typeof records;
  } catch (err) {
    throw new FlashUserError(`cannot parse CSV file ${named(file)}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (header.length === 0) throw new FlashUserError(`CSV file ${named(file)} is empty: expected a header row naming its columns`);
  const wanted: [string, string][] = [['input_field', opts.inputField], ...(opts.targetFields ?? []).map((t) => ['target_fields', t] as [string, string])];
  for (const [key, col] of wanted) {
    if (!header.includes(col)) throw new FlashUserError(`${key}: no column '${col}' in ${named(file)}${didYouMean(col, header)}; its columns: ${header.join(', ')}`);
  }
  if (records.length === 0) throw new FlashUserError(`CSV file ${named(file)} has a header but no rows`);
  return records.map(({ record, info }) => ({
    where: `${named(file)} line ${info.lines}`,
    id: `${basename(file)}:${info.lines}`,
    text: record[opts.inputField] ?? '',
    targets: (opts.targetFields ?? []).map((t) => (record[t] ?? '').trim()),
    columns: record,
  }));
}

/** A JSON value as a target: a string, a number or boolean as text, a list of them (multi-label). */
function targetValue(v: unknown, where: string, field: string): string | string[] {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => String(x).trim());
  if (typeof v === 'object') throw new FlashUserError(`${where}: field '${field}' is an object; expected a label, a 0/1 value or a list of labels`);
  return String(v).trim();
}

/** Rows of a JSON lines file (one object a line; blank lines skipped), or of a JSON array of objects. */
export async function readJsonTexts(file: string, opts: ReadOptions): Promise<RawRow[]> {
  const text = (await readUtf8(file, 'JSON file')).replace(/^\uFEFF/, '');
  let objects: { line: number; value: unknown }[];
  if (text.trimStart().startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (err) {
      throw new FlashUserError(`cannot parse JSON file ${named(file)}: ${(err as Error).message}`);
    }
    objects = (arr as unknown[]).map((value, i) => ({ line: i + 1, value }));
  } else {
    objects = [];
    text.split('\n').forEach((raw, i) => {
      const l = raw.trim();
      if (l === '') return;
      try {
        objects.push({ line: i + 1, value: JSON.parse(l) });
      } catch (err) {
        throw new FlashUserError(`${named(file)} line ${i + 1}: not valid JSON (${(err as Error).message}); expected one JSON object per line`);
      }
    });
  }
  if (objects.length === 0) throw new FlashUserError(`JSON file ${named(file)} has no rows`);
  const unit = text.trimStart().startsWith('[') ? 'item' : 'line';
  return objects.map(({ line, value }) => {
    const where = `${named(file)} ${unit} ${line}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FlashUserError(`${where}: expected a JSON object with field '${opts.inputField}'`);
    const o = value as Record<string, unknown>;
    for (const [key, f] of [['input_field', opts.inputField], ...(opts.targetFields ?? []).map((t) => ['target_fields', t])] as [string, string][]) {
      if (!(f in o)) throw new FlashUserError(`${key}: ${where} has no field '${f}'${didYouMean(f, Object.keys(o))}; its fields: ${Object.keys(o).join(', ')}`);
    }
    const t = o[opts.inputField];
    if (t !== null && typeof t !== 'string') throw new FlashUserError(`${where}: field '${opts.inputField}' is not a string`);
    return { where, id: `${basename(file)}:${line}`, text: (t as string | null) ?? '', targets: (opts.targetFields ?? []).map((f) => targetValue(o[f], where, f)), columns: o };
  });
}

/** Texts of class sub-folders: each `<folder>/<class>/*.txt` is one text labelled `<class>` (other files are counted, not read). */
export async function readFolderTexts(folder: string): Promise<{ rows: RawRow[]; ignored: number }> {
  if (!existsSync(folder)) throw new FlashUserError(`folder ${named(folder)} does not exist`);
  if (!(await fs.stat(folder)).isDirectory()) throw new FlashUserError(`${named(folder)} is not a folder`);
  const classes = (await fs.readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  if (classes.length === 0) throw new FlashUserError(`folder ${named(folder)} has no class sub-folders (expected ${named(join(folder, '<class>', '*.txt'))})`);
  const rows: RawRow[] = [];
  let ignored = 0;
  for (const c of classes) {
    const files = (await fs.readdir(join(folder, c), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
    for (const f of files) {
      if (!f.toLowerCase().endsWith('.txt')) {
        ignored++;
        continue;
      }
      rows.push({ where: named(f), id: relative(folder, f), text: await readUtf8(f, 'text file'), targets: [c.normalize('NFC')] });
    }
  }
  if (rows.length === 0) throw new FlashUserError(`folder ${named(folder)} has no .txt files in its class sub-folders (${classes.join(', ')})`);
  return { rows, ignored };
}
