import yargs from 'yargs';
import { FlashUserError } from '../core/errors.js';
import { closest } from '../core/suggest.js';

/** How a flag takes its value. */
export type FlagKind = 'string' | 'array' | 'boolean';

/** The result of parsing one stretch of argv against a table of known flags. */
export interface ParsedFlags {
  /** Bare words, in order. */
  positionals: string[];
  /** Known flags given, by spelling (no dashes): a string, a string list or a boolean. */
  values: Map<string, string | string[] | boolean>;
  /** Unknown flags as typed (`--trainer.max_epoch`, `-x`). */
  unknown: string[];
}

/** `--name` for long names, `-n` for one letter. */
export function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/**
 * Parses argv with yargs' parser, configured to keep flags exactly as spelled: `--trainer.max_epochs` stays one
 * key (no dot expansion into objects, no camel-case copies), values stay strings (the recipe coerces them),
 * `--flag value` and `--flag=value` both work, a repeated flag keeps its last value, and list flags take every
 * word up to the next flag. Unknown flags are collected, not fatal: the caller reports them all with
 * suggestions.
 */
export function parseFlags(tokens: readonly string[], table: ReadonlyMap<string, FlagKind>): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean' | 'array'; string?: boolean }> = {};
  for (const [name, kind] of table) {
    options[name] = kind === 'array' ? { type: 'array', string: true } : { type: kind };
  }
  checkBooleanValues(tokens, table);
  const argv = yargs(joinDashValues(tokens, table))
    .parserConfiguration({
      'dot-notation': false,
      'camel-case-expansion': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
      'duplicate-arguments-array': false,
      'greedy-arrays': true,
      'short-option-groups': false,
      'strip-aliased': true,
      'strip-dashed': false,
      'populate--': false,
      'halt-at-non-option': false,
      'unknown-options-as-args': false,
    })
    .options(options)
    .help(false)
    .version(false)
    .exitProcess(false)
    .strict(false)
    .parseSync() as Record<string, unknown>;

  const positionals = ((argv._ as unknown[]) ?? []).map(String);
  const values = new Map<string, string | string[] | boolean>();
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0') continue;
    if (!table.has(key)) {
      unknown.push(dashed(key));
      continue;
    }
    if (value === undefined) continue;
    const kind = table.get(key);
    if (kind === 'array') values.set(key, (Array.isArray(value) ? value : [value]).map(String));
    else if (kind === 'boolean') values.set(key, Boolean(value));
    else values.set(key, Array.isArray(value) ? String(value[value.length - 1] ?? '') : String(value));
  }
  // A boolean flag followed by a word that is not true/false: yargs leaves the word as a positional.
  return { positionals, values, unknown };
}

/** `--flag=value` on a boolean flag must say true or false: yargs reads any other word (`=banana`, `=null`) as false. */
function checkBooleanValues(tokens: readonly string[], table: ReadonlyMap<string, FlagKind>): void {
  for (const t of tokens) {
    if (t === '--') return;
    const m = /^--?([^=]+)=(.*)$/s.exec(t);
    if (m && table.get(m[1]) === 'boolean' && !/^(true|false)$/.test(m[2])) {
      throw new FlashUserError(`--${m[1]} expects true or false, got '${m[2]}'`);
    }
  }
}

/**
 * `--flag -` as `--flag=-` for string flags: yargs reads a lone `-` as a positional (and the flag as empty), but it
 * is the usual name of stdin (`flash predict --csv -`). Only before a `--` terminator.
 */
function joinDashValues(tokens: readonly string[], table: ReadonlyMap<string, FlagKind>): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '--') {
      out.push(...tokens.slice(i));
      break;
    }
    if (tokens[i + 1] === '-' && /^--?[^-=][^=]*$/.test(t) && table.get(t.replace(/^-+/, '')) === 'string') {
      out.push(`${t}=-`);
      i++;
      continue;
    }
    out.push(t);
  }
  return out;
}

/** `unknown option '--x' (did you mean '--y'?)` for an unknown flag, against the flags that are valid here. */
export function unknownOptionMessage(flag: string, valid: Iterable<string>): string {
  const bare = flag.replace(/^-+/, '');
  const names = [...valid];
  const near = closest(bare, names);
  return `unknown option '${flag}'${near === undefined ? '' : ` (did you mean '${dashed(near)}'?)`}`;
}

/** Whether argv asks for help before any `--` terminator. */
export function wantsHelp(tokens: readonly string[]): boolean {
  for (const t of tokens) {
    if (t === '--') return false;
    if (t === '--help' || t === '-h') return true;
  }
  return false;
}
