import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../../src/core/errors.js';
import {
  augmentations,
  augmentSample,
  DEFAULT_AUGMENTATIONS,
  resolveAugmentations,
} from '../../../../tasks/image_classification/data/augment.js';
import { splitFromPixels } from '../../../../tasks/image_classification/data/data_split.js';
import { Random } from '../../../../tasks/image_classification/data/random.js';
import type { ImageSpec } from '../../../../tasks/image_classification/data/decode.js';

before(async () => {
  await tf.setBackend('cpu');
});

const spec: ImageSpec = { height: 12, width: 10, channels: 3 };
const per = spec.height * spec.width * spec.channels;

/** An asymmetric gradient image, so every op changes it. */
function image(seed = 1): Uint8Array {
  const px = new Uint8Array(per);
  for (let y = 0; y < spec.height; y++) {
    for (let x = 0; x < spec.width; x++) {
      for (let k = 0; k < 3; k++) px[(y * spec.width + x) * 3 + k] = (x * 23 + y * y * 2 + k * 40 + seed * 7) % 256;
    }
  }
  return px;
}

const differs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).some((v, i) => Math.abs(v - b[i]) > 1e-3);

test('default augmentations are Flash\'s: horizontal flip only', () => {
  assert.deepEqual([...DEFAULT_AUGMENTATIONS], ['hflip']);
  assert.deepEqual(augmentations.names(), ['hflip', 'random_resized_crop', 'rotate', 'color_jitter']);
});

for (const name of ['hflip', 'random_resized_crop', 'rotate', 'color_jitter']) {
  test(`${name}: keeps shape and 0–255 range, deterministic by seed, changes the image`, () => {
    const src = image();
    const before = src.slice();
    let changed = 0;
    for (let seed = 0; seed < 8; seed++) {
      const a = augmentSample(src, spec, [name], new Random(seed));
      const b = augmentSample(src, spec, [name], new Random(seed));
      assert.equal(a.length, per);
      assert.ok(a instanceof Float32Array);
      for (const v of a) assert.ok(Number.isFinite(v) && v >= 0 && v <= 255, `${name}: value ${v} out of range`);
      assert.deepEqual(a, b, `${name}: same seed, same output`);
      if (differs(a, src)) changed++;
    }
    assert.deepEqual(src, before, 'the input is not modified');
    // hflip flips with p=0.5; the others change the image every time.
    assert.ok(name === 'hflip' ? changed >= 2 && changed <= 7 : changed === 8, `${name} changed ${changed}/8`);
    // Different seeds give different outputs (for the continuous ops).
    if (name !== 'hflip') assert.ok(differs(augmentSample(src, spec, [name], new Random(1)), augmentSample(src, spec, [name], new Random(2))));
  });
}

test('all four chained keep the shape and range', () => {
  const out = augmentSample(image(), spec, ['hflip', 'random_resized_crop', 'rotate', 'color_jitter'], new Random(3));
  assert.equal(out.length, per);
  for (const v of out) assert.ok(v >= 0 && v <= 255);
});

test('unknown augmentation names get a did-you-mean error', () => {
  assert.throws(() => resolveAugmentations(['rotat']), (e: unknown) => e instanceof FlashUserError && /did you mean 'rotate'/i.test(e.message) && /available: hflip/.test(e.message));
  assert.throws(
    () => splitFromPixels(spec, [{ id: 'a', pixels: image(), label: 0 }], { augment: true, augmentations: ['colour_jitter'] }),
    (e: unknown) => e instanceof FlashUserError && /color_jitter/.test(e.message),
  );
  assert.deepEqual(resolveAugmentations(['hflip', 'rotate', 'hflip']), ['hflip', 'rotate']);
});

async function firstBatch(split: ReturnType<typeof splitFromPixels>, opts: Parameters<typeof split.batches>[0] = {}): Promise<Float32Array> {
  for await (const b of split.batches(opts)) {
    const data = b.x.dataSync() as Float32Array;
    const copy = Float32Array.from(data);
    b.x.dispose();
    b.y.dispose();
    return copy;
  }
  throw new Error('no batch');
}

test('split batches: augment false leaves pixels untouched; augmentations apply only when augment is on; seeded', async () => {
  const items = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, pixels: image(i), label: i % 2 }));
  const raw = Float32Array.from(items.flatMap((it) => Array.from(it.pixels)));
  const all = ['hflip', 'random_resized_crop', 'rotate', 'color_jitter'];
  const off = splitFromPixels(spec, items, { augment: false, augmentations: all, batchSize: 6 });
  const start = tf.memory().numTensors;
  assert.deepEqual(await firstBatch(off), raw);
  // Eval-style call: augment false overrides the split's default.
  const on = splitFromPixels(spec, items, { augment: true, augmentations: all, batchSize: 6, seed: 5 });
  assert.deepEqual(await firstBatch(on, { augment: false }), raw);
  const a = await firstBatch(on, { epoch: 0 });
  const b = await firstBatch(on, { epoch: 0 });
  const c = await firstBatch(on, { epoch: 1 });
  assert.deepEqual(a, b, 'same (seed, epoch) → same augmentation');
  assert.ok(differs(a, raw));
  assert.ok(differs(a, c), 'another epoch → another augmentation');
  for (const v of a) assert.ok(v >= 0 && v <= 255);
  assert.equal(tf.memory().numTensors, start, 'no tensors leak');
});
