/** The recipe keys the two tabular tasks share, and each one's target key. */
import type { SchemaFor } from '../../src/core/config/index.js';
import { CLASSIFICATION_DATA_KEYS } from '../classification/schema.js';

export interface TabularModelRecipe {
  backbone: string;
  hidden_units: number[];
  dropout: number;
  batch_norm: boolean;
}

export interface TabularCommonDataRecipe {
  train_file: string | null;
  val_file: string | null;
  test_file: string | null;
  categorical_fields: string[] | null;
  numerical_fields: string[] | null;
  min_category_count: number;
  categorical_encoding: 'embedding' | 'onehot';
}

export interface TabularClassificationDataRecipe extends TabularCommonDataRecipe {
  target_fields: string[] | null;
  class_weights: 'auto' | 'none';
}

export interface TabularRegressionDataRecipe extends TabularCommonDataRecipe {
  target_field: string | null;
}

export const TABULAR_MODEL_KEYS: SchemaFor<TabularModelRecipe> = {
  backbone: { type: 'string', default: 'mlp', registry: 'tabular_backbones', aliases: ['backbone'], description: 'the network over the preprocessed features: mlp (default), resmlp (residual blocks) or linear' },
  hidden_units: { type: 'number[]', default: [128, 64], min: 1, description: "mlp: units of each hidden dense layer (numbers separated by spaces or commas)" },
  // 0.3, not 0.1: bench/tabular (6 tables, 3 seeds, 2026-12-04) better on 3, even on 2, worse on 1 (diabetes RMSE 60.1 → 56.2).
  dropout: { type: 'number', default: 0.3, min: 0, below: 1, aliases: ['dropout'], description: 'mlp: dropout after each hidden layer' },
  batch_norm: { type: 'boolean', default: true, description: 'mlp: batch normalisation after each hidden dense layer' },
};

export const TABULAR_DATA_KEYS: SchemaFor<TabularCommonDataRecipe> = {
  train_file: { type: 'string', nullable: true, default: null, description: 'CSV to train on (one row per sample, a header row); null = the bundled Palmer penguins demo' },
  val_file: { type: 'string', nullable: true, default: null, description: 'CSV to validate on (same columns); null = hold out data.val_split of the train rows' },
  test_file: { type: 'string', nullable: true, default: null, description: 'CSV to test the best model on (same columns)' },
  categorical_fields: { type: 'string[]', nullable: true, default: null, description: 'columns holding categories; null (with numerical_fields null too) = inferred from the train CSV' },
  numerical_fields: { type: 'string[]', nullable: true, default: null, description: 'columns holding numbers; null (with categorical_fields null too) = inferred from the train CSV' },
  min_category_count: { type: 'integer', default: 2, min: 1, description: 'categories seen in fewer train rows fold into <unknown>' },
  categorical_encoding: {
    type: 'enum', choices: ['embedding', 'onehot'], default: 'embedding',
    description: 'how categories reach the model: embedding = one code per column into an Embedding layer (width min(100, round(1.6·n^0.56)) for n codes); onehot = a one-hot block per column into the first dense layer',
  },
};

export const TARGET_FIELDS_KEY: SchemaFor<{ target_fields: string[] | null }> = {
  target_fields: { type: 'string[]', nullable: true, default: null, description: "the label column (one; Flash's name); null with no train_file = the demo's species" },
};

export const TARGET_FIELD_KEY: SchemaFor<{ target_field: string | null }> = {
  target_field: { type: 'string', nullable: true, default: null, description: "the numeric column to predict; null with no train_file = the demo's body_mass_g" },
};

export const { class_weights: CLASS_WEIGHTS_KEY } = CLASSIFICATION_DATA_KEYS;

/** A builder's options (Flash's `from_csv`). */
export function fromCsvOptions(target: 'target_fields' | 'target_field'): string[] {
  return ['train_file', 'val_file', 'test_file', 'categorical_fields', 'numerical_fields', target, 'val_split', 'min_category_count', 'categorical_encoding', 'batch_size'];
}
