/**
 * The TypeScript API of text_classification (Flash's `TextClassificationData.from_*`): data from files, folders
 * or in-memory lists, with the recipe's data keys as options; train with `Trainer` and a `TextClassifier`.
 *
 *   const data = await TextClassificationData.fromCsv({ train_file: 'reviews.csv', input_field: 'review' });
 *   const model = new TextClassifier({ labels: data.labels, tokenizer: data.tokenizer, multiLabel: data.multiLabel });
 *   model.setup(data);   // builds the network; the data then batches texts in its input layout
 *   await new Trainer({ maxEpochs: 5 }).fit(model, data);
 *   await model.predict(['free pills, click now']);
 */
import { defaultRecipe, type DeepPartial, type Recipe } from '../../src/core/config/index.js';
import { DEFAULT_SEED } from '../../src/core/config/index.js';
import { buildTextData, textBuilders, type TextBuilder, type TextData } from './data.js';
import type { RawRow } from './read.js';
import { TEXT_SCHEMA, type TextRecipe } from './schema.js';

/** The recipe's data keys (snake_case, as in a recipe file), any of them; the rest take their defaults. */
export type TextDataOptions = Partial<TextRecipe['data']> & { cwd?: string; seed?: number; strict?: boolean; multiLabel?: 'auto' | boolean };

/** Texts and their labels (a label, or a list of labels for multi-label) for `fromLists`. */
export interface TextList {
  texts: string[];
  targets: (string | string[])[];
}

async function build(builder: TextBuilder, o: TextDataOptions, name: string): Promise<TextData> {
  const defaults = (defaultRecipe(TEXT_SCHEMA, 'text_classification', {} as DeepPartial<Recipe>) as TextRecipe).data;
  const { cwd, seed, strict, multiLabel, ...keys } = o;
  return buildTextData({
    builder,
    data: { ...defaults, ...keys, builder: name },
    cwd: cwd ?? process.cwd(),
    multiLabel: multiLabel ?? 'auto',
    seed: seed ?? DEFAULT_SEED,
    strict: strict ?? false,
  });
}

export const TextClassificationData = {
  fromCsv: (o: TextDataOptions) => build(textBuilders.get('from_csv'), o, 'from_csv'),
  fromJson: (o: TextDataOptions) => build(textBuilders.get('from_json'), o, 'from_json'),
  fromFolders: (o: TextDataOptions) => build(textBuilders.get('from_folders'), o, 'from_folders'),
  /** In-memory texts: `train` (and optionally `val`, `test`) lists of texts with their targets. */
  fromLists(lists: { train: TextList; val?: TextList; test?: TextList }, o: TextDataOptions = {}): Promise<TextData> {
    const rows = (name: string, l: TextList | undefined): RawRow[] | undefined => {
      if (!l) return undefined;
      if (l.targets.length !== l.texts.length) throw new Error(`${name}: ${l.targets.length} targets for ${l.texts.length} texts`);
      return l.texts.map((text, i) => ({ where: `${name} text ${i}`, id: `${name}:${i}`, text, targets: [l.targets[i]] }));
    };
    const builder: TextBuilder = {
      description: 'in-memory lists',
      options: ['target_fields'],
      read: async () => ({ train: rows('train', lists.train)!, val: rows('val', lists.val), test: rows('test', lists.test), origin: 'the train list' }),
    };
    return build(builder, { ...o, target_fields: ['label'] }, 'from_lists');
  },
};
