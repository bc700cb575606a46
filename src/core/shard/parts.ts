import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { FlashUserError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ROW_FIELD, type Shard } from './shard.js';

/**
 * The parts of a sharded predict and their merge. Shard i of n of `--output preds.jsonl` is
 * `preds.jsonl.shards/part-i-of-n.jsonl` (unpadded: a Kubernetes pod spells it with $(JOB_COMPLETION_INDEX)); each
 * part is in the output's own format with `input_row` first, so the merge can check and order the rows.
 */

/** The output formats a sharded predict writes and merges. */
export type PartFormat = 'jsonl' | 'json' | 'csv';

export function partFormat(output: string): PartFormat {
  const ext = extname(output).toLowerCase().slice(1);
  if (ext === 'jsonl' || ext === 'json' || ext === 'csv') return ext;
  throw new FlashUserError(`--output ${output}: a sharded predict writes .jsonl, .json or .csv`);
}

/** The folder beside `output` that holds its parts. */
export function partsDir(output: string): string {
  return `${output}.shards`;
}

/** The file of shard `index` of `count` (inside partsDir(output)). */
export function partFile(output: string, shard: Shard): string {
  return join(partsDir(output), partName(output, shard.index, String(shard.count)));
}

/** `part-3-of-8.jsonl`; `index` may be a placeholder such as `$(JOB_COMPLETION_INDEX)`. */
export function partName(output: string, index: number | string, count: string | number): string {
  return `part-${index}-of-${count}${extname(output).toLowerCase()}`;
}

interface PartRows {
  file: string;
  /** The header without input_row (csv). */
  header?: string[];
  rows: { row: number; record: Record<string, unknown> | string[] }[];
}

/** One part's rows, each with its input row; a row without one is a line naming the part and the row. */
async function readPart(file: string, format: PartFormat, shown: (p: string) => string): Promise<PartRows> {
  const text = await readFile(file, 'utf8');
  const at = (where: string) => `${shown(file)}${where}`;
  const rowOf = (v: unknown, where: string): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    throw new FlashUserError(`${at(where)}: no ${ROW_FIELD} (is it a part written by flash predict --shard?)`);
  };
  if (format === 'csv') {
    const table = parseCsv(text, { relax_column_count: false, skip_empty_lines: true }) as string[][];
    if (table.length === 0) return { file, rows: [] };
    const [head, ...body] = table;
    if (head[0] !== ROW_FIELD) throw new FlashUserError(`${at('')}: its first column is not ${ROW_FIELD} (is it a part written by flash predict --shard?)`);
    return { file, header: head.slice(1), rows: body.map((r, i) => ({ row: rowOf(r[0], `, row ${i + 2}`), record: r.slice(1) })) };
  }
  let records: unknown[];
  if (format === 'json') {
    try {
      records = text.trim() ? (JSON.parse(text) as unknown[]) : [];
    } catch {
      throw new FlashUserError(`${at('')}: not JSON (a part cut short?)`);
    }
    if (!Array.isArray(records)) throw new FlashUserError(`${at('')}: expected a JSON array of predictions`);
  } else {
    records = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        records.push(JSON.parse(line));
      } catch {
        throw new FlashUserError(`${at(`, line ${i + 1}`)}: not JSON (a part cut short?)`);
      }
    });
  }
  return {
    file,
    rows: records.map((r, i) => {
      const where = format === 'json' ? `, item ${i + 1}` : `, line ${i + 1}`;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new FlashUserError(`${at(where)}: expected a JSON object`);
      const { [ROW_FIELD]: row, ...record } = r as Record<string, unknown>;
      return { row: rowOf(row, where), record };
    }),
  };
}

/**
 * The part files of a split into `count` shards, checked: each shard's part is there exactly once (a missing
 * one, one there twice under two spellings, or parts of a split into another count are one line naming it).
 */
export async function findParts(output: string, count: number, shown: (p: string) => string): Promise<string[]> {
  const dir = partsDir(output);
  const ext = extname(output).toLowerCase();
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new FlashUserError(`no parts to merge: ${shown(dir)} does not exist (run the shards first: --shard i/${count} --output ${shown(join(dir, `part-i-of-${count}${ext}`))})`);
    throw err;
  });
  const byIndex = new Map<number, string>();
  for (const name of names.sort()) {
    const m = /^part-(\d+)-of-(\d+)(\.[a-z]+)$/i.exec(name);
    if (!m || m[3].toLowerCase() !== ext) continue; // temp files of parts being written, other files
    const [index, of] = [Number(m[1]), Number(m[2])];
    if (of !== count) throw new FlashUserError(`${shown(join(dir, name))} is a part of a split into ${of} shards, not ${count}: remove it, or merge with --shards ${of}`);
    if (index >= count) throw new FlashUserError(`${shown(join(dir, name))}: there is no shard ${index} of ${count} (shards are 0 … ${count - 1})`);
    const prior = byIndex.get(index);
    if (prior !== undefined) throw new FlashUserError(`shard ${index}/${count} is there twice: ${shown(join(dir, prior))} and ${shown(join(dir, name))}`);
    byIndex.set(index, name);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 6).join(', ')}${missing.length > 6 ? ', …' : ''})` : '';
    throw new FlashUserError(`shard ${missing[0]}/${count} is missing: no ${shown(join(dir, partName(output, missing[0], count)))}${more}`);
  }
  return Array.from({ length: count }, (_, i) => join(dir, byIndex.get(i)!));
}

/**
 * Merges the `count` parts of `output` into `output` (atomically), rows in input order and without input_row —
 * the file an unsharded predict writes. Every shard must be there exactly once, and every input row at most once
 * (an image that could not be read has no row; a row in two parts is one line naming both).
 */
export async function mergeParts(output: string, count: number, shown: (p: string) => string): Promise<{ rows: number }> {
  const format = partFormat(output);
  const files = await findParts(output, count, shown);
  const parts = await Promise.all(files.map((f) => readPart(f, format, shown)));
  const seen = new Map<number, string>();
  let header: string[] | undefined;
  let headerFile = '';
  for (const part of parts) {
    if (part.header && part.rows.length) {
      if (header && part.header.join('\u0000') !== header.join('\u0000')) throw new FlashUserError(`${shown(part.file)}: its columns differ from ${shown(headerFile)}'s (parts of different models or commands?)`);
      header ??= part.header;
      headerFile ||= part.file;
    }
    for (const { row } of part.rows) {
      const prior = seen.get(row);
      if (prior !== undefined) throw new FlashUserError(`input row ${row} is in two parts: ${shown(prior)} and ${shown(part.file)}`);
      seen.set(row, part.file);
    }
  }
  header ??= parts.find((p) => p.header)?.header;
  const rows = parts.flatMap((p) => p.rows).sort((a, b) => a.row - b.row);
  let text: string;
  if (format === 'csv') text = header ? stringify(rows.map((r) => r.record as string[]), { header: true, columns: header }) : '';
  else if (format === 'json') text = `${JSON.stringify(rows.map((r) => r.record), null, 2)}\n`;
  else text = rows.map((r) => JSON.stringify(r.record) + '\n').join('');
  await writeFileAtomic(output, text);
  return { rows: rows.length };
}

