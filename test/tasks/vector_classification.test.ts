/** The test-only toy task passes the same conformance suite as image_classification (test/helpers/conformance.ts). */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'csv-parse/sync';
import { mulberry32 } from '../../src/core/random.js';
import { imageClassification } from '../../tasks/image_classification/index.js';
import { conformance } from '../helpers/conformance.js';
import { vectorClassification } from '../helpers/toy_task/index.js';

const FEATURES = ['a', 'b', 'c', 'd'];

/** Two blobs in 4-D, one per class, with noise: an MLP separates them in a few epochs. */
async function writeBlobs(file: string, perClass: number, seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const rows = [FEATURES.join(',') + ',label'];
  for (let i = 0; i < perClass; i++) {
    for (const [label, centre] of [['north', 1], ['south', -1]] as const) {
      rows.push([...FEATURES.map(() => (centre + (rand() - 0.5) * 1.6).toFixed(4)), label].join(','));
    }
  }
  await writeFile(file, rows.join('\n') + '\n');
}

conformance(
  vectorClassification,
  {
    async prepare(dir) {
      await writeBlobs(join(dir, 'train.csv'), 40, 1);
      await writeBlobs(join(dir, 'val.csv'), 12, 2);
      await writeBlobs(join(dir, 'test.csv'), 12, 3);
      return ['--model.learning_rate', '0.01', 'from_csv', '--train_file', 'train.csv', '--val_file', 'val.csv', '--test_file', 'test.csv', '--feature_fields', ...FEATURES, '--target_field', 'label'];
    },
    epochs: 6,
    learns: { metric: 'val_accuracy', min: 0.9 },
    predictArgv: (_dir, output) => ['--csv', 'test.csv', '--output', output],
    readProbabilities: async (output) => (JSON.parse(await readFile(output, 'utf8')) as { probs: number[] }[]).map((p) => p.probs),
    async modelInputs(dir) {
      const rows = parse(await readFile(join(dir, 'test.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      return tf.tensor2d(rows.map((r) => FEATURES.map((f) => Number(r[f]))));
    },
  },
  [imageClassification],
);
