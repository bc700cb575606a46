/**
 * Which columns are features and of what kind: the given `--categorical_fields` / `--numerical_fields`, checked
 * against the training CSV, or — when neither is given — inferred from it, with a reason for every decision.
 */
import { FlashUserError } from '../../src/core/errors.js';
import { DATE, DATE_PARTS, datePart } from './encode.js';
import { columnIndex, isMissing, parseNumber, type Table } from './table.js';

export interface Fields {
  numerical: string[];
  categorical: string[];
}

/** A column left out by inference, and why. */
export interface Dropped {
  name: string;
  why: string;
}

export interface FieldChoice extends Fields {
  /** Date columns, each expanded into numerical parts (year, month, weekday, yearday); absent in older runs. */
  dates?: string[];
  dropped: Dropped[];
  /** Lines for the run's output: what was decided and why. */
  notes: string[];
}

const BOOLEAN = new Set(['true', 'false', 'yes', 'no', 't', 'f', 'y', 'n']);
/** Strings this long on average are prose, not categories. */
const FREE_TEXT_CHARS = 40;
/** At least this many rows before "every value distinct" means an ID (a 5-row table proves nothing). */
const ID_MIN_ROWS = 10;
/** An integer column with at most this many distinct values is numerical, and said (it may be a category). */
const FEW_INTEGERS = 10;

/** One column's profile over the non-missing cells. */
interface Profile {
  present: string[];
  distinct: number;
  numeric: boolean;
  integer: boolean;
  boolean: boolean;
  meanLength: number;
}

function profile(table: Table, col: number): Profile {
  const present = table.rows.map((r) => r[col]).filter((v) => !isMissing(v));
  const nums = present.map(parseNumber);
  const numeric = present.length > 0 && nums.every((v) => v !== undefined);
  return {
    present,
    distinct: new Set(present).size,
    numeric,
    integer: numeric && nums.every((v) => Number.isInteger(v)),
    boolean: present.length > 0 && present.every((v) => BOOLEAN.has(v.toLowerCase())),
    meanLength: present.reduce((s, v) => s + v.length, 0) / Math.max(1, present.length),
  };
}

/** Decides one column: its kind, or why it is left out. */
function decide(name: string, p: Profile, rows: number): { kind: 'numerical' | 'categorical' | 'date' } | { why: string } | { kind: 'numerical'; note: string } {
  if (p.present.length === 0) return { why: 'every value missing' };
  if (p.distinct === 1) return { why: `constant, every value '${p.present[0]}'` };
  const allDistinct = p.distinct === p.present.length && rows >= ID_MIN_ROWS;
  if (p.numeric) {
    if (p.integer && allDistinct && (/(^|_|\b)id$/i.test(name) || /^id(_|$)/i.test(name) || isRange(p.present))) {
      return { why: `ID-like: all ${p.distinct} values distinct integers` };
    }
    if (p.integer && p.distinct <= FEW_INTEGERS) return { kind: 'numerical', note: `${name}: integers with ${p.distinct} distinct values, taken as numerical (list it in --categorical_fields to treat it as a category)` };
    return { kind: 'numerical' };
  }
  if (p.boolean) return { kind: 'categorical' };
  if (p.present.every((v) => DATE.test(v.trim()) && datePart(v, 'year') !== undefined)) return { kind: 'date' };
  if (p.meanLength > FREE_TEXT_CHARS) return { why: `free text: ${Math.round(p.meanLength)} characters on average` };
  if (allDistinct) return { why: `ID-like: all ${p.distinct} values distinct` };
  return { kind: 'categorical' };
}

/** Distinct integers forming one consecutive run (a row number). */
function isRange(values: string[]): boolean {
  const nums = values.map(Number).sort((a, b) => a - b);
  return nums[nums.length - 1] - nums[0] === nums.length - 1;
}

/**
 * The feature columns of a table. With fields given: exactly those, each checked to exist, none listed twice nor
 * being a target. Without: every non-target column by its values (numbers → numerical; text and booleans →
 * categorical; constant, all-missing, ID-like and free-text columns left out), each decision in `notes`.
 */
export function chooseFields(table: Table, targets: string[], given: { categorical: string[] | null; numerical: string[] | null }): FieldChoice {
  for (const t of targets) columnIndex(table, t, 'the target');
  if (given.categorical !== null || given.numerical !== null) {
    const categorical = given.categorical ?? [];
    const numerical = given.numerical ?? [];
    for (const [list, flag] of [[categorical, '--categorical_fields'], [numerical, '--numerical_fields']] as const) {
      for (const f of list) {
        if (targets.includes(f)) throw new FlashUserError(`'${f}' is the target and also listed in ${flag}; a target cannot be a feature`);
        columnIndex(table, f, flag);
      }
      const dup = list.find((f, i) => list.indexOf(f) !== i);
      if (dup !== undefined) throw new FlashUserError(`'${dup}' is listed twice in ${flag}`);
    }
    const both = categorical.find((f) => numerical.includes(f));
    if (both !== undefined) throw new FlashUserError(`'${both}' is listed in both --categorical_fields and --numerical_fields`);
    if (categorical.length + numerical.length === 0) throw new FlashUserError('no feature columns: --categorical_fields and --numerical_fields are both empty');
    return { numerical, categorical, dropped: [], notes: [`features as given: numerical ${numerical.join(', ') || '(none)'}; categorical ${categorical.join(', ') || '(none)'}`] };
  }
  const numerical: string[] = [];
  const categorical: string[] = [];
  const dates: string[] = [];
  const dropped: Dropped[] = [];
  const extra: string[] = [];
  table.columns.forEach((name, col) => {
    if (targets.includes(name)) return;
    const d = decide(name, profile(table, col), table.rows.length);
    if ('why' in d) dropped.push({ name, why: d.why });
    else (d.kind === 'numerical' ? numerical : d.kind === 'date' ? dates : categorical).push(name);
    if ('note' in d) extra.push(d.note);
  });
  if (numerical.length + categorical.length + dates.length === 0) {
    throw new FlashUserError(`${table.file}: no usable feature columns (${dropped.map((d) => `${d.name}: ${d.why}`).join('; ') || 'only the target'}); list them with --categorical_fields / --numerical_fields`);
  }
  const notes = [
    `features inferred from ${table.file} (give --categorical_fields / --numerical_fields to choose):`,
    `  numerical (numbers): ${numerical.join(', ') || '(none)'}`,
    `  categorical (text or booleans): ${categorical.join(', ') || '(none)'}`,
    ...(dates.length ? [`  dates (each expanded into ${DATE_PARTS.join(', ')}: numerical features column:part): ${dates.join(', ')}`] : []),
    ...(dropped.length ? [`  left out: ${dropped.map((d) => `${d.name} (${d.why})`).join(', ')}`] : []),
    ...extra.map((e) => `  ${e}`),
  ];
  return { numerical, categorical, ...(dates.length ? { dates } : {}), dropped, notes };
}
