/**
 * Regenerates the bundled demo dataset, data/demo/fashion_mnist/{train,test}/<class>/*.png, from the
 * Fashion-MNIST IDX files (Debian's dataset-fashion-mnist, or $FASHION_MNIST_DIR). Deterministic: the first
 * TRAIN_PER_CLASS images of each class of the official training split, and the first TEST_PER_CLASS of each
 * class of the official test split, in file order. The old folders are removed first.
 *
 *   npx tsx scripts/make_demo_data.ts [outRoot]        # default data/demo/fashion_mnist
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  fashionMnistAvailable,
  writeFashionMnistFolders,
} from '../bench/fashion_mnist_folders.js';

export const TRAIN_PER_CLASS = 50;
export const TEST_PER_CLASS = 20;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = path.resolve(process.argv[2] ?? path.join(repoRoot, 'data', 'demo', 'fashion_mnist'));

if (!fashionMnistAvailable()) {
  console.error(
    `Fashion-MNIST IDX files not found in ${FASHION_MNIST_DIR}; install Debian's dataset-fashion-mnist ` +
      'or set FASHION_MNIST_DIR to a folder with the four *-idx?-ubyte(.gz) files.',
  );
  process.exit(1);
}

for (const [split, perClass] of [
  ['train', TRAIN_PER_CLASS],
  ['test', TEST_PER_CLASS],
] as const) {
  const outDir = path.join(outRoot, split);
  await rm(outDir, { recursive: true, force: true });
  const { counts, files } = await writeFashionMnistFolders({ outDir, perClass, split });
  console.log(`${split}: ${files.length} images in ${FASHION_MNIST_CLASSES.length} classes (${counts.join(', ')}) → ${outDir}`);
}
