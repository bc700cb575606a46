import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../trainer/types.js';

/**
 * Writes `metrics.csv` in the run folder: one row per epoch, a column per metric. The file is rewritten
 * atomically each epoch (it is small), so columns that appear later (val metrics) still get a header.
 */
export class CsvLogger implements Logger {
  readonly name = 'csv';
  private rows: Record<string, number>[] = [];
  readonly path: string;

  constructor(dir: string, filename = 'metrics.csv') {
    this.path = join(dir, filename);
  }

  /** Continues an existing file (resume): earlier rows are kept. */
  async restore(): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    if (lines.length < 2) return;
    const header = lines[0].split(',');
    this.rows = lines.slice(1).map((line) => {
      const cells = line.split(',');
      const row: Record<string, number> = {};
      header.forEach((h, i) => {
        if (cells[i] !== undefined && cells[i] !== '') row[h] = Number(cells[i]);
      });
      return row;
    });
  }

  async logMetrics(metrics: Record<string, number>, step: { epoch: number }): Promise<void> {
    this.rows = this.rows.filter((r) => r.epoch < step.epoch);
    this.rows.push({ epoch: step.epoch, ...metrics });
    const columns = ['epoch'];
    for (const row of this.rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
    await writeFileAtomic(this.path, stringify(this.rows, { header: true, columns }));
  }
}
