/**
 * A CSV read as a table of strings: header, rows, and each row's line number (for messages). csv-parse handles a
 * BOM, CRLF and quoted fields; every malformed file is one FlashUserError naming the file (and line or column).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { FlashUserError } from '../../src/core/errors.js';

export interface Table {
  /** The file as messages show it. */
  file: string;
  columns: string[];
  rows: string[][];
  /** The file line each row ends on (the header is line 1). */
  lines: number[];
}

export { isMissing, parseNumber } from './encode.js';

/** Parses CSV text (`file` is only for messages). */
export function parseTable(text: string, file: string): Table {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true, info: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    throw new FlashUserError(`${file}: not a readable CSV${e.lines ? ` (line ${e.lines})` : ''}: ${(e.message ?? String(err)).split('\n')[0]}`);
  }
  if (records.length === 0) throw new FlashUserError(`${file}: empty CSV (no header row)`);
  const columns = records[0].record.map((c, i) => (c === '' ? `unnamed_${i}` : c));
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    if (seen.has(c)) throw new FlashUserError(`${file}: duplicate column name '${c}' (columns ${seen.get(c)! + 1} and ${i + 1})`);
    seen.set(c, i);
  });
  const body = records.slice(1);
  if (body.length === 0) throw new FlashUserError(`${file}: header only, no data rows`);
  for (const r of body) {
    if (r.record.length !== columns.length) {
      throw new FlashUserError(`${file}: line ${r.info.lines} has ${r.record.length} fields, the header has ${columns.length}`);
    }
  }
  return { file, columns, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines) };
}

/** Reads and parses a CSV file; an unreadable file is one line naming it. */
export function readTable(path: string, shown = path): Table {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlashUserError(`${shown}: cannot read the CSV (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  return parseTable(text, shown);
}

/** A table built from plain objects (`fromRecords`): columns from the first row's keys, values as strings. */
export function tableFromRecords(records: Record<string, unknown>[], file = 'records'): Table {
  if (records.length === 0) throw new FlashUserError(`${file}: no rows`);
  const columns = Object.keys(records[0]);
  const rows = records.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  return { file, columns, rows, lines: records.map((_, i) => i + 1) };
}

/** The index of a column, or a FlashUserError naming the file, the column and what the file has. */
export function columnIndex(table: Table, name: string, role: string): number {
  const i = table.columns.indexOf(name);
  if (i < 0) throw new FlashUserError(`${table.file}: no column '${name}' (${role}); the columns are ${table.columns.join(', ')}`);
  return i;
}
