/**
 * Decode micro-benchmark: small images (Fashion-MNIST 28×28 gray as PNG, JPEG and WebP files) through the old
 * path (decodeImageSharp: sharp's full pipeline for every file) and the new one (decodeImage: fast paths),
 * interleaved, median of --reps, at the datamodule's 4 decodes in flight.
 *
 *   node dist/bench/decode.js [--count 3000] [--reps 3] [--formats png,jpg,webp|mixed] [--concurrency 4]
 *
 * One JSON line per (formats, path): images_per_s (median), all reps, other_cpu_cores / contended (CPU other
 * processes used meanwhile, from /proc/stat), images_per_cpu_s, identical (new pixels equal old, every file).
 * Without Fashion-MNIST (dataset-fashion-mnist) it draws synthetic 28×28 images instead.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, decodeImageSharp, type ImageSpec } from '../tasks/image_classification/data/decode.js';
import { cpuJiffies, CONTENDED_CORES, HZ, intArg, log, runBench } from './common.js';
import { fashionMnistAvailable, loadFashionMnist } from './fashion_mnist_folders.js';

const SPEC: ImageSpec = { height: 28, width: 28, channels: 1 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i], i); }
  }));
}

/** Writes `count` 28×28 gray images cycling through `formats`; returns their paths. */
async function writeImages(dir: string, count: number, formats: string[]): Promise<string[]> {
  const real = fashionMnistAvailable();
  const images = real ? (await loadFashionMnist('test')).images : undefined;
  const files: string[] = [];
  await mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const raw = images ? Buffer.from(images.buffer, images.byteOffset + (i % 10000) * 784, 784)
      : Buffer.from(Array.from({ length: 784 }, (_, k) => (k * 7 + i * 13 + ((k * i) % 17)) & 255));
    const fmt = formats[i % formats.length];
    const img = sharp(raw, { raw: { width: 28, height: 28, channels: 1 } });
    // (WebP stores colour only; the others as gray, as a gray dataset would be.)
    const buf = fmt === 'png' ? await img.toColourspace('b-w').png().toBuffer()
      : fmt === 'jpg' ? await img.toColourspace('b-w').jpeg({ quality: 90 }).toBuffer()
      : await img.webp({ quality: 90 }).toBuffer();
    const file = path.join(dir, `${String(i).padStart(6, '0')}.${fmt}`);
    await writeFile(file, buf);
    files[i] = file;
  });
  if (!real) log('decode bench: Fashion-MNIST not found (apt-get install dataset-fashion-mnist): synthetic images');
  return files;
}

async function main(): Promise<void> {
  const count = intArg('count', arg('count'), 3000);
  const reps = intArg('reps', arg('reps'), 3);
  const concurrency = intArg('concurrency', arg('concurrency'), 4);
  const mixes = (arg('formats') ?? 'mixed,png,jpg,webp').split(',').map((m) => (m === 'mixed' ? ['png', 'jpg', 'webp'] : [m]));
  const dir = path.join(tmpdir(), `flash-decode-bench-${process.pid}`);
  try {
    for (const formats of mixes) {
      const sub = path.join(dir, formats.join('_'));
      await mkdir(sub, { recursive: true });
      const files = await writeImages(sub, count, formats);
      const paths = { old: (f: string) => decodeImageSharp(f, SPEC), new: (f: string) => decodeImage(f, SPEC) };
      const outs: Record<string, Uint8Array[]> = { old: [], new: [] };
      const runs: Record<string, { rate: number; other: number; perCpu: number }[]> = { old: [], new: [] };
      for (const [name, fn] of Object.entries(paths)) await mapLimit(files.slice(0, 100), concurrency, async (f) => { await fn(f); }); // warm-up
      for (let r = 0; r < reps; r++) {
        for (const [name, fn] of r % 2 === 0 ? Object.entries(paths) : Object.entries(paths).reverse()) {
          const [busy0, self0] = cpuJiffies();
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await mapLimit(files, concurrency, async (f, i) => { const px = await fn(f); if (r === 0) outs[name][i] = px; });
          const s = (performance.now() - t0) / 1000;
          const c = process.cpuUsage(c0);
          const [busy1, self1] = cpuJiffies();
          runs[name].push({ rate: count / s, other: Math.max(0, (busy1 - busy0 - (self1 - self0)) / HZ / s), perCpu: count / ((c.user + c.system) / 1e6) });
        }
      }
      const identical = outs.new.every((p, i) => Buffer.compare(Buffer.from(p), Buffer.from(outs.old[i])) === 0);
      const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
      for (const name of ['old', 'new']) {
        const rs = runs[name];
        const other = median(rs.map((x) => x.other));
        console.log(JSON.stringify({
          bench: 'decode', formats: formats.join('+'), path: name, count, concurrency, size: '28x28x1',
          images_per_s: Math.round(median(rs.map((x) => x.rate))), reps: rs.map((x) => Math.round(x.rate)),
          images_per_cpu_s: Math.round(median(rs.map((x) => x.perCpu))),
          other_cpu_cores: +other.toFixed(2), contended: other > CONTENDED_CORES,
          ...(name === 'new' ? { speedup: +(median(runs.new.map((x) => x.rate)) / median(runs.old.map((x) => x.rate))).toFixed(2), identical } : {}),
        }));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
