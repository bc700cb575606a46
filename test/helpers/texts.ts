/** Small labelled text corpora written by the tests: three topics with their own words over shared filler. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { mulberry32 } from '../../src/core/random.js';

export const TOPICS: Record<string, string[]> = {
  sport: ['football', 'goal', 'match', 'team', 'coach', 'league', 'score', 'player', 'referee', 'stadium'],
  food: ['recipe', 'bake', 'oven', 'flour', 'sauce', 'dinner', 'spicy', 'garlic', 'soup', 'dessert'],
  tech: ['laptop', 'software', 'update', 'server', 'keyboard', 'battery', 'app', 'screen', 'code', 'wifi'],
};
const FILLER = ['the', 'a', 'was', 'really', 'today', 'my', 'and', 'very', 'new', 'this', 'is', 'of', 'good', 'bad', 'about'];

/** `n` texts per topic: 3 topic words among 4 filler words, shuffled. Seeded. */
export function topicTexts(perClass: number, seed: number): { text: string; label: string }[] {
  const rand = mulberry32(seed);
  const pick = (a: string[]) => a[Math.floor(rand() * a.length)];
  const rows: { text: string; label: string }[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const [label, words] of Object.entries(TOPICS)) {
      const ws = [pick(words), pick(words), pick(words), pick(FILLER), pick(FILLER), pick(FILLER), pick(FILLER)];
      for (let j = ws.length - 1; j > 0; j--) {
        const k = Math.floor(rand() * (j + 1));
        [ws[j], ws[k]] = [ws[k], ws[j]];
      }
      rows.push({ text: ws.join(' '), label });
    }
  }
  return rows;
}

/** Writes a CSV of rows with the given columns. */
export async function writeCsv(file: string, rows: Record<string, unknown>[], columns = ['text', 'label']): Promise<void> {
  await writeFile(file, stringify(rows, { header: true, columns }));
}

/** Writes train/val/test CSVs of the topic corpus under `dir`. */
export async function writeTopicCsvs(dir: string, perClass = 20): Promise<void> {
  await writeCsv(join(dir, 'train.csv'), topicTexts(perClass, 1));
  await writeCsv(join(dir, 'val.csv'), topicTexts(Math.max(4, perClass / 4), 2));
  await writeCsv(join(dir, 'test.csv'), topicTexts(Math.max(4, perClass / 4), 3));
}

/** Writes `<dir>/<topic>/<i>.txt` class folders of the topic corpus. */
export async function writeTopicFolders(dir: string, perClass: number, seed: number): Promise<void> {
  for (const [i, r] of topicTexts(perClass, seed).entries()) {
    await mkdir(join(dir, r.label), { recursive: true });
    await writeFile(join(dir, r.label, `${i}.txt`), r.text);
  }
}
