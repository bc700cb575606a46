/** text_classification passes the conformance suite every task passes (test/helpers/conformance.ts). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imageClassification } from '../../../tasks/image_classification/index.js';
import { textClassification } from '../../../tasks/text_classification/index.js';
import { inputTensor, type TextInput } from '../../../tasks/text_classification/input.js';
import { encode, parseTokenizer } from '../../../tasks/text_classification/tokenizer.js';
import { conformance } from '../../helpers/conformance.js';
import { topicTexts, writeCsv, writeTopicCsvs } from '../../helpers/texts.js';

const probes = topicTexts(2, 9).map((r) => r.text);

conformance(
  textClassification,
  {
    async prepare(dir) {
      await writeTopicCsvs(dir, 20);
      await writeCsv(join(dir, 'probe.csv'), probes.map((text) => ({ text })), ['text']);
      return ['--data.batch_size', '8', '--data.subword_buckets', '512', '--data.bigram_buckets', '512', '--model.embedding_dim', '16', 'from_csv', '--train_file', 'train.csv', '--val_file', 'val.csv', '--test_file', 'test.csv'];
    },
    epochs: 4,
    learns: { metric: 'val_accuracy', min: 0.85 },
    predictArgv: (_dir, output) => ['--csv', 'probe.csv', '--output', output],
    readProbabilities: async (output) => (JSON.parse(await readFile(output, 'utf8')) as { probs: Record<string, number> }[]).map((p) => Object.values(p.probs)),
    async modelInputs(_dir, runDir) {
      // The tokenizer file of the run (plain JSON) and the pure tokenizer module: what a browser page would use.
      const state = parseTokenizer(JSON.parse(await readFile(join(runDir, 'tokenizer.json'), 'utf8')));
      const { input } = JSON.parse(await readFile(join(runDir, 'flash.json'), 'utf8')) as { input: TextInput };
      return inputTensor(input, state, probes.map((t) => encode(state, t)));
    },
  },
  [imageClassification],
);
