import { schemaKeys, type KeySpec, type SchemaKey } from '../core/config/index.js';
import type { FlagKind } from './argv.js';
import type { CliBuilder } from './types.js';

/** A spelling of a recipe flag and the key it sets. */
export interface RecipeFlag {
  /** As typed, without dashes: `trainer.max_epochs`, `max_epochs`, `lr`, `train_folder`. */
  name: string;
  key: SchemaKey;
  /** How it appears: the full `section.key` spelling, an alias, or a builder option after the sub-command. */
  role: 'full' | 'alias' | 'builder';
}

/** Flags of the task command that are not recipe keys. */
export const TASK_FLAGS: ReadonlyMap<string, { kind: FlagKind; arg?: string; description: string }> = new Map([
  ['config', { kind: 'string', arg: 'file', description: 'recipe file (.yaml, .yml, .json); default: flash.config.* or .flashrc* in the working directory' }],
  ['print_config', { kind: 'boolean', description: 'print the resolved recipe as YAML (a valid --config file) and exit' }],
  ['resume', { kind: 'string', arg: 'runDir', description: "continue an interrupted run from its last checkpoint, with the run's recipe.yaml as the recipe (flags still override)" }],
  ['from_folders', { kind: 'string', arg: 'dir', description: 'shortcut for `from_folders --folder dir`: class sub-folders, or train/ val/ test/ folders; also a .zip file or an http(s) URL of a zip (extracted into FLASH_CACHE_DIR, default ~/.cache/flash)' }],
  ['check', { kind: 'boolean', description: 'check the data and exit (class counts, undecodable and non-image files, duplicates, small classes, sizes, imbalance); exit code 1 when training would be meaningless' }],
  ['json', { kind: 'boolean', description: 'with --check: print the report as JSON' }],
  ['help', { kind: 'boolean', description: 'show this help' }],
  ['h', { kind: 'boolean', description: 'show this help' }],
]);

export function flagKind(spec: KeySpec): FlagKind {
  if (spec.type === 'boolean') return 'boolean';
  // Lists take every word up to the next flag (names and numbers may also be comma-separated).
  if (spec.type === 'string[]' || spec.type === 'number[]') return 'array';
  return 'string';
}

/** Every spelling of every recipe key: `--section.key` and its aliases (aliases must not clash). */
export function recipeFlags(): RecipeFlag[] {
  const out: RecipeFlag[] = [];
  const seen = new Map<string, string>();
  for (const key of schemaKeys()) {
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
export function builderFlags(builder: CliBuilder): RecipeFlag[] {
  const byPath = new Map(schemaKeys().map((k) => [k.path, k]));
  const out: RecipeFlag[] = [];
  for (const option of builder.options) {
    const path = option.startsWith('data.') ? option : `data.${option}`;
    const key = byPath.get(path);
    if (!key) throw new Error(`builder ${builder.name} names unknown recipe key ${path}`);
    out.push({ name: path.slice('data.'.length), key, role: 'builder' });
  }
  return out;
}
