import type { Recipe } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { Registry } from '../../src/core/registry.js';
import type { TaskCommand, TaskPlugin, TrainArgs } from '../types.js';
import { evaluateSpec, exportSpec, predictSpec, serveSpec } from './cli.js';
import { textBuilders } from './data.js';
import { withDemoData } from './demo.js';
import { textModels } from './model.js';
import { checkTextRecipe, TEXT_DEFAULTS, TEXT_KEYS, TEXT_SCHEMA, type TextRecipe } from './schema.js';
import { SPLITTERS, type Splitter } from './tokenizer.js';

/** The tokenizer's splitters as a registry (`data.tokenizer`, `flash list tokenizers`); the pure module holds them. */
export const tokenizers = new Registry<Splitter>('tokenizer');
for (const [name, s] of Object.entries(SPLITTERS)) tokenizers.register(name, s, s.description);

/**
 * The text_classification plugin: texts from CSV, JSON lines or class folders → a tokenizer learnt on the
 * training split → fastText-style bag of words, subwords and bigrams → classes. Command code loads on demand.
 */
export const textClassification: TaskPlugin = {
  name: 'text_classification',
  description: 'classify texts into classes or labels (CSV, JSON lines or class folders of .txt files), trained from scratch offline',
  example: 'flash text_classification from_csv --train_file reviews.csv --input_field text --target_fields label',
  keys: TEXT_KEYS,
  schema: TEXT_SCHEMA,
  defaults: TEXT_DEFAULTS as TaskPlugin['defaults'],
  registries: { text_models: textModels, tokenizers },
  builders: textBuilders.list().map((b) => ({ name: b.name, description: b.item.description, options: b.item.options })),
  checkRecipe: (recipe, ctx) => checkTextRecipe(recipe as Recipe as TextRecipe, ctx),
  trainFlags: [
    {
      name: 'check',
      kind: 'boolean',
      description: 'check the data and exit: rows, empty texts, label counts, duplicates and near-duplicates (also across splits), text lengths, texts over max_length, unreadable files; exit code 1 when training would be meaningless',
    },
    { name: 'json', kind: 'boolean', description: 'with --check: print the report as JSON' },
  ],
  async train(args: TrainArgs): Promise<void> {
    if (args.flags?.json && !args.flags.check) throw new FlashUserError('--json goes with --check (print the data check as JSON)');
    if (args.flags?.check) {
      const { checkCommand } = await import('./check.js');
      await checkCommand({ recipe: withDemoData(args.recipe as Recipe as TextRecipe), io: args.io, json: args.flags.json === true });
      return;
    }
    const { trainTextClassifier } = await import('./train.js');
    await trainTextClassifier(args);
  },
  async lrFind(args: TrainArgs): Promise<void> {
    const { findTextLearningRate } = await import('./train.js');
    await findTextLearningRate({ ...args, recipe: withDemoData(args.recipe as Recipe as TextRecipe) });
  },
  commands: {
    predict: withRun(predictSpec, async (a) => (await import('./commands.js')).predictCommand(a)),
    evaluate: withRun(evaluateSpec, async (a) => (await import('./commands.js')).evaluateCommand(a)),
    serve: withRun(serveSpec, async (a) => (await import('./serve.js')).serveCommand(a)),
    export: withRun(exportSpec, async (a) => (await import('./export.js')).exportCommand(a)),
  },
};

function withRun<A extends Parameters<TaskCommand['run']>[0]>(spec: Omit<TaskCommand<A>, 'run'>, run: (args: A) => Promise<unknown>): TaskCommand {
  return { ...spec, run } as unknown as TaskCommand;
}
