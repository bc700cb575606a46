import { schemaKeys, type BuilderInfo, type KeySpec, type Schema, type SchemaKey } from '../core/config/index.js';
import type { FlagKind } from './argv.js';

/** A spelling of a recipe flag and the key it sets. */
export interface RecipeFlag {
  /** As typed, without dashes: `trainer.max_epochs`, `max_epochs`, `lr`, `train_folder`. */
  name: string;
  key: SchemaKey;
  /** How it appears: the full `section.key` spelling, an alias, or a builder option after the sub-command. */
  role: 'full' | 'alias' | 'builder';
}

/** Flags of every task command that are not recipe keys (a task adds its own: `TaskPlugin.trainFlags`). */
export const TASK_FLAGS: ReadonlyMap<string, { kind: FlagKind; arg?: string; description: string }> = new Map([
  ['config', { kind: 'string', arg: 'file', description: 'recipe file (.yaml, .yml, .json); default: flash.config.* or .flashrc* in the working directory' }],
  ['print_config', { kind: 'boolean', description: 'print the resolved recipe as YAML (a valid --config file) and exit' }],
  ['resume', { kind: 'string', arg: 'runDir', description: "continue an interrupted run from its last checkpoint, with the run's recipe.yaml as the recipe (flags still override)" }],
  ['overwrite', { kind: 'boolean', description: 'replace what --output_dir holds (a finished run, other files); without it such a folder is refused' }],
  ['help', { kind: 'boolean', description: 'show this help' }],
  ['h', { kind: 'boolean', description: 'show this help' }],
]);

export function flagKind(spec: KeySpec): FlagKind {
  if (spec.type === 'boolean') return 'boolean';
  // Lists take every word up to the next flag (names and numbers may also be comma-separated).
  if (spec.type === 'string[]' || spec.type === 'number[]') return 'array';
  return 'string';
}

/** Every spelling of every recipe key of a schema: `--section.key` and its aliases (aliases must not clash). */
export function recipeFlags(schema: Schema): RecipeFlag[] {
  const out: RecipeFlag[] = [];
  const seen = new Map<string, string>();
  for (const key of schemaKeys(schema)) {
    for (const [name, role] of [[key.path, 'full'] as const, ...(key.spec.aliases ?? []).map((a) => [a, 'alias'] as const)]) {
      const prior = seen.get(name);
      if (prior !== undefined && prior !== key.path) throw new Error(`flag --${name} is declared for both ${prior} and ${key.path}`);
      if (prior === undefined) out.push({ name, key, role });
      seen.set(name, key.path);
    }
  }
  return out;
}

/** A builder's own options, spelled without `data.` (valid after its sub-command). */
export function builderFlags(builder: BuilderInfo, schema: Schema): RecipeFlag[] {
  const byPath = new Map(schemaKeys(schema).map((k) => [k.path, k]));
  const out: RecipeFlag[] = [];
  for (const option of builder.options) {
    const path = option.startsWith('data.') ? option : `data.${option}`;
    const key = byPath.get(path);
    if (!key) throw new Error(`builder ${builder.name} names unknown recipe key ${path}`);
    out.push({ name: path.slice('data.'.length), key, role: 'builder' });
  }
  return out;
}
