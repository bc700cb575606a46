/** image_classification passes the conformance suite every task passes (test/helpers/conformance.ts). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { imageClassification } from '../../../tasks/image_classification/index.js';
import { conformance } from '../../helpers/conformance.js';
import { drawShape, makeShapeDataset, SHAPE_CLASSES } from '../../helpers/images.js';
import { vectorClassification } from '../../helpers/toy_task/index.js';

const SIZE = 16;
/** Probes drawn exactly at the model's input size as RGB PNGs: no resize, so plain tfjs reads the pixels flash reads. */
const probes = SHAPE_CLASSES.map((c, i) => ({ name: `probe_${i}.png`, shape: c.shape }));

conformance(
  imageClassification,
  {
    async prepare(dir) {
      await makeShapeDataset(join(dir, 'shapes'), { perClass: 16, layout: 'split', valFraction: 0.25, testFraction: 0.2, seed: 5, formats: ['png', 'jpg'] });
      await mkdir(join(dir, 'probe'), { recursive: true });
      for (const p of probes) await writeFile(join(dir, 'probe', p.name), await drawShape({ shape: p.shape, width: SIZE, height: SIZE, format: 'png', mode: 'rgb', size: 0.6 }));
      return ['--data.image_size', String(SIZE), '--data.batch_size', '8', '--model.learning_rate', '0.003', 'from_folders', '--train_folder', 'shapes/train', '--val_folder', 'shapes/val', '--test_folder', 'shapes/test'];
    },
    epochs: 6,
    learns: { metric: 'val_accuracy', min: 0.6 },
    predictArgv: (dir, output) => ['--files', ...probes.map((p) => join(dir, 'probe', p.name)), '--output', output],
    readProbabilities: async (output) => (JSON.parse(await readFile(output, 'utf8')) as { probs: Record<string, number> }[]).map((p) => Object.values(p.probs)),
    async modelInputs(dir) {
      const pixels = await Promise.all(probes.map(async (p) => (await sharp(join(dir, 'probe', p.name)).removeAlpha().raw().toBuffer())));
      return tf.tensor4d(Float32Array.from(Buffer.concat(pixels)), [probes.length, SIZE, SIZE, 3]);
    },
  },
  [vectorClassification],
);
