import type { SchemaFor } from '../../src/core/config/index.js';
import { DEFAULT_THRESHOLD } from '../../src/core/metrics/types.js';

/** Default probability from which a multi-label model predicts a label (the metrics' own default). */
export { DEFAULT_THRESHOLD };

/** The model keys every `*_classification` task shares. */
export interface ClassificationModelRecipe {
  /** auto = from the data (several target columns or delimited labels); 'true'/'false' force it. */
  multi_label: 'auto' | 'true' | 'false';
  /** Multi-label: probability from which a label counts as predicted (metrics; predict/serve default). */
  threshold: number;
}

/** The data keys every `*_classification` task shares. */
export interface ClassificationDataRecipe {
  class_weights: 'auto' | 'none';
}


export const CLASSIFICATION_MODEL_KEYS: SchemaFor<ClassificationModelRecipe> = {
  multi_label: {
    type: 'enum', choices: ['auto', 'true', 'false'], default: 'auto', boolAsString: true, aliases: ['multi_label'],
    description:
      "several labels per sample (sigmoid head, binary cross-entropy, per-label F1): auto = when the data has several target columns or ';' ',' '|'-separated labels; true also splits one label column on spaces; false refuses multi-label data",
  },
  threshold: {
    type: 'number', default: DEFAULT_THRESHOLD, above: 0, below: 1, aliases: ['threshold'],
    description: 'multi-label: a label is predicted when its probability is at least this (metrics; the default of predict and serve)',
  },
};

export const CLASSIFICATION_DATA_KEYS: SchemaFor<ClassificationDataRecipe> = {
  class_weights: {
    type: 'enum', choices: ['auto', 'none'], default: 'auto',
    description: 'auto: weight the loss by inverse class frequency (mean 1) when the largest train class has more than 3x the samples of the smallest; none: never',
  },
};
