import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { FlashUserError } from '../errors.js';
import { closest, didYouMean } from '../suggest.js';
import { coerceValue, showValue } from './coerce.js';
import { cloneValue, defaultRecipe } from './defaults.js';
import {
  SECTIONS,
  keySpec,
  schemaKeys,
  type DeepPartial,
  type KeySpec,
  type Recipe,
  type RegistryName,
  type Schema,
  type Section,
} from './schema.js';

/** Anything with names: a `Registry`, or a fake in tests. */
export interface NameSource {
  readonly kind?: string;
  names(): string[];
}

/**
 * The registries whose names recipe values are checked against (any may be left out). `metrics` checks
 * `trainer.monitor`, which names a logged quantity: `train_` or `val_` + `loss` or a metric name.
 */
export type RecipeRegistries = Partial<Record<RegistryName, NameSource>>;

/** A task's data builder as the recipe sees it: its name and the `data.*` keys it uses. */
export interface BuilderInfo {
  name: string;
  options: readonly string[];
}

/** What a task's own recipe check (`checkRecipe`) is given to word its problems. */
export interface RecipeCheckContext {
  /** How a message names a key: the flag that set it, `recipe r.yaml: data.folder`, or `default data.folder`. */
  at(path: string): string;
  /** True when a file or a flag set the key (not a default). */
  setByUser(path: string): boolean;
}

export interface ResolveOptions {
  task: string;
  /** The task's merged schema (the core's keys and the task's own; `mergeSchemas`). */
  schema: Schema;
  /** Keys of other tasks, `section.key` → the tasks declaring it: such a key is reported as theirs. */
  foreignKeys?: ReadonlyMap<string, readonly string[]>;
  /** The task's cross-key rules; returns every problem found. */
  checkRecipe?: (recipe: Recipe, ctx: RecipeCheckContext) => string[];
  /** The task's own defaults (over the schema's). */
  taskDefaults?: DeepPartial<Recipe>;
  /** A parsed recipe file (YAML/JSON object). */
  file?: unknown;
  /** Where `file` came from, as messages should name it. */
  filePath?: string;
  /** Values from flags, nested by section (`{ trainer: { max_epochs: '10' } }`); strings are coerced. */
  overrides?: Record<string, unknown>;
  /** How each overridden key was spelled (`'trainer.max_epochs' → '--max_epochs'`); default `--section.key`. */
  overrideNames?: Record<string, string>;
  registries?: RecipeRegistries;
  /** The task's data builders; `data.builder` must be one of them. */
  builders?: readonly BuilderInfo[];
  /** Folder that relative paths are read from: a `pathOk` key may name a bare folder that exists there (`runs/A` or `A`). */
  cwd?: string;
}

/** The user error thrown by `resolveRecipe`, with each problem on its own. */
export class RecipeError extends FlashUserError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(formatProblems(problems));
    this.name = 'RecipeError';
    this.problems = problems;
  }
}

/** One problem: the line itself; several: a count line, then one indented line each. */
export function formatProblems(problems: readonly string[]): string {
  if (problems.length === 1) return problems[0];
  return `${problems.length} problems with the settings:\n${problems.map((p) => `  ${p}`).join('\n')}`;
}

/** Where a value came from, and how to prefix messages about it. */
interface Origin {
  /** 'default', 'task', 'file' or 'flag' */
  kind: 'default' | 'task' | 'file' | 'flag';
  label: string;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}


/**
 * Resolves the recipe for a run: schema defaults < task defaults < recipe file < flags. Every value is coerced
 * and checked, names are checked against the registries and the task's builders, and every problem found is
 * reported at once in one `RecipeError` (a `FlashUserError`).
 */
export function resolveRecipe(opts: ResolveOptions): Recipe {
  const { schema } = opts;
  // Section names of keys spelled `key` (for `max_epochs:` written at the top level of a file).
  const sectionsHaving = (key: string): Section[] => SECTIONS.filter((s) => keySpec(schema, s, key) !== undefined);
  const recipe = defaultRecipe(schema, opts.task) as unknown as Record<string, Record<string, unknown>> & { task: string };
  const problems: string[] = [];
  const origins = new Map<string, Origin>();
  const defaultOrigin: Origin = { kind: 'default', label: 'default' };

  const where = (origin: Origin, path: string): string => {
    if (origin.kind === 'flag') return origin.label;
    if (origin.kind === 'default') return `default ${path}`;
    return `${origin.label}: ${path}`;
  };

  const layer = (data: unknown, origin: (path: string) => Origin, layerLabel: string, isFile: boolean): void => {
    if (data === undefined || data === null) return;
    if (!isPlainObject(data)) {
      problems.push(`${layerLabel}: expected a mapping of sections (trainer, model, data, finetune), got ${showValue(data)}`);
      return;
    }
    for (const [top, value] of Object.entries(data)) {
      if (top === 'task') {
        if (value !== opts.task) {
          problems.push(
            typeof value === 'string'
              ? `${layerLabel}: task is '${value}' but the command runs '${opts.task}'`
              : `${layerLabel}: task: expected a string, got ${showValue(value)}`,
          );
        }
        continue;
      }
      if (!(SECTIONS as readonly string[]).includes(top)) {
        const homes = sectionsHaving(top);
        const hint = homes.length
          ? ` (did you mean '${homes[0]}.${top}'?)`
          : didYouMean(top, [...SECTIONS, 'task']);
        const what = isFile && !isPlainObject(value) ? 'key' : 'section';
        problems.push(`${layerLabel}: unknown ${what} '${top}'${hint}`);
        continue;
      }
      if (value === null || value === undefined) continue;
      if (!isPlainObject(value)) {
        problems.push(`${layerLabel}: ${top}: expected a mapping of keys, got ${showValue(value)}`);
        continue;
      }
      const section = top as Section;
      for (const [key, raw] of Object.entries(value)) {
        const path = `${section}.${key}`;
        const spec = keySpec(schema, section, key);
        const o = origin(path);
        const owners = opts.foreignKeys?.get(path);
        if (!spec && owners?.length) {
          problems.push(`${o.kind === 'flag' ? o.label : layerLabel}: '${path}' is a key of ${owners.join(', ')}, not of ${opts.task}`);
          continue;
        }
        if (!spec) {
          const candidates = schemaKeys(schema).map((k) => k.path);
          const near = closest(path, candidates) ?? closest(key, schemaKeys(schema).map((k) => k.key));
          const hint = near === undefined ? '' : ` (did you mean '${near.includes('.') ? near : sectionsHaving(near).map((s) => `${s}.${near}`)[0]}'?)`;
          problems.push(`${o.kind === 'flag' ? o.label : layerLabel}: unknown key '${path}'${hint}`);
          continue;
        }
        if (raw === undefined) continue;
        const c = coerceValue(spec, raw);
        if (!c.ok) {
          problems.push(`${where(o, path)}: ${c.error}`);
          continue;
        }
        recipe[section][key] = c.value;
        origins.set(path, o);
      }
    }
  };

  layer(opts.taskDefaults, () => ({ kind: 'task', label: `task ${opts.task} defaults` }), `task ${opts.task} defaults`, false);
  const fileLabel = `recipe ${opts.filePath ?? '(file)'}`;
  layer(opts.file, () => ({ kind: 'file', label: fileLabel }), fileLabel, true);
  layer(
    opts.overrides,
    (path) => ({ kind: 'flag', label: opts.overrideNames?.[path] ?? `--${path}` }),
    'flags',
    false,
  );

  const originOf = (path: string): Origin => origins.get(path) ?? defaultOrigin;
  const at = (path: string): string => where(originOf(path), path);

  // Names that must be registered.
  for (const { section, key, path, spec } of schemaKeys(schema)) {
    if (!spec.registry) continue;
    const reg = opts.registries?.[spec.registry];
    if (!reg) continue;
    const value = recipe[section][key];
    const names = reg.names();
    const allowed = [...(spec.extraNames ?? []), ...names];
    for (const name of Array.isArray(value) ? (value as string[]) : value === null ? [] : [value as string]) {
      if (spec.pathOk && (/[\\/]|\.json$/.test(name) || (!allowed.includes(name) && opts.cwd !== undefined && existsSync(resolvePath(opts.cwd, name))))) continue;
      if (!allowed.includes(name)) {
        const kind = reg.kind ?? spec.registry.replace(/s$/, '');
        problems.push(`${at(path)}: unknown ${kind} '${name}'${didYouMean(name, allowed)}; available: ${allowed.join(', ')}`);
      }
    }
  }
  if (opts.registries?.metrics) {
    const monitors = ['train', 'val'].flatMap((split) => ['loss', ...opts.registries!.metrics!.names()].map((m) => `${split}_${m}`));
    const monitor = recipe.trainer.monitor as string;
    if (!monitors.includes(monitor)) {
      problems.push(`${at('trainer.monitor')}: unknown quantity '${monitor}'${didYouMean(monitor, monitors)}; monitor train_ or val_ followed by loss or a metric (${['loss', ...opts.registries.metrics.names()].join(', ')})`);
    }
  }
  const setByUser = (path: string): boolean => ['file', 'flag'].includes(originOf(path).kind);
  checkBuilder(recipe as unknown as Recipe, opts.builders, at, setByUser, problems);
  if (opts.checkRecipe) problems.push(...opts.checkRecipe(recipe as unknown as Recipe, { at, setByUser }));

  if (problems.length) throw new RecipeError(problems);
  return cloneValue(recipe) as unknown as Recipe;
}

/** `data.builder` must be one of the task's builders, and another builder's keys must not be set. */
function checkBuilder(
  recipe: Recipe,
  builders: readonly BuilderInfo[] | undefined,
  at: (path: string) => string,
  setByUser: (path: string) => boolean,
  problems: string[],
): void {
  if (!builders) return;
  const d = recipe.data;
  const builder = builders.find((b) => b.name === d.builder);
  const names = builders.map((b) => b.name);
  if (!builder) {
    problems.push(`${at('data.builder')}: unknown builder '${d.builder}' for ${recipe.task}${didYouMean(d.builder, names)}; available: ${names.join(', ')}`);
    return;
  }
  // Keys of another builder set in a file or by a flag are a mistake (train_files with from_folders).
  const owned = new Set(builders.flatMap((b) => b.options.map((o) => o.replace(/^data\./, ''))));
  const mine = new Set(builder.options.map((o) => o.replace(/^data\./, '')));
  for (const key of owned) {
    const value = (d as unknown as Record<string, unknown>)[key];
    if (!mine.has(key) && value !== null && value !== undefined && setByUser(`data.${key}`)) {
      const users = builders.filter((b) => b.options.some((o) => o.replace(/^data\./, '') === key)).map((b) => b.name);
      problems.push(`${at(`data.${key}`)}: not used by the ${d.builder} builder (it belongs to ${users.join(', ')})`);
    }
  }
}
