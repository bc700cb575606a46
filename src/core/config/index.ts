export * from './schema.js';
export { defaultRecipe, cloneValue } from './defaults.js';
export { coerceValue, showValue, type Coerced } from './coerce.js';
export {
  resolveRecipe,
  formatProblems,
  RecipeError,
  type ResolveOptions,
  type RecipeRegistries,
  type RecipeCheckContext,
  type NameSource,
  type BuilderInfo,
} from './resolve.js';
export { loadRecipeFile, findRecipeFile, RECIPE_SEARCH_PLACES, type LoadedRecipeFile } from './load.js';
export { recipeToYaml } from './yaml.js';
