import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../../src/core/errors.js';
import sharp from 'sharp';
import { tensorToPixels } from '../../../../tasks/image_classification/data/tensor_pixels.js';
import { decodeJpegRgba, decodeWebpRgba } from '../../../../tasks/image_classification/data/wasm_codecs.js';
import {
  decodeImage,
  decodeImageSharp,
  decodePng,
  sniff,
  IMAGE_EXTENSIONS,
  ImageDecodeError,
  imageChannels,
  isImageFile,
  type ImageSpec,
} from '../../../../tasks/image_classification/data/decode.js';
import {
  drawShape,
  IMAGE_FORMATS,
  makeTempDir,
  removeDir,
  writeGarbageImage,
  writeTextFile,
  writeTruncatedJpeg,
  type ColourMode,
  type ImageFormat,
} from '../../../helpers/images.js';

let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = await makeTempDir();
});
after(() => removeDir(dir));

const RGB: ImageSpec = { height: 16, width: 20, channels: 3 };
const GRAY: ImageSpec = { height: 16, width: 20, channels: 1 };

/** Pixel at (row, col) of HWC pixels. */
function at(px: Uint8Array, spec: ImageSpec, row: number, col: number): number[] {
  const i = (row * spec.width + col) * spec.channels;
  return Array.from(px.slice(i, i + spec.channels));
}

const canAlpha = (f: ImageFormat) => f === 'png' || f === 'webp' || f === 'gif';

for (const format of IMAGE_FORMATS) {
  for (const mode of ['rgb', 'gray', 'rgba'] as ColourMode[]) {
    if (mode === 'rgba' && !canAlpha(format)) continue;
    test(`decodes ${format} (${mode}) from a file to the right shape and plausible pixels`, async () => {
      // A big red circle on a white-ish background: the centre is red (or its gray level), the corner light.
      const buf = await drawShape({ shape: 'circle', width: 61, height: 43, format, mode, size: 0.8, background: [250, 250, 250] });
      const file = path.join(dir, `circle-${mode}.${format}`);
      await fs.writeFile(file, buf);
      const rgb = await decodeImage(file, RGB);
      assert.ok(rgb instanceof Uint8Array);
      assert.equal(rgb.length, 16 * 20 * 3);
      const [r, g, b] = at(rgb, RGB, 8, 10);
      if (mode === 'gray') {
        assert.ok(Math.abs(r - g) <= 2 && Math.abs(g - b) <= 2, `gray centre ${[r, g, b]}`);
        assert.ok(r > 40 && r < 140, `gray level of red ${r}`);
      } else {
        assert.ok(r > 170 && g < 90 && b < 90, `red centre ${[r, g, b]}`);
      }
      // Corner: the background, or white where the background was transparent (flattened onto white).
      for (const v of at(rgb, RGB, 0, 0)) assert.ok(v > 225, `corner ${at(rgb, RGB, 0, 0)}`);
      const gray = await decodeImage(file, GRAY);
      assert.equal(gray.length, 16 * 20);
      assert.ok(at(gray, GRAY, 0, 0)[0] > 225);
      assert.ok(at(gray, GRAY, 8, 10)[0] < 140);
    });
  }
}

test('decodes from a Buffer; the size is squashed exactly (fit fill), not cropped', async () => {
  // Left half green, right half blue, on a very wide image: squashing keeps both halves.
  const w = 200;
  const h = 20;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [0, 200, 0] : [0, 0, 200], (y * w + x) * 3);
  const png = await (await import('sharp')).default(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  const spec: ImageSpec = { height: 10, width: 10, channels: 3 };
  const px = await decodeImage(png, spec);
  assert.deepEqual(at(px, spec, 5, 1), [0, 200, 0]);
  assert.deepEqual(at(px, spec, 5, 8), [0, 0, 200]);
});

/** A w×h image, left half `left`, right half `right`, as a sharp pipeline. */
async function halves(w: number, h: number, left: number[], right: number[]) {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? left : right, (y * w + x) * 3);
  return (await import('sharp')).default(raw, { raw: { width: w, height: h, channels: 3 } });
}

test('applies EXIF orientation (a phone photo shot in portrait)', async () => {
  // Stored 40×20, green left / blue right, tagged "rotate 90° clockwise": shown, green is on top.
  const jpg = await (await halves(40, 20, [0, 200, 0], [0, 0, 200])).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const spec: ImageSpec = { height: 4, width: 4, channels: 3 };
  const px = await decodeImage(jpg, spec);
  const [r0, g0, b0] = at(px, spec, 0, 1);
  const [r3, g3, b3] = at(px, spec, 3, 2);
  assert.ok(g0 > 150 && b0 < 50 && r0 < 50, `top ${[r0, g0, b0]}`);
  assert.ok(b3 > 150 && g3 < 50 && r3 < 50, `bottom ${[r3, g3, b3]}`);
});

test('16-bit PNG, CMYK JPEG and the first frame of an animated GIF decode to 8-bit RGB', async () => {
  const sharp = (await import('sharp')).default;
  const spec: ImageSpec = { height: 8, width: 8, channels: 3 };
  const p16 = await (await halves(40, 20, [0, 200, 0], [0, 0, 200])).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(p16).metadata()).depth, 'ushort');
  const px16 = await decodeImage(p16, spec);
  assert.equal(px16.length, 8 * 8 * 3);
  const near = (got: number[], want: number[]) => assert.ok(got.every((v, i) => Math.abs(v - want[i]) <= 2), `${got} ≈ ${want}`);
  near(at(px16, spec, 4, 0), [0, 200, 0]);
  near(at(px16, spec, 4, 7), [0, 0, 200]);
  const cmyk = await (await halves(40, 20, [0, 200, 0], [0, 0, 200])).toColourspace('cmyk').jpeg().toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const pxc = await decodeImage(cmyk, spec);
  assert.equal(pxc.length, 8 * 8 * 3);
  const [r, g, b] = at(pxc, spec, 4, 0);
  assert.ok(g > r + 50 && g > b + 50, `greenish ${[r, g, b]}`);
  const red = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const blue = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#0000ff' } }).png().toBuffer();
  const gif = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
  assert.equal((await sharp(gif).metadata()).pages, 2);
  const pxg = await decodeImage(gif, spec);
  assert.equal(pxg.length, 8 * 8 * 3);
  assert.deepEqual(at(pxg, spec, 7, 7), [255, 0, 0]);
});

test('imageChannels reads stored channels from the header', async () => {
  assert.equal(await imageChannels(await drawShape({ shape: 'square', mode: 'gray', format: 'png' })), 1);
  assert.equal(await imageChannels(await drawShape({ shape: 'square', mode: 'gray', format: 'jpg' })), 1);
  assert.equal(await imageChannels(await drawShape({ shape: 'square', mode: 'rgb', format: 'jpg' })), 3);
  assert.equal(await imageChannels(await drawShape({ shape: 'square', mode: 'rgba', format: 'png' })), 4);
  assert.equal(await imageChannels(Buffer.from('nope')), undefined);
});

test('a truncated JPEG, random bytes, a text file and a missing file fail with a one-line error naming the file', async () => {
  const truncated = await writeTruncatedJpeg(path.join(dir, 'bad', 'cut.jpg'));
  const garbage = await writeGarbageImage(path.join(dir, 'bad', 'noise.png'));
  const text = await writeTextFile(path.join(dir, 'bad'), 'readme.jpg');
  const missing = path.join(dir, 'bad', 'missing.png');
  for (const file of [truncated, garbage, text, missing]) {
    await assert.rejects(decodeImage(file, RGB), (err: unknown) => {
      assert.ok(err instanceof ImageDecodeError);
      assert.ok(err instanceof FlashUserError);
      assert.equal(err.file, file);
      assert.ok(err.message.startsWith(`cannot decode image '${file}': `), err.message);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  }
  await assert.rejects(decodeImage(Buffer.from('xx'), RGB, '#3'), /cannot decode image '#3': not a supported image/);
});

test('IMAGE_EXTENSIONS and isImageFile cover what sharp reads', () => {
  for (const ext of ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff']) assert.ok(IMAGE_EXTENSIONS.includes(ext));
  assert.ok(isImageFile('a/B.JPG'));
  assert.ok(isImageFile('x.tiff'));
  assert.ok(!isImageFile('notes.txt'));
  assert.ok(!isImageFile('.DS_Store'));
  assert.ok(!isImageFile('archive.zip'));
});

test('tensorToPixels converts, resizes and flattens without leaking or disposing the input', () => {
  const start = tf.memory().numTensors;
  const rgb = tf.tidy(() => tf.concat([tf.fill([4, 6, 1], 200), tf.fill([4, 6, 1], 100), tf.fill([4, 6, 1], 0)], 2)) as tf.Tensor3D;
  const same = tensorToPixels(rgb, { height: 4, width: 6, channels: 3 });
  assert.deepEqual(Array.from(same.slice(0, 3)), [200, 100, 0]);
  const resized = tensorToPixels(rgb, { height: 8, width: 3, channels: 3 });
  assert.equal(resized.length, 8 * 3 * 3);
  assert.deepEqual(Array.from(resized.slice(-3)), [200, 100, 0]);
  const gray = tensorToPixels(rgb, { height: 4, width: 6, channels: 1 });
  assert.equal(gray.length, 24);
  assert.equal(gray[0], Math.round(0.2126 * 200 + 0.7152 * 100));
  const one = tf.fill([2, 2, 1], 77) as tf.Tensor3D;
  assert.deepEqual(Array.from(tensorToPixels(one, { height: 2, width: 2, channels: 3 }).slice(0, 3)), [77, 77, 77]);
  // Fully transparent RGBA becomes white; opaque keeps its colour.
  const rgba = tf.tensor3d([0, 0, 0, 0, 10, 20, 30, 255], [1, 2, 4]);
  assert.deepEqual(Array.from(tensorToPixels(rgba, { height: 1, width: 2, channels: 3 })), [255, 255, 255, 10, 20, 30]);
  assert.equal(rgb.isDisposed, false);
  assert.throws(() => tensorToPixels(tf.zeros([2, 2]) as unknown as tf.Tensor3D, RGB, '#5'), /image #5 must be a tf.Tensor3D/);
  tf.dispose([rgb, one, rgba]);
  assert.equal(tf.memory().numTensors, start + 1); // the rank-2 zeros above
});

// ---- fast paths (decodePng, sharp without flatten/resize): every output must equal the full sharp pipeline's ----

/** Random-ish pixels (a smooth pattern plus noise, so every PNG filter type occurs). */
function pattern(w: number, h: number, c: number, seed: number): Buffer {
  const out = Buffer.alloc(w * h * c);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((i % (w * c)) * 7 + Math.floor(i / (w * c)) * 3 + (s >>> 28)) & 255;
  }
  return out;
}

async function variants(w: number, h: number): Promise<[string, Buffer][]> {
  const gray = pattern(w, h, 1, 1), rgb = pattern(w, h, 3, 2), rgba = pattern(w, h, 4, 3);
  const neutral = Buffer.alloc(w * h * 3);
  for (let k = 0; k < w * h; k++) neutral.fill(gray[k], 3 * k, 3 * k + 3);
  const opaque = Buffer.from(rgba);
  for (let k = 3; k < opaque.length; k += 4) opaque[k] = 255;
  const raw = (b: Buffer, channels: 1 | 3 | 4) => sharp(b, { raw: { width: w, height: h, channels } });
  const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
  return [
    ['png gray', await raw(gray, 1).toColourspace('b-w').png().toBuffer()],
    ['png gray (no filter, level 0)', await raw(gray, 1).toColourspace('b-w').png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer()],
    ['png rgb', await raw(rgb, 3).png().toBuffer()],
    ['png rgb neutral', await raw(neutral, 3).png().toBuffer()],
    ['png rgba opaque', await raw(opaque, 4).png().toBuffer()],
    ['png rgba', await raw(rgba, 4).png().toBuffer()],
    ['png palette', await raw(rgb, 3).png({ palette: true, colours: 16 }).toBuffer()],
    ['png palette alpha', await raw(rgba, 4).png({ palette: true, colours: 16 }).toBuffer()],
    ['png 16-bit', await raw(rgb, 3).toColourspace('rgb16').png().toBuffer()],
    ['png interlaced', await raw(rgb, 3).png({ progressive: true }).toBuffer()],
    ['jpeg gray', await raw(gray, 1).toColourspace('b-w').jpeg().toBuffer()],
    ['jpeg rgb', await raw(rgb, 3).jpeg().toBuffer()],
    ['jpeg rgb oriented', await raw(rgb, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
    ['jpeg rgb neutral', await raw(neutral, 3).jpeg().toBuffer()],
    ['jpeg rgb 4:4:4', await raw(rgb, 3).jpeg({ chromaSubsampling: '4:4:4', quality: 95 }).toBuffer()],
    ['jpeg progressive', await raw(rgb, 3).jpeg({ progressive: true }).toBuffer()],
    ['jpeg mozjpeg', await raw(rgb, 3).jpeg({ mozjpeg: true }).toBuffer()],
    ['jpeg gray progressive', await raw(gray, 1).toColourspace('b-w').jpeg({ progressive: true, quality: 60 }).toBuffer()],
    ['jpeg icc profile', await raw(rgb, 3).jpeg().withIccProfile('p3').toBuffer()],
    ['jpeg truncated', half(await raw(rgb, 3).jpeg().toBuffer())],
    ['webp lossy neutral', await raw(neutral, 3).webp().toBuffer()],
    ['webp truncated', half(await raw(rgb, 3).webp().toBuffer())],
    ['webp lossy', await raw(rgb, 3).webp().toBuffer()],
    ['webp lossless', await raw(rgb, 3).webp({ lossless: true }).toBuffer()],
    ['webp alpha', await raw(rgba, 4).webp().toBuffer()],
  ];
}

test('decodeImage equals the full sharp pipeline on every fast path and fallback (at and off the target size)', async () => {
  for (const [w, h] of [[20, 16], [7, 5]]) {
    for (const [what, buf] of await variants(w, h)) {
      for (const spec of [GRAY, RGB, { height: h, width: w, channels: 1 } as ImageSpec, { height: h, width: w, channels: 3 } as ImageSpec]) {
        const file = path.join(dir, `fast-${w}.bin`);
        await fs.writeFile(file, buf);
        // Pixels, or the error for a file cut short (the fast paths must fail it as sharp does, never pad it).
        const outcome = (p: Promise<Uint8Array>) => p.then((px) => px, (e: unknown) => (e instanceof ImageDecodeError ? e.reason : `other: ${String(e)}`));
        const want = await outcome(decodeImageSharp(buf, spec));
        assert.equal(typeof want === 'string', what.endsWith('truncated'), `${what}: ${typeof want === 'string' ? want : 'decoded'}`);
        assert.deepEqual(await outcome(decodeImage(buf, spec)), want, `${what} ${w}×${h} as ${spec.width}×${spec.height}×${spec.channels}`);
        assert.deepEqual(await outcome(decodeImage(file, spec)), want, `${what} from a file`);
      }
    }
  }
});

test('decodePng decodes the plain cases itself and leaves the rest to sharp', async () => {
  const got = new Map((await variants(20, 16)).map(([what, buf]) => [what, decodePng(buf) !== undefined]));
  for (const what of ['png gray', 'png gray (no filter, level 0)', 'png rgb', 'png rgb neutral', 'png rgba opaque', 'png palette', 'png palette alpha']) {
    assert.equal(got.get(what), true, what);
  }
  for (const what of ['png 16-bit', 'png interlaced', 'jpeg rgb']) assert.equal(got.get(what), false, what);
  const png = await sharp(pattern(20, 16, 3, 9), { raw: { width: 20, height: 16, channels: 3 } }).png().toBuffer();
  assert.equal(decodePng(png.subarray(0, png.length - 20)), undefined, 'truncated');
  const bad = Buffer.from(png);
  bad[40] ^= 1; // inside IHDR's CRC'd bytes or the first IDAT: a CRC mismatch
  assert.equal(decodePng(bad), undefined, 'bad CRC');
});

test('imageChannels from headers agrees with sharp metadata', async () => {
  for (const [what, buf] of await variants(20, 16)) {
    if (what.endsWith('truncated')) continue;
    const meta = await sharp(buf).metadata();
    const want = meta.space === 'b-w' || meta.space === 'grey16' ? (meta.hasAlpha ? 2 : 1) : meta.channels;
    assert.equal(await imageChannels(buf), want, what);
    assert.equal(sniff(buf)?.width ?? 20, 20, `${what} width`);
  }
});

test('decodeImage reports missing, empty and garbage files as the full pipeline does', async () => {
  const empty = path.join(dir, 'empty.png');
  await fs.writeFile(empty, Buffer.alloc(0));
  const garbage = path.join(dir, 'garbage.png');
  await fs.writeFile(garbage, Buffer.from('\x89PNG\r\n\x1a\n not really a png'));
  for (const file of [path.join(dir, 'missing.png'), empty, garbage]) {
    const err = (p: Promise<unknown>) => p.then(() => 'decoded', (e: unknown) => (e instanceof ImageDecodeError ? e.message : `other: ${String(e)}`));
    assert.equal(await err(decodeImage(file, GRAY)), await err(decodeImageSharp(file, GRAY)), file);
  }
});

test('the wasm JPEG and WebP codecs give sharp\'s RGB pixels on the plain cases (the fast path is the codec, not a fallback)', async () => {
  const plain = ['jpeg gray', 'jpeg rgb', 'jpeg rgb neutral', 'jpeg rgb 4:4:4', 'jpeg progressive', 'jpeg mozjpeg', 'jpeg gray progressive', 'webp lossy', 'webp lossless', 'webp lossy neutral'];
  for (const [w, h] of [[20, 16], [7, 5]]) {
    const all = new Map(await variants(w, h));
    for (const what of plain) {
      const buf = all.get(what)!;
      const img = await (what.startsWith('jpeg') ? decodeJpegRgba(buf) : decodeWebpRgba(buf));
      const { data, info } = await sharp(buf).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([img.width, img.height, info.channels], [w, h, 3], what);
      const rgb = new Uint8Array(w * h * 3);
      for (let k = 0; k < w * h; k++) rgb.set(img.data.subarray(4 * k, 4 * k + 3), 3 * k);
      assert.deepEqual(rgb, new Uint8Array(data), `${what} ${w}×${h}`);
    }
  }
  await assert.rejects(decodeJpegRgba(Buffer.from('not a jpeg')));
});

test('gray pictures saved as lossy WebP or colour JPEG decode to sharp\'s gray exactly (near-neutral fast path)', async () => {
  const spec: ImageSpec = { height: 28, width: 28, channels: 1 };
  for (let seed = 1; seed <= 24; seed++) {
    const gray = pattern(28, 28, 1, seed);
    const rgb = Buffer.alloc(28 * 28 * 3);
    for (let k = 0; k < 28 * 28; k++) rgb.fill(gray[k], 3 * k, 3 * k + 3);
    const src = sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } });
    for (const buf of [await src.clone().webp({ quality: 40 + seed * 2 }).toBuffer(), await src.clone().jpeg({ quality: 50 + seed }).toBuffer()]) {
      assert.deepEqual(await decodeImage(buf, spec), await decodeImageSharp(buf, spec), `seed ${seed}`);
    }
  }
});
