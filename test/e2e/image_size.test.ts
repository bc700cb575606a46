/**
 * End-to-end: `--image_size` 1, 2 and 3 with simple_cnn used to crash inside the wasm engine ("memory access out
 * of bounds", "a bug in flash"); now each is one error line giving the smallest size simple_cnn takes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeShapeDataset, makeTempDir, removeDir } from '../helpers/images.js';
import { runFlash } from '../helpers/flash_bin.js';

let dir: string;
before(async () => {
  dir = await makeTempDir('flash-e2e-size-');
  await makeShapeDataset(join(dir, 'shapes'), { perClass: 4, seed: 2, formats: ['png'], minSize: 12, maxSize: 16 });
});
after(() => removeDir(dir));

test('--image_size below what the backbone takes is refused with the smallest size; that size trains', async () => {
  for (const size of ['1', '2', '3']) {
    const r = await runFlash(['image_classification', '--from_folders', 'shapes', '--max_epochs', '1', '--image_size', size, '--output_dir', `r${size}`], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /out of bounds|bug in flash|^\s+at /m, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    assert.deepEqual(errors.length, 1, r.stderr);
    assert.match(errors[0], new RegExp(`backbone 'simple_cnn' cannot take ${size}×${size} images .*the smallest size it accepts is 4×4`));
  }
  const ok = await runFlash(['image_classification', '--from_folders', 'shapes', '--max_epochs', '1', '--image_size', '4', '--output_dir', 'r4'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
});
