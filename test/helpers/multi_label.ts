/**
 * A synthetic multi-label image set: each image shows 0–2 of three coloured shapes (red circle, green square,
 * blue triangle) at distinct positions, and its labels are the shapes it shows. Written as PNGs plus two CSVs
 * describing the same labels: one 0/1 column per label, and one ';'-separated label column.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mulberry32 as rng } from '../../src/core/random.js';

export const ML_LABELS = ['circle', 'square', 'triangle'] as const;
export type MlLabel = (typeof ML_LABELS)[number];

const COLOURS: Record<MlLabel, string> = { circle: 'rgb(220,30,30)', square: 'rgb(30,190,30)', triangle: 'rgb(30,30,220)' };

/** SVG body of one shape centred at (cx, cy) with half-size r. */
function shapeSvg(label: MlLabel, cx: number, cy: number, r: number): string {
  if (label === 'circle') return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${COLOURS.circle}"/>`;
  if (label === 'square') return `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${COLOURS.square}"/>`;
  return `<polygon points="${cx},${cy - r} ${cx + r},${cy + r} ${cx - r},${cy + r}" fill="${COLOURS.triangle}"/>`;
}

/** One PNG showing `labels` (at most 2) on a light background. */
export async function drawMultiLabel(labels: readonly MlLabel[], size = 16, jitter = 0): Promise<Buffer> {
  const slots = [
    [0.28, 0.3],
    [0.72, 0.7],
  ];
  const r = size * 0.2;
  const body = labels.map((l, i) => shapeSvg(l, (slots[i][0] + jitter) * size, (slots[i][1] - jitter) * size, r)).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="rgb(240,240,240)"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).flatten({ background: '#f0f0f0' }).png().toBuffer();
}

export interface MultiLabelSet {
  dir: string;
  /** `image,circle,square,triangle` with 0/1 cells. */
  columnsCsv: string;
  /** `image,tags` with ';'-separated labels (empty when none). */
  tagsCsv: string;
  rows: { file: string; labels: MlLabel[] }[];
}

/** Writes `n` images into `dir/<name>/` with 0–2 labels each (every label set appears), and the two CSVs. */
export async function writeMultiLabelSet(dir: string, name: string, n: number, seed = 1, size = 16): Promise<MultiLabelSet> {
  const rand = rng(seed);
  const sets: MlLabel[][] = [[], ['circle'], ['square'], ['triangle'], ['circle', 'square'], ['circle', 'triangle'], ['square', 'triangle']];
  await fs.mkdir(path.join(dir, name), { recursive: true });
  const rows: MultiLabelSet['rows'] = [];
  for (let i = 0; i < n; i++) {
    const set = [...sets[i % sets.length]];
    if (set.length === 2 && rand() < 0.5) set.reverse();
    const file = `${name}/img${String(i).padStart(3, '0')}.png`;
    await fs.writeFile(path.join(dir, file), await drawMultiLabel(set, size, (rand() - 0.5) * 0.08));
    rows.push({ file, labels: set });
  }
  const columnsCsv = path.join(dir, `${name}_columns.csv`);
  await fs.writeFile(columnsCsv, `image,${ML_LABELS.join(',')}\n${rows.map((r) => `${r.file},${ML_LABELS.map((l) => (r.labels.includes(l) ? 1 : 0)).join(',')}`).join('\n')}\n`);
  const tagsCsv = path.join(dir, `${name}_tags.csv`);
  await fs.writeFile(tagsCsv, `image,tags\n${rows.map((r) => `${r.file},${r.labels.join(';')}`).join('\n')}\n`);
  return { dir, columnsCsv, tagsCsv, rows };
}
