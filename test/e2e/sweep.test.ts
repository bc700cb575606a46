/** `flash sweep` through the real binary: each trial a `flash --config` child process, two at a time. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { makeShapeDataset, makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';

let dir: string;
before(async () => {
  dir = await makeTempDir('flash-e2e-sweep-');
  await makeShapeDataset(join(dir, 'shapes'), { perClass: 10, seed: 4, formats: ['png'] });
  const recipe = {
    task: 'image_classification',
    trainer: { max_epochs: 1 },
    data: { builder: 'from_folders', folder: 'shapes', image_size: 16, batch_size: 8 },
    sweep: { metric: 'val_accuracy', method: 'grid', parameters: { 'model.learning_rate': { values: [0.001, 0.01] } } },
  };
  await writeFile(join(dir, 'sweep.yaml'), toYaml(recipe));
});
after(async () => removeDir(dir));

test('a 2-trial grid over 2 workers: a run folder per trial, results.csv/jsonl, the best recipe', async () => {
  const r = await runFlash(['sweep', '--config', 'sweep.yaml', '--workers', '2', '--output_dir', 'sw'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^sweep: 2 trials \(grid\), 2 worker\(s\), judged by val_accuracy \(max\)/m);
  const lines = (await readFile(join(dir, 'sw', 'results.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.params['model.learning_rate']).sort(), [0.001, 0.01]);
  assert.ok(lines.every((l) => l.status === 'completed'), JSON.stringify(lines));
  for (const t of ['trial-001', 'trial-002']) {
    const meta = JSON.parse(await readFile(join(dir, 'sw', t, 'flash.json'), 'utf8'));
    assert.equal(meta.status, 'completed');
  }
  assert.ok(existsSync(join(dir, 'sw', 'best_recipe.yaml')));
  assert.match(r.stdout, /^best: trial \d/m);
});
