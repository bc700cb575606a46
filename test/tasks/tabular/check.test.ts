/** `flash tabular_classification --check`: the table linted, nothing trained. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/index.js';
import { Registry } from '../../../src/core/registry.js';
import { depsFor } from '../../../src/main.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import { tabularClassification } from '../../../tasks/tabular_classification/index.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

let dir: string;
before(async () => {
  dir = await makeTempDir('flash-tabular-check-');
  // 'code' gives the class away; rows 1 and 2 are duplicates; the test file repeats a train row; 'a' is 4.5x 'b'.
  const rows = Array.from({ length: 22 }, (_, i) => `${i === 2 ? 1 : i},${i % 11 === 0 ? 'B' : 'A'},${i % 11 === 0 ? 'b' : 'a'}`);
  await writeFile(join(dir, 'train.csv'), ['x,code,cls', ...rows].join('\n') + '\n');
  await writeFile(join(dir, 'test.csv'), ['x,code,cls', rows[5], '100,A,a'].join('\n') + '\n');
});
after(async () => removeDir(dir));

test('--check reports columns, leakage, imbalance, duplicates and train/test overlap, and trains nothing', async () => {
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: dir, env: {} };
  const registry = new Registry<TaskPlugin>('task').register(tabularClassification.name, tabularClassification);
  const code = await runCli(['tabular_classification', '--check', 'from_csv', '--train_file', 'train.csv', '--test_file', 'test.csv', '--target_fields', 'cls', '--trainer.output_dir', 'run'], depsFor(registry, io));
  const text = out.join('');
  assert.equal(code, 0, text);
  assert.match(text, /^train\.csv: 22 rows, 3 columns; target 'cls'$/m);
  assert.match(text, /^code\s+categorical\s+0\.0%\s+2$/m);
  assert.match(text, /possible leakage: code \(each value always comes with one 'cls' class\)/);
  assert.match(text, /imbalanced target: 'a' has 10\.0x the rows of 'b'/);
  assert.match(text, /1 duplicate rows in train\.csv/);
  assert.match(text, /1 rows of test\.csv are also in train\.csv/);
  assert.equal(existsSync(join(dir, 'run')), false);
});
