/**
 * Fashion-MNIST as PNG class folders, the layout `flash` reads (`<dir>/<class>/*.png`).
 *
 * Reads the original IDX files (gzipped or not) — by default Debian's `dataset-fashion-mnist` package under
 * /usr/share/datasets/fashion-mnist, or the directory in $FASHION_MNIST_DIR — and writes 28×28 grayscale PNGs.
 * Used by `scripts/make_demo_data.ts` (the bundled demo dataset) and by the benchmarks.
 *
 * Fashion-MNIST © Zalando SE (Zalando Research), MIT license: https://github.com/zalandoresearch/fashion-mnist
 */
import { existsSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

/** Where the IDX files are looked for: $FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist location. */
export const FASHION_MNIST_DIR: string = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';

/**
 * Class names in label order (label 0 = 'T-shirt_top'), used as folder names. The official name "T-shirt/top"
 * has a '/' that cannot be in a folder name, hence the underscore; 'Ankle boot' keeps its space.
 */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt_top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Image side in pixels. */
export const FASHION_MNIST_SIZE = 28;

/** A decoded IDX file: its dimensions and its values in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const IDX_TYPES: Record<number, { bytes: number; read: (v: DataView, o: number) => number; make: (n: number) => IdxArray['data'] }> = {
  0x08: { bytes: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  0x09: { bytes: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  0x0b: { bytes: 2, read: (v, o) => v.getInt16(o), make: (n) => new Int16Array(n) },
  0x0c: { bytes: 4, read: (v, o) => v.getInt32(o), make: (n) => new Int32Array(n) },
  0x0d: { bytes: 4, read: (v, o) => v.getFloat32(o), make: (n) => new Float32Array(n) },
  0x0e: { bytes: 8, read: (v, o) => v.getFloat64(o), make: (n) => new Float64Array(n) },
};

/** Decodes an IDX buffer (already gunzipped). Values are big-endian, as the format specifies. */
export function parseIdx(buf: Uint8Array): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new Error('not an IDX file (bad magic number)');
  const type = IDX_TYPES[buf[2]];
  if (!type) throw new Error(`unsupported IDX data type 0x${buf[2].toString(16)}`);
  const rank = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (buf.length < start + count * type.bytes) {
    throw new Error(`IDX file truncated: dims ${dims.join('×')} need ${start + count * type.bytes} bytes, have ${buf.length}`);
  }
  if (type.bytes === 1 && buf[2] === 0x08) return { dims, data: buf.slice(start, start + count) };
  const data = type.make(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, start + i * type.bytes);
  return { dims, data };
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic bytes (whatever its name). */
export async function readIdx(file: string): Promise<IdxArray> {
  let buf: Uint8Array = await readFile(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  return parseIdx(buf);
}

/** The IDX file for a split and kind, `.gz` or not, or undefined when neither exists. */
export function fashionMnistFile(split: 'train' | 'test', kind: 'images' | 'labels', dir = FASHION_MNIST_DIR): string | undefined {
  const base = `${split === 'train' ? 'train' : 't10k'}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`;
  for (const name of [`${base}.gz`, base]) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** True when all four IDX files are present in `dir`. */
export function fashionMnistAvailable(dir = FASHION_MNIST_DIR): boolean {
  return (['train', 'test'] as const).every((s) =>
    (['images', 'labels'] as const).every((k) => fashionMnistFile(s, k, dir) !== undefined),
  );
}

/** Images and labels of one split, straight from the IDX files. */
export async function loadFashionMnist(
  split: 'train' | 'test',
  dir = FASHION_MNIST_DIR,
): Promise<{ images: Uint8Array; labels: Uint8Array; count: number }> {
  const imgFile = fashionMnistFile(split, 'images', dir);
  const lblFile = fashionMnistFile(split, 'labels', dir);
  if (!imgFile || !lblFile) throw new Error(`Fashion-MNIST ${split} IDX files not found in ${dir}`);
  const [img, lbl] = await Promise.all([readIdx(imgFile), readIdx(lblFile)]);
  const [count, h, w] = img.dims;
  if (img.dims.length !== 3 || h !== FASHION_MNIST_SIZE || w !== FASHION_MNIST_SIZE || !(img.data instanceof Uint8Array)) {
    throw new Error(`unexpected image IDX shape ${img.dims.join('×')} in ${imgFile}`);
  }
  if (lbl.dims.length !== 1 || lbl.dims[0] !== count || !(lbl.data instanceof Uint8Array)) {
    throw new Error(`label IDX ${lblFile} has shape ${lbl.dims.join('×')}, expected [${count}]`);
  }
  return { images: img.data, labels: lbl.data, count };
}

export interface WriteFashionMnistOptions {
  /** Root folder; one sub-folder per class is created in it. */
  outDir: string;
  /** Images written per class (fewer if the split runs out). */
  perClass: number;
  /** Which IDX split to read: 'train' (60,000 images) or 'test' (10,000). */
  split: 'train' | 'test';
  /**
   * Images of each class to skip first (default 0). Selection is deterministic — the first `perClass` images of
   * each class in file order after the first `offset` — so two calls with disjoint [offset, offset + perClass)
   * ranges give disjoint sets (e.g. a train and a validation folder from the same split).
   */
  offset?: number;
  /** IDX directory (default FASHION_MNIST_DIR). */
  dataDir?: string;
}

export interface WriteFashionMnistResult {
  /** Images written per class, in FASHION_MNIST_CLASSES order. */
  counts: number[];
  /** Every file written. */
  files: string[];
}

/**
 * Writes 28×28 single-channel PNGs into `<outDir>/<class name>/<split>_<index>.png`, where `index` is the
 * image's position in the IDX file (zero-padded to 5 digits), so names are stable and traceable.
 * Existing files with the same names are overwritten; nothing else in `outDir` is touched.
 */
export async function writeFashionMnistFolders(opts: WriteFashionMnistOptions): Promise<WriteFashionMnistResult> {
  const { outDir, perClass, split, offset = 0, dataDir = FASHION_MNIST_DIR } = opts;
  if (!Number.isInteger(perClass) || perClass < 0) throw new RangeError(`perClass must be a non-negative integer, got ${perClass}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
  const { images, labels, count } = await loadFashionMnist(split, dataDir);
  const k = FASHION_MNIST_CLASSES.length;
  const seen = new Array<number>(k).fill(0);
  const picked: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < count; i++) {
    const y = labels[i];
    if (y >= k) throw new Error(`label ${y} at index ${i} is outside [0, ${k})`);
    if (seen[y]++ >= offset && picked[y].length < perClass) picked[y].push(i);
  }
  await Promise.all(FASHION_MNIST_CLASSES.map((name) => mkdir(path.join(outDir, name), { recursive: true })));
  const px = FASHION_MNIST_SIZE * FASHION_MNIST_SIZE;
  const jobs = picked.flatMap((idxs, c) =>
    idxs.map((i) => ({ i, file: path.join(outDir, FASHION_MNIST_CLASSES[c], `${split}_${String(i).padStart(5, '0')}.png`) })),
  );
  const files: string[] = [];
  const batch = 64;
  for (let s = 0; s < jobs.length; s += batch) {
    await Promise.all(
      jobs.slice(s, s + batch).map(async ({ i, file }) => {
        const raw = Buffer.from(images.buffer, images.byteOffset + i * px, px);
        const png = await sharp(raw, { raw: { width: FASHION_MNIST_SIZE, height: FASHION_MNIST_SIZE, channels: 1 } })
          .toColourspace('b-w')
          .png({ compressionLevel: 9, palette: false })
          .toBuffer();
        await writeFile(file, png);
        files.push(file);
      }),
    );
  }
  files.sort();
  return { counts: picked.map((p) => p.length), files };
}

/** Sizes of the train/val/test folders a benchmark writes (val comes from the train split, after the train images). */
export interface SplitSizes {
  perClass: number;
  valPerClass: number;
  testPerClass: number;
}

/**
 * Writes `<dir>/{train,val,test}/<class>/*.png` (all 10 classes) unless a previous run wrote the same into `dir`:
 * a marker file holding `key` says so. `arrange(dir)` runs after writing and before the marker (to move classes
 * around, say). Returns `dir`.
 */
export async function writeSplitFoldersOnce(
  dir: string,
  sizes: SplitSizes,
  key: unknown,
  log: (line: string) => void,
  arrange?: (dir: string) => Promise<void>,
): Promise<string> {
  const marker = path.join(dir, '.complete.json');
  const want = JSON.stringify(key);
  if (existsSync(marker) && (await fs.readFile(marker, 'utf8')) === want) {
    log(`data: reusing ${dir}`);
    return dir;
  }
  log(`data: writing Fashion-MNIST PNG folders to ${dir}`);
  await fs.rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const parts: [string, 'train' | 'test', number, number][] = [
    ['train', 'train', sizes.perClass, 0],
    ['val', 'train', sizes.valPerClass, sizes.perClass],
    ['test', 'test', sizes.testPerClass, 0],
  ];
  for (const [sub, split, n, offset] of parts) {
    if (n === 0) continue;
    const { counts } = await writeFashionMnistFolders({ outDir: path.join(dir, sub), perClass: n, split, offset });
    if (counts.some((c) => c < n)) throw new Error(`${sub}: the ${split} split has fewer than ${offset + n} images of some class`);
  }
  await arrange?.(dir);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(marker, want);
  log(`data: written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}
