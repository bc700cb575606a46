import { join } from 'node:path';
import { packageRoot } from '../../src/core/package_root.js';
import { recipeHasNoData, type TextRecipe } from './schema.js';

/** The demo corpus that ships with flash (data/demo/text, see its README): used when no data is given. */
export function demoCorpus(): { train: string; test: string } {
  const dir = join(packageRoot(), 'data', 'demo', 'text');
  return { train: join(dir, 'train.csv'), test: join(dir, 'test.csv') };
}

/** The recipe's data with the demo corpus filled in when it names none. */
export function withDemoData(recipe: TextRecipe): TextRecipe {
  if (!recipeHasNoData(recipe.data)) return recipe;
  const demo = demoCorpus();
  return { ...recipe, data: { ...recipe.data, builder: 'from_csv', train_file: demo.train, test_file: demo.test, input_field: 'text', target_fields: ['label'] } };
}
