import type { DataSplit } from '../../tasks/image_classification/data/index.js';

/** Every batch of one shuffled, augmented epoch (batch size 5) as plain arrays; the tensors are disposed. */
export async function allBatches(split: DataSplit, epoch: number): Promise<{ x: number[]; y: number[]; ids: string[] }[]> {
  const out: { x: number[]; y: number[]; ids: string[] }[] = [];
  for await (const b of split.batches({ shuffle: true, epoch, augment: true, batchSize: 5 })) {
    out.push({ x: Array.from(await b.x.data()), y: Array.from(await b.y.data()), ids: b.ids });
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}
