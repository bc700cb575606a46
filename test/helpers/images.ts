/**
 * Test fixtures: a toy image dataset of coloured shapes drawn with sharp (SVG → PNG/JPEG/WebP/GIF/TIFF), and
 * helpers that plant bad files. Deterministic by seed; learnable by a tiny CNN at 28–32 px.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../tasks/image_classification/data/random.js';

export type ImageFormat = 'png' | 'jpg' | 'webp' | 'gif' | 'tiff';
export type ColourMode = 'rgb' | 'gray' | 'rgba';
export type ShapeKind = 'circle' | 'square' | 'triangle';

export const IMAGE_FORMATS: ImageFormat[] = ['png', 'jpg', 'webp', 'gif', 'tiff'];

/**
 * The three classes: folder name, shape and base colour. Names include a space and a non-ASCII letter. The colours
 * are also ordered in brightness (dark blue < mid red < light green, in gray level and in channel mean alike), so
 * a model that learns brightness as well as hue still tells the grayscale images apart.
 */
export const SHAPE_CLASSES: { name: string; shape: ShapeKind; colour: [number, number, number] }[] = [
  { name: 'circle', shape: 'circle', colour: [210, 40, 40] },
  { name: 'carré vert', shape: 'square', colour: [110, 215, 110] },
  { name: 'blue triangle', shape: 'triangle', colour: [15, 15, 120] },
];

/** The class names in flash's label order (localeCompare 'en'): blue triangle, carré vert, circle. */
export const SHAPE_LABELS: string[] = SHAPE_CLASSES.map((c) => c.name).sort((a, b) => a.localeCompare(b, 'en'));

export interface DrawOptions {
  shape: ShapeKind;
  width?: number;
  height?: number;
  format?: ImageFormat;
  /**
   * 'gray' writes a true single-channel image where the format allows (PNG, JPEG, TIFF). 'rgba' keeps a
   * transparent background in PNG, WebP and GIF (sharp writes TIFF and JPEG without alpha).
   */
  mode?: ColourMode;
  /** Fill colour (default: the class colour of the shape). */
  colour?: [number, number, number];
  /** Background colour for rgb/gray images (default near-white). 'rgba' images get a transparent background. */
  background?: [number, number, number];
  /** Shape centre and size as fractions of the smaller side (defaults: centred, 0.6). */
  cx?: number;
  cy?: number;
  size?: number;
  /** Rotation in degrees (squares and triangles). */
  rotate?: number;
}

const hex = (c: [number, number, number]) => `rgb(${c.map((v) => Math.round(v)).join(',')})`;

/** Draws one shape image and encodes it in `format`. */
export async function drawShape(opts: DrawOptions): Promise<Buffer> {
  const w = opts.width ?? 32;
  const h = opts.height ?? 32;
  const format = opts.format ?? 'png';
  const mode = opts.mode ?? 'rgb';
  const colour = opts.colour ?? SHAPE_CLASSES.find((c) => c.shape === opts.shape)!.colour;
  const bg = opts.background ?? [245, 245, 245];
  const m = Math.min(w, h);
  const cx = (opts.cx ?? 0.5) * w;
  const cy = (opts.cy ?? 0.5) * h;
  const s = (opts.size ?? 0.6) * m;
  const rot = opts.rotate ?? 0;
  let body: string;
  if (opts.shape === 'circle') {
    body = `<circle cx="${cx}" cy="${cy}" r="${s / 2}" fill="${hex(colour)}"/>`;
  } else if (opts.shape === 'square') {
    body = `<rect x="${cx - s / 2}" y="${cy - s / 2}" width="${s}" height="${s}" fill="${hex(colour)}" transform="rotate(${rot} ${cx} ${cy})"/>`;
  } else {
    const r = s / 2;
    const pts = [0, 120, 240]
      .map((a) => ((a - 90) * Math.PI) / 180)
      .map((a) => `${cx + r * 1.15 * Math.cos(a)},${cy + r * 1.15 * Math.sin(a) + r * 0.15}`)
      .join(' ');
    body = `<polygon points="${pts}" fill="${hex(colour)}" transform="rotate(${rot} ${cx} ${cy})"/>`;
  }
  const background = mode === 'rgba' ? '' : `<rect width="${w}" height="${h}" fill="${hex(bg)}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${background}${body}</svg>`;
  let img = sharp(Buffer.from(svg));
  if (mode === 'gray') img = img.flatten({ background: hex(bg) }).toColourspace('b-w');
  else if (mode === 'rgb') img = img.flatten({ background: hex(bg) });
  else img = img.ensureAlpha();
  switch (format) {
    case 'png':
      return img.png().toBuffer();
    case 'jpg':
      return img.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return img.webp({ quality: 90, lossless: mode === 'rgba' }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff().toBuffer();
  }
}

export interface ShapeDatasetOptions {
  /** Images per class (default 40). */
  perClass?: number;
  /** Default 1. */
  seed?: number;
  /** 'flat': class folders directly in dir (default); 'split': dir/train, dir/val, dir/test with class folders. */
  layout?: 'flat' | 'split';
  /** Fractions for the 'split' layout (default 0.6 / 0.2 / 0.2; test gets the rest). */
  valFraction?: number;
  testFraction?: number;
  /** Formats to cycle through (default all five). */
  formats?: ImageFormat[];
  /** Share of images written as grayscale (default 0.1) and as RGBA with a transparent background (default 0.15). */
  grayFraction?: number;
  rgbaFraction?: number;
  /** Image side range in pixels (default 28–72; width and height drawn independently). */
  minSize?: number;
  maxSize?: number;
}

export interface ShapeFile {
  file: string;
  label: string;
  split?: 'train' | 'val' | 'test';
  format: ImageFormat;
  mode: ColourMode;
}

export interface ShapeDataset {
  root: string;
  /** Class names in flash's label order. */
  labels: string[];
  files: ShapeFile[];
  /** The folder holding the training class folders (root for 'flat'). */
  trainDir: string;
  valDir?: string;
  testDir?: string;
}

/**
 * Writes a dataset of three classes of coloured shapes (red circles, green squares, blue triangles) with random
 * position/size/rotation/colour jitter, a mix of formats, some grayscale and some RGBA images of various sizes.
 * Deterministic by seed.
 */
export async function makeShapeDataset(dir: string, opts: ShapeDatasetOptions = {}): Promise<ShapeDataset> {
  const perClass = opts.perClass ?? 40;
  const rand = mulberry32(opts.seed ?? 1);
  const formats = opts.formats ?? IMAGE_FORMATS;
  const gray = opts.grayFraction ?? 0.1;
  const rgba = opts.rgbaFraction ?? 0.15;
  const minSize = opts.minSize ?? 28;
  const maxSize = opts.maxSize ?? 72;
  const layout = opts.layout ?? 'flat';
  const valFraction = opts.valFraction ?? 0.2;
  const testFraction = opts.testFraction ?? 0.2;
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const files: ShapeFile[] = [];
  const jobs: (() => Promise<void>)[] = [];
  SHAPE_CLASSES.forEach((cls, ci) => {
    const nVal = layout === 'split' ? Math.max(1, Math.round(perClass * valFraction)) : 0;
    const nTest = layout === 'split' ? Math.max(1, Math.round(perClass * testFraction)) : 0;
    for (let i = 0; i < perClass; i++) {
      const split: ShapeFile['split'] =
        layout === 'flat' ? undefined : i < nVal ? 'val' : i < nVal + nTest ? 'test' : 'train';
      const format = formats[(i + ci) % formats.length];
      const u = rand();
      const alphaOk = format === 'png' || format === 'webp' || format === 'gif';
      const mode: ColourMode = u < gray ? 'gray' : u < gray + rgba && alphaOk ? 'rgba' : 'rgb';
      const width = Math.round(between(minSize, maxSize));
      const height = Math.round(between(minSize, maxSize));
      const size = between(0.45, 0.8);
      const draw: DrawOptions = {
        shape: cls.shape,
        width,
        height,
        format,
        mode,
        size,
        cx: 0.5 + between(-1, 1) * (0.5 - size / 2) * (Math.min(width, height) / width) * 0.9,
        cy: 0.5 + between(-1, 1) * (0.5 - size / 2) * (Math.min(width, height) / height) * 0.9,
        rotate: between(-20, 20),
        colour: cls.colour.map((c) => Math.min(255, Math.max(0, c + between(-20, 20)))) as [number, number, number],
        background: [between(225, 255), between(225, 255), between(225, 255)],
      };
      const folder = split ? path.join(dir, split, cls.name) : path.join(dir, cls.name);
      const file = path.join(folder, `${cls.shape}_${String(i).padStart(3, '0')}.${format}`);
      files.push({ file, label: cls.name, split, format, mode });
      jobs.push(async () => {
        await fs.mkdir(folder, { recursive: true });
        await fs.writeFile(file, await drawShape(draw));
      });
    }
  });
  for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
  return {
    root: dir,
    labels: SHAPE_LABELS,
    files,
    trainDir: layout === 'split' ? path.join(dir, 'train') : dir,
    valDir: layout === 'split' ? path.join(dir, 'val') : undefined,
    testDir: layout === 'split' ? path.join(dir, 'test') : undefined,
  };
}

/** A fresh temporary folder; remove it with `removeDir`. */
export async function makeTempDir(prefix = 'flash-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** Writes a JPEG cut off half-way (a truncated download): sharp refuses it. Returns the path. */
export async function writeTruncatedJpeg(file: string): Promise<string> {
  const jpg = await sharp({
    create: { width: 64, height: 64, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .jpeg()
    .toBuffer();
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, jpg.subarray(0, Math.floor(jpg.length / 2)));
  return file;
}

/** Writes random bytes under an image name (e.g. 'broken.png'). Returns the path. */
export async function writeGarbageImage(file: string, seed = 7): Promise<string> {
  const rand = mulberry32(seed);
  const bytes = Buffer.from(Array.from({ length: 512 }, () => Math.floor(rand() * 256)));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, bytes);
  return file;
}

/** Writes a non-image file (default 'notes.txt') into `dir`. Returns the path. */
export async function writeTextFile(dir: string, name = 'notes.txt'): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(file, 'not an image\n');
  return file;
}

/** Writes a hidden macOS `.DS_Store` (binary junk) into `dir`. Returns the path. */
export async function writeHiddenFile(dir: string, name = '.DS_Store'): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(file, Buffer.from([0, 0, 0, 1, 66, 117, 100, 49, 0, 0, 16, 0]));
  return file;
}

/** Creates an empty class folder `root/name` (hidden files inside it don't count as images). Returns the path. */
export async function makeEmptyClass(root: string, name = 'empty class'): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  await writeHiddenFile(dir);
  return dir;
}

/**
 * Plants the usual bad files in a class folder: a truncated JPEG, a `.txt` file and a hidden `.DS_Store`
 * (plus a hidden folder with an image in it, which must be ignored too).
 */
export async function plantBadFiles(classDir: string): Promise<{ truncated: string; text: string; hidden: string }> {
  const truncated = await writeTruncatedJpeg(path.join(classDir, 'truncated.jpg'));
  const text = await writeTextFile(classDir);
  const hidden = await writeHiddenFile(classDir);
  const hiddenDir = path.join(classDir, '.thumbnails');
  await fs.mkdir(hiddenDir, { recursive: true });
  await fs.writeFile(path.join(hiddenDir, 'thumb.png'), await drawShape({ shape: 'circle', width: 8, height: 8 }));
  return { truncated, text, hidden };
}
