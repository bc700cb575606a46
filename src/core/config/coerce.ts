import { didYouMean } from '../suggest.js';
import { describeType, type KeySpec } from './schema.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; error: string };

const NULL_WORDS = new Set(['null', '~', 'none', 'None', 'NONE', 'Null', 'NULL']);
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A value as a message shows it: strings quoted, the rest as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function fail(spec: KeySpec, raw: unknown): Coerced {
  const got = raw === '' ? 'nothing' : showValue(raw);
  return { ok: false, error: `expected ${describeType(spec)}, got ${got}` };
}

function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && NUMBER_RE.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** Elements of a list given as a list, or as a string 'a,b' / '[a, b]' / '[]'. */
function listItems(raw: unknown, split: boolean): unknown[] | undefined {
  if (Array.isArray(raw)) {
    if (!split) return raw;
    return raw.flatMap((x) => (typeof x === 'string' ? (listItems(x, true) ?? [x]) : [x]));
  }
  if (typeof raw !== 'string') return undefined;
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1).trim();
  else if (!split) return [raw];
  if (s === '') return [];
  return s.split(',').map((x) => x.trim().replace(/^(['"])(.*)\1$/, '$2'));
}

function checkBounds(spec: KeySpec, n: number): string | undefined {
  if (spec.min !== undefined && n < spec.min) return `must be at least ${spec.min}, got ${n}`;
  if (spec.max !== undefined && n > spec.max) return `must be at most ${spec.max}, got ${n}`;
  if (spec.above !== undefined && n <= spec.above) return `must be greater than ${spec.above}, got ${n}`;
  if (spec.below !== undefined && n >= spec.below) return `must be less than ${spec.below}, got ${n}`;
  return undefined;
}

/**
 * Turns a raw value (a string or string list from a flag, or anything from a recipe file) into the key's type:
 * '10' → 10, 'true' → true, '2,4' → [2, 4], 'null' → null (for nullable keys), then checks choices and bounds.
 */
export function coerceValue(spec: KeySpec, raw: unknown): Coerced {
  if (raw === undefined) return fail(spec, raw);
  // A list flag given the single word 'null'.
  if (spec.nullable && Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string' && NULL_WORDS.has(raw[0].trim())) {
    return { ok: true, value: null };
  }
  if (raw === null || (spec.nullable && typeof raw === 'string' && NULL_WORDS.has(raw.trim()))) {
    return spec.nullable ? { ok: true, value: null } : fail(spec, null);
  }
  // A scalar flag given twice arrives as a list: the last one wins.
  if (Array.isArray(raw) && !spec.type.endsWith('[]')) {
    if (raw.length === 0) return fail(spec, raw);
    return coerceValue(spec, raw[raw.length - 1]);
  }
  // A key that may be worked out by flash (`--model.learning_rate auto`).
  if (spec.autoOk && typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return { ok: true, value: 'auto' };
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const n = toNumber(raw);
      if (n === undefined || (spec.type === 'integer' && !Number.isInteger(n))) return fail(spec, raw);
      const bad = checkBounds(spec, n);
      return bad ? { ok: false, error: bad } : { ok: true, value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (typeof raw === 'string') {
        const s = raw.trim().toLowerCase();
        if (TRUE_WORDS.has(s)) return { ok: true, value: true };
        if (FALSE_WORDS.has(s)) return { ok: true, value: false };
      }
      return fail(spec, raw);
    }
    case 'string': {
      if (typeof raw === 'boolean' && spec.boolAsString) return { ok: true, value: String(raw) };
      if (typeof raw !== 'string' || raw.trim() === '') return fail(spec, raw);
      return { ok: true, value: raw };
    }
    case 'enum': {
      if (typeof raw === 'boolean' && spec.boolAsString) raw = String(raw);
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail(spec, raw);
      const s = String(raw).trim();
      const hit = (spec.choices ?? []).find((c) => String(c) === s);
      if (hit !== undefined) return { ok: true, value: hit };
      const miss = fail(spec, raw);
      // Suggest among word choices only: '2' is not a typo of the channel count '1'.
      const words = (spec.choices ?? []).map(String).filter((c) => !NUMBER_RE.test(c));
      return miss.ok || NUMBER_RE.test(s) ? miss : { ok: false, error: miss.error + didYouMean(s, words) };
    }
    case 'string[]': {
      const items = listItems(raw, Boolean(spec.registry));
      if (!items) return fail(spec, raw);
      const out: string[] = [];
      for (const x of items) {
        if (typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
        else if (typeof x === 'string' && x !== '') out.push(x);
        else return { ok: false, error: `expected ${describeType(spec)}, got ${showValue(raw)}` };
      }
      return { ok: true, value: out };
    }
    case 'number[]': {
      const items = listItems(raw, true);
      if (!items) return fail(spec, raw);
      const out: number[] = [];
      for (const x of items) {
        const n = toNumber(x);
        if (n === undefined) return { ok: false, error: `expected ${describeType(spec)}, got ${showValue(raw)}` };
        const bad = checkBounds(spec, n);
        if (bad) return { ok: false, error: bad };
        out.push(n);
      }
      return { ok: true, value: out };
    }
  }
}
