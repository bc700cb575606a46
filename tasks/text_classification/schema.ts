import { CORE_SCHEMA, mergeSchemas, type DeepPartial, type Recipe, type RecipeCheckContext, type RecipeOf, type SchemaFor } from '../../src/core/config/index.js';
import {
  CLASSIFICATION_DATA_KEYS,
  CLASSIFICATION_MODEL_KEYS,
  type ClassificationDataRecipe,
  type ClassificationModelRecipe,
} from '../classification/schema.js';
import type { TokenizerConfig } from './tokenizer.js';

/** text_classification's own model keys. */
export interface TextModelRecipe extends ClassificationModelRecipe {
  backbone: string;
  embedding_dim: number;
  dropout: number;
}

/** text_classification's data keys: its builders' and its tokenizer's (TokenizerConfig's fields, `tokenizer` naming the splitter). */
export interface TextDataRecipe extends ClassificationDataRecipe, Omit<TokenizerConfig, 'splitter'> {
  train_file: string | null;
  val_file: string | null;
  test_file: string | null;
  train_folder: string | null;
  val_folder: string | null;
  test_folder: string | null;
  input_field: string;
  target_fields: string[];
  tokenizer: string;
}

export type TextRecipe = RecipeOf<TextModelRecipe, TextDataRecipe>;

const { multi_label, threshold } = CLASSIFICATION_MODEL_KEYS;

export const TEXT_KEYS: { model: SchemaFor<TextModelRecipe>; data: SchemaFor<TextDataRecipe> } = {
  model: {
    backbone: {
      type: 'string', default: 'fasttext', registry: 'text_models', aliases: ['backbone'],
      description: 'the text model: fasttext = mean embedding of words, subwords and bigrams → linear; cnn = parallel 1-D convolutions over word embeddings, max over time (Kim 2014); see flash list text_models',
    },
    embedding_dim: { type: 'integer', default: 64, min: 1, aliases: ['embedding_dim'], description: 'size of the word/subword/bigram embeddings' },
    dropout: { type: 'number', default: 0, min: 0, below: 1, aliases: ['dropout'], description: 'dropout before the linear layer (fasttext: on the mean embedding; cnn: on the pooled features, 0 = its default 0.5)' },
    multi_label,
    threshold,
  },
  data: {
    train_file: { type: 'string', nullable: true, default: null, description: 'CSV (from_csv) or JSON lines (from_json) file to train on; null with no other data = the demo corpus' },
    val_file: { type: 'string', nullable: true, default: null, description: 'file to validate on, laid out as train_file; null = hold out data.val_split of the training rows' },
    test_file: { type: 'string', nullable: true, default: null, description: 'file to test the best model on, laid out as train_file' },
    train_folder: { type: 'string', nullable: true, default: null, description: 'from_folders: a folder of class sub-folders of .txt files to train on' },
    val_folder: { type: 'string', nullable: true, default: null, description: 'from_folders: class sub-folders of .txt files to validate on' },
    test_folder: { type: 'string', nullable: true, default: null, description: 'from_folders: class sub-folders of .txt files to test on' },
    input_field: { type: 'string', default: 'text', description: 'the column (CSV) or field (JSON) holding the text' },
    target_fields: {
      type: 'string[]', default: ['label'],
      description: "the label column, or several 0/1 columns, one per label (multi-label); a label column with ';' or '|'-separated labels is multi-label too",
    },
    tokenizer: { type: 'string', default: 'words', registry: 'tokenizers', description: 'how text splits into words (see flash list tokenizers)' },
    normalize: { type: 'enum', choices: ['nfkc', 'none'], default: 'nfkc', description: 'Unicode normalisation before tokenizing: nfkc folds full-width letters, ligatures and composed accents' },
    lowercase: { type: 'boolean', default: true, description: 'lower-case the text before tokenizing' },
    max_length: { type: 'integer', default: 512, min: 1, aliases: ['max_length'], description: 'words kept per text; longer texts are cut (the run says how many)' },
    subword_min: { type: 'integer', default: 3, min: 0, description: 'shortest character n-gram of a word (fastText minn); 0 = no subwords' },
    subword_max: { type: 'integer', default: 5, min: 0, description: 'longest character n-gram of a word (fastText maxn); 0 = no subwords' },
    subword_buckets: { type: 'integer', default: 8192, min: 0, description: 'hash buckets of the subwords; 0 = no subwords' },
    bigram_buckets: { type: 'integer', default: 8192, min: 0, description: 'hash buckets of word bigrams; 0 = no bigrams' },
    most_common: { type: 'integer', default: 20000, min: 1, description: 'the vocabulary keeps at most this many words, the most frequent in the training split' },
    min_count: { type: 'integer', default: 1, min: 1, description: 'the vocabulary keeps only words seen at least this often in the training split (others are <unk>)' },
    ...CLASSIFICATION_DATA_KEYS,
  },
};

/**
 * The task's defaults for core keys. fastText trains its bag from scratch with a large step: adam at 0.01 here.
 * The monitor is val_loss, not val_accuracy: a bag model often reaches its best val accuracy in the first epoch or
 * two while its probabilities still sharpen, and a tie keeps the first (under-confident) checkpoint.
 */
export const TEXT_DEFAULTS: DeepPartial<TextRecipe> = { trainer: { monitor: 'val_loss' }, model: { learning_rate: 0.01 }, data: { builder: 'from_csv' } };

export const TEXT_SCHEMA = mergeSchemas(CORE_SCHEMA, TEXT_KEYS, 'text_classification', TEXT_DEFAULTS as DeepPartial<Recipe>);

/** True when the recipe names no data at all (the demo corpus is used then). */
export function recipeHasNoData(d: TextDataRecipe): boolean {
  return d.train_file === null && d.train_folder === null;
}

/** Cross-key rules of text_classification's keys; every problem at once. */
export function checkTextRecipe(recipe: TextRecipe, { at }: RecipeCheckContext): string[] {
  const d = recipe.data;
  const problems: string[] = [];
  if (d.subword_min > d.subword_max) problems.push(`${at('data.subword_min')}: subword_min ${d.subword_min} is larger than subword_max ${d.subword_max}`);
  if (d.builder === 'from_folders' && d.train_file !== null) problems.push(`${at('data.train_file')}: from_folders reads train_folder, not train_file`);
  if (d.builder !== 'from_folders' && d.train_folder !== null) problems.push(`${at('data.train_folder')}: train_folder goes with the from_folders builder (got ${d.builder})`);
  if (d.target_fields.length === 0) problems.push(`${at('data.target_fields')}: give the label column, or one 0/1 column per label`);
  return problems;
}
