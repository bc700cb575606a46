/**
 * End-to-end through the real binary: what a user's run folder and Ctrl-C do. Ctrl-C lands within a batch or two
 * even with the memory cache (whose batches never wait on I/O); an output folder inside the data is refused before
 * anything is written; a start that fails leaves no folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeShapeDataset, makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';

let dir: string;

before(async () => {
  dir = await makeTempDir('flash-e2e-runs-');
  await makeShapeDataset(join(dir, 'shapes'), { perClass: 60, seed: 9, formats: ['png'] });
});
after(async () => removeDir(dir));

test('Ctrl-C mid-epoch with the memory cache stops within a batch or two, not at the end of the epoch', async () => {
  // The bundled demo set (no data given) with the memory cache: its batches never wait on I/O, so without a turn
  // of the event loop between batches the signal would only land at the end of the epoch.
  const seen: number[] = [];
  let killedAt = 0;
  let epoch = 0;
  const r = await runFlash(['image_classification', '--data.cache', 'memory', '--max_epochs', '30', '--output_dir', 'ctrlc'], {
    cwd: dir,
    onStdout: (chunk, child) => {
      for (const _ of chunk.matchAll(/^epoch \d+\/30/gm)) seen.push(Date.now());
      // Epoch 2's line: epoch 3 starts; epoch 2 took seen[1] - seen[0]. Ctrl-C a little way into epoch 3.
      if (seen.length === 2 && !killedAt) {
        epoch = seen[1] - seen[0];
        killedAt = -1;
        setTimeout(() => {
          killedAt = Date.now();
          child.kill('SIGINT');
        }, Math.round(epoch * 0.2));
      }
    },
  });
  const stoppedAfter = Date.now() - killedAt;
  assert.equal(r.code, 130, r.stderr + r.stdout);
  assert.match(r.stderr, /interrupted after 2 completed epoch\(s\); resume with: (npx )?flash image_classification --resume ctrlc/);
  // Stopping at the end of the epoch would take the remaining ~80% of it (and its validation).
  assert.ok(stoppedAfter < epoch * 0.5, `stopped ${stoppedAfter} ms after Ctrl-C; an epoch took ${epoch} ms`);
  const meta = JSON.parse(await readFile(join(dir, 'ctrlc', 'flash.json'), 'utf8'));
  assert.equal(meta.status, 'interrupted');
  assert.equal(JSON.parse(await readFile(join(dir, 'ctrlc', 'last', 'state.json'), 'utf8')).epoch, 2);
});

test('an --output_dir inside the data folder is refused before anything is written', async () => {
  const before = readdirSync(join(dir, 'shapes')).sort();
  const r = await runFlash(['image_classification', '--from_folders', 'shapes', '--output_dir', 'shapes/run', '--max_epochs', '1'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: output folder 'shapes\/run' is inside the data folder '.*shapes': the run would be read as data/m);
  assert.deepEqual(readdirSync(join(dir, 'shapes')).sort(), before);
});

test('a start that fails (missing data folder) leaves no run folder', async () => {
  const r = await runFlash(['image_classification', '--from_folders', 'nope', '--max_epochs', '1'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.ok(!existsSync(join(dir, 'runs')) || readdirSync(join(dir, 'runs')).length === 0, `left: ${existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).join(', ') : ''}`);
});

test('flash lr_find image_classification (the demo set): a curve and a suggestion, through the binary', async () => {
  const r = await runFlash(['lr_find', 'image_classification', '--output_dir', 'lrf'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^lr_find: suggested learning rate \d\.\de[+-]\d+ \(between the steepest descent of the loss, at /m);
  assert.ok(existsSync(join(dir, 'lrf', 'lr_find.png')));
  assert.ok((await readFile(join(dir, 'lrf', 'lr_find.csv'), 'utf8')).split('\n').length > 50);
});
