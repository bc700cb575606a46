import { Document, isMap, isPair, isScalar, isSeq, type YAMLMap } from 'yaml';
import { SECTIONS, type Recipe, type Schema } from './schema.js';

/**
 * The full resolved recipe as YAML, with a comment header and each key's description: the output of
 * `--print_config`, and a valid `--config` file that resolves to the same recipe.
 */
export function recipeToYaml(recipe: Recipe, schema: Schema, header?: string): string {
  const doc = new Document({
    task: recipe.task,
    ...Object.fromEntries(SECTIONS.map((s) => [s, recipe[s]])),
  });
  const lines = [
    header ?? `flash recipe for ${recipe.task}: every setting of the run, resolved.`,
    `Run it with: flash ${recipe.task} --config <this file>`,
  ];
  doc.commentBefore = lines.map((l) => ` ${l}`).join('\n');
  const root = doc.contents as YAMLMap;
  for (const item of root.items) {
    if (!isPair(item) || !isScalar(item.key) || !isMap(item.value)) continue;
    const section = String(item.key.value) as (typeof SECTIONS)[number];
    item.key.spaceBefore = true;
    for (const pair of item.value.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const spec = schema[section][String(pair.key.value)];
      if (spec) pair.key.commentBefore = ` ${spec.description}`;
      // Short lists of names or numbers read best on one line: `milestones: [2, 4]`.
      if (isSeq(pair.value) && pair.value.items.length <= 8 && pair.value.items.every((x) => isScalar(x) && typeof x.value !== 'string')) {
        pair.value.flow = true;
      }
      if (isSeq(pair.value) && spec?.registry) pair.value.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
