import { FlashUserError } from '../errors.js';

/**
 * Shards of a predict's inputs. Shard `i/n` is 0-based (Kubernetes' JOB_COMPLETION_INDEX runs 0 … n-1, so a pod
 * passes `--shard $(JOB_COMPLETION_INDEX)/n` unchanged) and is a contiguous range of the inputs in their order
 * (image files sorted by path, CSV/JSON rows by row number): rows [floor(i·N/n), floor((i+1)·N/n)). Contiguous
 * rather than every n-th row so that the parts, concatenated in shard order, are the inputs in order; sizes
 * differ by at most one row.
 */
export interface Shard {
  /** 0-based: 0 … count-1. */
  index: number;
  count: number;
}

/** The column every sharded output row starts with: the row's 0-based position among all the inputs. */
export const ROW_FIELD = 'input_row';

/** Most shards one predict splits into (more would be a typo more often than a plan). */
export const MAX_SHARDS = 100_000;

/** `"3/8"` → `{ index: 3, count: 8 }`; anything else is one line saying what is expected. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new FlashUserError(`${flag}: expected i/n (0-based shard i of n, e.g. 0/8 … 7/8), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new FlashUserError(`${flag} ${text}: n must be from 1 to ${MAX_SHARDS}`);
  if (index >= count) throw new FlashUserError(`${flag} ${text}: shards are numbered from 0 to ${count - 1} (0-based, like JOB_COMPLETION_INDEX)`);
  return { index, count };
}

/** `--shards N`: how many shards to split into. */
export function parseShardCount(text: string, flag = '--shards'): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1 || Number(text) > MAX_SHARDS) throw new FlashUserError(`${flag}: expected a whole number from 1 to ${MAX_SHARDS}, got '${text}'`);
  return Number(text);
}

/** The rows [start, end) of `total` inputs that shard `shard` holds. */
export function shardRange(total: number, shard: Shard): [number, number] {
  return [Math.floor((shard.index * total) / shard.count), Math.floor(((shard.index + 1) * total) / shard.count)];
}

/** The inputs a shard holds with their 0-based rows among all inputs; all of them (rows 0 … N-1) without a shard. */
export function selectShard<T>(items: readonly T[], shard?: Shard): { items: T[]; rows: number[] } {
  const [start, end] = shard ? shardRange(items.length, shard) : [0, items.length];
  return { items: items.slice(start, end), rows: Array.from({ length: end - start }, (_, k) => start + k) };
}

/** A shard as messages show it: `3/8`. */
export function shardName(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * An output record with its input row first (`{ input_row: 17, … }`) — what a sharded predict writes, so parts
 * merge back in input order. A record that already has such a field is refused (the merge could not tell them apart).
 */
export function withRow<R extends object>(record: R, row: number | undefined): R | ({ [ROW_FIELD]: number } & R) {
  if (row === undefined) return record;
  if (ROW_FIELD in record) throw new FlashUserError(`a sharded output row may not have its own '${ROW_FIELD}' column (keep_columns?): flash adds it`);
  return { [ROW_FIELD]: row, ...record };
}

/**
 * The rows of the `kept` outputs among the `picked` inputs, when a task drops some inputs (an unreadable image
 * is skipped with a warning): both are in input order, so one walk matches them by key.
 */
export function rowsOfKept<T>(picked: { items: readonly T[]; rows: readonly number[] }, kept: readonly T[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const k of kept) {
    while (j < picked.items.length && picked.items[j] !== k) j++;
    if (j === picked.items.length) throw new Error(`output ${String(k)} is not among the inputs in order`);
    out.push(picked.rows[j++]);
  }
  return out;
}
