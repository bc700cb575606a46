import { coerceValue, schemaKeys, SECTIONS } from '../core/config/index.js';
import { didYouMean } from '../core/suggest.js';
import { dashed, parseFlags, unknownOptionMessage, type FlagKind } from './argv.js';
import { builderFlags, flagKind, recipeFlags, TASK_FLAGS, type RecipeFlag } from './flags.js';
import type { TaskPlugin } from '../../tasks/types.js';

/** What `flash <task> …` asked for, before the recipe is resolved. */
export interface TaskInvocation {
  /** Recipe values from flags, nested by section, still raw (strings, string lists, booleans). */
  overrides: Record<string, Record<string, unknown>>;
  /** How each overridden key was spelled: `'trainer.max_epochs' → '--max_epochs'`. */
  overrideNames: Record<string, string>;
  /** `--config` */
  config?: string;
  printConfig: boolean;
  resume?: string;
  /** `--overwrite`: replace what the output folder holds. */
  overwrite: boolean;
  /** The task's own train flags that were given (`--check`, `--json`), by name. */
  flags: Record<string, string | boolean>;
  /** The Flash Zero sub-command (`from_folders`, `from_files`, …), if given. */
  builder?: string;
  /** `--help`/`-h` was given. */
  help: boolean;
  /** Flag-level problems (unknown flags, stray words, clashing spellings), reported with the recipe's. */
  problems: string[];
}

interface Given {
  flag: string;
  value: unknown;
}

/** Index of the sub-command in `tokens`: the first bare word naming a builder that is not a flag's value. */
function findSubcommand(tokens: readonly string[], builders: ReadonlySet<string>, kinds: ReadonlyMap<string, FlagKind>): number {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '--') return -1;
    if (t.startsWith('-') && t.length > 1) {
      if (t.includes('=')) continue;
      const kind = kinds.get(t.replace(/^-+/, '')) ?? 'string';
      const next = tokens[i + 1];
      // A lone '-' is a value (stdin), not a flag.
      if (next === undefined || (next.startsWith('-') && next !== '-')) continue;
      if (kind === 'string' || (kind === 'boolean' && /^(true|false)$/i.test(next))) i++;
      continue;
    }
    if (builders.has(t)) return i;
  }
  return -1;
}

/**
 * Parses the words after `flash <task>`: recipe flags (`--section.key`, aliases), `--config`, `--print_config`,
 * `--resume`, the task's own flags (`--from_folders`, `--check`), and Flash Zero's sub-command syntax
 * (`from_folders --train_folder x`: the builder's options without `data.`), with flags before and after the
 * sub-command alike. `foreign` maps other tasks' flags to their tasks, so such a flag is said to be theirs.
 */
export function parseTaskArgs(taskName: string, task: TaskPlugin, tokens: readonly string[], foreign: ReadonlyMap<string, readonly string[]> = new Map()): TaskInvocation {
  const problems: string[] = [];
  const builderNames = task.builders.map((b) => b.name);
  const globalFlags = recipeFlags(task.schema);
  const own = new Map((task.trainFlags ?? []).map((f) => [f.name, f]));
  const kinds = new Map<string, FlagKind>();
  for (const f of globalFlags) kinds.set(f.name, flagKindOf(f));
  for (const [name, f] of TASK_FLAGS) kinds.set(name, f.kind);
  for (const [name, f] of own) kinds.set(name, f.kind);

  const at = findSubcommand(tokens, new Set(builderNames), kinds);
  const before = at < 0 ? [...tokens] : tokens.slice(0, at);
  const after = at < 0 ? [] : tokens.slice(at + 1);
  const builder = at < 0 ? undefined : task.builders.find((b) => b.name === tokens[at]);

  const byName = new Map<string, RecipeFlag>(globalFlags.map((f) => [f.name, f]));
  const afterByName = new Map(byName);
  const afterKinds = new Map(kinds);
  if (builder) {
    for (const f of builderFlags(builder, task.schema)) {
      const prior = afterByName.get(f.name);
      if (prior && prior.key.path !== f.key.path) throw new Error(`builder option --${f.name} clashes with --${prior.name}`);
      if (!prior) afterByName.set(f.name, f);
      afterKinds.set(f.name, flagKindOf(f));
    }
  }

  const given = new Map<string, Given[]>();
  const give = (path: string, flag: string, value: unknown) => {
    const list = given.get(path) ?? [];
    const same = list.findIndex((g) => g.flag === flag);
    if (same >= 0) list.splice(same, 1); // the later of two identical spellings wins
    list.push({ flag, value });
    given.set(path, list);
  };

  const inv: TaskInvocation = { overrides: {}, overrideNames: {}, printConfig: false, overwrite: false, flags: {}, help: false, problems, builder: builder?.name };
  if (builder) give('data.builder', builder.name, builder.name);

  const stretches: [string[], Map<string, RecipeFlag>, Map<string, FlagKind>][] = [[before, byName, kinds]];
  if (builder) stretches.push([after, afterByName, afterKinds]);
  for (const [words, flags, table] of stretches) {
    const parsed = parseFlags(words, table);
    for (const flag of parsed.unknown) {
      const owners = foreign.get(flag.replace(/^-+/, ''));
      problems.push(owners?.length ? `option '${flag}' belongs to ${owners.join(', ')}, not to ${taskName}` : unknownTaskOption(flag, [...table.keys()].filter((n) => n !== 'h')));
    }
    for (const word of parsed.positionals) problems.push(strayWord(word, words, table, taskName, builderNames, builder?.name));
    for (const [name, value] of parsed.values) {
      const mine = own.get(name);
      if (mine) {
        if (mine.kind === 'boolean') inv.flags[name] = value === true;
        else if (typeof value !== 'string' || value === '') problems.push(`--${name}: expected a value`);
        else if (mine.sets) for (const [path, v] of Object.entries(mine.sets(value))) give(path, `--${name}`, v);
        else inv.flags[name] = value;
        continue;
      }
      const special = TASK_FLAGS.get(name);
      if (special) {
        if (name === 'help' || name === 'h') inv.help = inv.help || value === true;
        else if (name === 'print_config') inv.printConfig = value === true;
        else if (name === 'overwrite') inv.overwrite = value === true;
        else if (typeof value !== 'string' || value === '') problems.push(`--${name}: expected a value`);
        else if (name === 'config') inv.config = value;
        else if (name === 'resume') inv.resume = value;
        continue;
      }
      const f = flags.get(name);
      if (f) give(f.key.path, `--${name}`, value);
    }
  }

  const specs = new Map(schemaKeys(task.schema).map((k) => [k.path, k.spec]));
  for (const [path, list] of given) {
    const spec = specs.get(path)!;
    const norm = (v: unknown) => {
      const c = coerceValue(spec, v);
      return JSON.stringify(c.ok ? c.value : v);
    };
    const distinct = new Set(list.map((g) => norm(g.value)));
    if (distinct.size > 1) {
      problems.push(`${list.map((g) => (g.flag.startsWith('-') ? g.flag : `sub-command ${g.flag}`)).join(' and ')} both set ${path} to different values; give one`);
      continue;
    }
    const last = list[list.length - 1];
    const [section, key] = path.split('.');
    (inv.overrides[section] ??= {})[key] = last.value;
    inv.overrideNames[path] = last.flag.startsWith('-') ? last.flag : `sub-command ${last.flag}`;
  }
  return inv;
}

function flagKindOf(f: RecipeFlag): FlagKind {
  return flagKind(f.key.spec);
}

/** Unknown flag: suggest the closest spelling, or `--section.key` when the name is a key written without its section. */
function unknownTaskOption(flag: string, valid: string[]): string {
  const bare = flag.replace(/^-+/, '');
  const negated = /^no-(.+)$/.exec(bare)?.[1];
  if (negated !== undefined && valid.includes(negated)) return `unknown option '${flag}' (write '--${negated} false')`;
  const homes = SECTIONS.map((s) => `${s}.${bare}`).filter((p) => valid.includes(p));
  // A key written without its section (`--unfreeze_epoch`, or `--train_folder` without the sub-command).
  if (homes.length) return `unknown option '${flag}' (did you mean '${dashed(homes[0])}'?)`;
  return unknownOptionMessage(flag, valid);
}

/** A bare word that is neither the sub-command nor a flag's value. */
function strayWord(word: string, words: readonly string[], table: ReadonlyMap<string, FlagKind>, taskName: string, builders: string[], builder?: string): string {
  const i = words.indexOf(word);
  const prev = i > 0 ? words[i - 1] : undefined;
  if (prev && prev.startsWith('-') && !prev.includes('=') && table.get(prev.replace(/^-+/, '')) === 'boolean') {
    return `${prev}: expected true or false, got '${word}'`;
  }
  if (!builder) {
    const hint = didYouMean(word, builders);
    if (hint) return `unknown sub-command '${word}' for ${taskName}${hint}; available: ${builders.join(', ')}`;
    return `unexpected argument '${word}' (sub-commands of ${taskName}: ${builders.join(', ')})`;
  }
  if (builders.includes(word)) return `only one sub-command may be given: '${builder}' and '${word}'`;
  return `unexpected argument '${word}' (options take the form --name value)`;
}
