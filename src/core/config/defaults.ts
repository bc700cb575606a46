import { SECTIONS, type DeepPartial, type Recipe, type Schema } from './schema.js';

/** A deep copy of a JSON-like value (recipes hold only plain data). */
export function cloneValue<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : (structuredClone(value) as T);
}

/** A schema's defaults for `task`, with further defaults laid over them (not validated: see resolveRecipe). */
export function defaultRecipe(schema: Schema, task: string, taskDefaults?: DeepPartial<Recipe>): Recipe {
  const recipe: Record<string, unknown> = { task };
  for (const section of SECTIONS) {
    const sec: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(schema[section])) {
      sec[key] = cloneValue(spec.default);
    }
    const over = taskDefaults?.[section] as Record<string, unknown> | undefined;
    if (over) for (const [key, value] of Object.entries(over)) if (value !== undefined) sec[key] = cloneValue(value);
    recipe[section] = sec;
  }
  return recipe as unknown as Recipe;
}
