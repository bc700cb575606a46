import { promises as fs } from 'node:fs';
import type { Dirent } from 'node:fs';
import * as path from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { FlashUserError } from '../../../src/core/errors.js';
import { isImageFile } from './decode.js';

/** Sorts names the way labels are ordered everywhere in flash. */
export function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en') || (a < b ? -1 : a > b ? 1 : 0);
}

const isHidden = (name: string): boolean => name.startsWith('.');

/** Fails with one line if `folder` is missing or not a folder. */
export async function assertFolder(folder: string, what = 'folder'): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FlashUserError(`${what} '${folder}' does not exist`);
    if (code === 'EACCES') throw new FlashUserError(`${what} '${folder}' cannot be read (permission denied)`);
    throw new FlashUserError(`${what} '${folder}' cannot be read: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) throw new FlashUserError(`'${folder}' is not a folder`);
}

async function readDir(folder: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(folder, { withFileTypes: true });
  } catch (err) {
    throw new FlashUserError(`folder '${folder}' cannot be read: ${(err as Error).message}`);
  }
}

/** How a scan reports what it leaves out, and whether that is fatal. */
export interface ScanOptions {
  /** An empty class folder is an error instead of a warning that drops the class. */
  strict?: boolean;
  /** Each warning (a symlink loop not followed, an unreadable sub-folder skipped, an empty class dropped). */
  onWarning?: (message: string) => void;
}

/**
 * Scan options for every scan inside `fn` that is not given its own: lets a builder pass `strict` and its warning
 * sink through data-module code that calls the scan with a folder only.
 */
const scanContext = new AsyncLocalStorage<ScanOptions>();
export function withScanOptions<T>(options: ScanOptions, fn: () => Promise<T>): Promise<T> {
  return scanContext.run(options, fn);
}

/** Said once per process: a training run scans its folders twice (the brief check, then the data module). */
const warned = new Set<string>();
const defaultWarning = (m: string): void => {
  if (warned.has(m)) return;
  warned.add(m);
  console.warn(`warning: ${m}`);
};

interface Scan {
  strict: boolean;
  warn: (message: string) => void;
  /** dev:inode of every folder entered, so a folder reached twice (a symlink loop or a second link) is not re-read. */
  seen: Map<string, string>;
}

function newScan(options: ScanOptions | undefined): Scan {
  const o = options ?? scanContext.getStore() ?? {};
  return { strict: o.strict ?? false, warn: o.onWarning ?? defaultWarning, seen: new Map() };
}

/** Marks `folder` entered; false (and a warning naming the link) when it was entered before. */
async function enter(scan: Scan, folder: string): Promise<boolean> {
  const st = await fs.stat(folder);
  const key = `${st.dev}:${st.ino}`;
  const first = scan.seen.get(key);
  if (first === undefined) {
    scan.seen.set(key, folder);
    return true;
  }
  const target = await fs.realpath(folder).catch(() => first);
  const loop = (folder + path.sep).startsWith(first + path.sep);
  scan.warn(
    loop
      ? `symlink loop: '${folder}' leads back to '${first}' (${target}), which is already being scanned; not followed`
      : `'${folder}' is the same folder as '${first}' (${target}), already scanned; not read twice`,
  );
  return false;
}

/** Resolves a directory entry through symlinks: 'dir', 'file' or undefined (broken link, socket, …). */
async function kindOf(folder: string, entry: Dirent): Promise<'dir' | 'file' | undefined> {
  if (entry.isDirectory()) return 'dir';
  if (entry.isFile()) return 'file';
  if (entry.isSymbolicLink()) {
    try {
      const s = await fs.stat(path.join(folder, entry.name));
      return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Walks `folder` recursively (hidden entries skipped), returning image files and other files, each sorted. Each
 * real folder is read once, so a symlink loop ends at its first turn; a sub-folder that can't be read is skipped
 * with a warning (the top folder is checked by the caller).
 */
async function walk(folder: string, scan: Scan, top = true): Promise<{ images: string[]; others: string[] }> {
  const images: string[] = [];
  const others: string[] = [];
  let entries: Dirent[];
  try {
    if (!(await enter(scan, folder))) return { images, others };
    // Sorted, so which of two links to one folder is read (and which is warned about) does not depend on the disk.
    entries = (await readDir(folder)).sort((a, b) => compareNames(a.name, b.name));
  } catch (err) {
    if (top) throw err;
    scan.warn(`skipping folder '${folder}': it cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return { images, others };
  }
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const full = path.join(folder, entry.name);
    const kind = await kindOf(folder, entry);
    if (kind === 'dir') {
      const sub = await walk(full, scan, false);
      images.push(...sub.images);
      others.push(...sub.others);
    } else if (kind === 'file') {
      (isImageFile(entry.name) ? images : others).push(full);
    }
  }
  images.sort(compareNames);
  others.sort(compareNames);
  return { images, others };
}

/**
 * The image files under `folder` (recursively, hidden files and folders skipped), sorted — for predict and
 * unlabelled folders. Errors name the folder: missing, not a folder, or holding no images.
 */
export async function listImageFiles(folder: string, options?: ScanOptions): Promise<string[]> {
  await assertFolder(folder);
  const { images } = await walk(folder, newScan(options));
  if (images.length === 0) throw new FlashUserError(`no images in '${folder}' (looked for ${extList()})`);
  return images;
}

function extList(): string {
  return 'JPEG, PNG, WebP, GIF and TIFF files';
}

/**
 * Reads a labelled folder: each non-hidden sub-folder is a class (named after it in Unicode NFC, sorted with
 * localeCompare 'en'),
 * holding its images at any depth. Non-image files are returned in `ignored` (the caller reports them); hidden
 * files and folders are skipped silently. Errors (FlashUserError, naming the path): missing folder, not a folder,
 * no class sub-folders, no images at all; an empty class folder is a warning that drops the class (an error
 * with `strict`). Each real folder is read once: a symlink loop or a second link to a folder is a warning.
 */
export async function scanClassFolders(
  folder: string,
  options?: ScanOptions,
): Promise<{ labels: string[]; samples: { file: string; label: number }[]; ignored: string[] }> {
  await assertFolder(folder);
  const scan = newScan(options);
  // The top folder counts as entered: a class's `loop -> ..` leads back to it.
  await enter(scan, folder);
  const classDirs: string[] = [];
  const looseImages: string[] = [];
  const ignored: string[] = [];
  for (const entry of await readDir(folder)) {
    if (isHidden(entry.name)) continue;
    const kind = await kindOf(folder, entry);
    if (kind === 'dir') classDirs.push(entry.name);
    else if (kind === 'file') (isImageFile(entry.name) ? looseImages : ignored).push(path.join(folder, entry.name));
  }
  if (classDirs.length === 0) {
    if (looseImages.length > 0) {
      throw new FlashUserError(
        `no class sub-folders in '${folder}': found ${looseImages.length} image(s) directly in it; ` +
          `put each class's images in a sub-folder named after the class (e.g. '${path.join(folder, 'cat')}')`,
      );
    }
    throw new FlashUserError(
      `no images in '${folder}': expected class sub-folders of images (e.g. '${path.join(folder, 'cat', 'img1.jpg')}')`,
    );
  }
  classDirs.sort(compareNames);
  const labels: string[] = [];
  const samples: { file: string; label: number }[] = [];
  const empty: string[] = [];
  for (const name of classDirs) {
    const dir = path.join(folder, name);
    const { images, others } = await walk(dir, scan, false);
    ignored.push(...others);
    if (images.length === 0) {
      empty.push(dir);
      continue;
    }
    const label = labels.length;
    // macOS may store 'carré' decomposed (NFD); labels are compared and saved composed (NFC).
    labels.push(name.normalize('NFC'));
    for (const file of images) samples.push({ file, label });
  }
  if (samples.length === 0) {
    throw new FlashUserError(
      `no images in '${folder}': its class folder${classDirs.length > 1 ? 's' : ''} ` +
        `(${classDirs.join(', ')}) hold no ${extList()}`,
    );
  }
  if (empty.length > 0) {
    const what = empty.length === 1 ? `class folder '${empty[0]}' has no images` : `class folders ${empty.map((e) => `'${e}'`).join(', ')} have no images`;
    // Strict stops; otherwise the other classes still make a dataset, so the empty one is left out and said so.
    if (scan.strict) throw new FlashUserError(`${what} (strict: every class folder must hold images)`);
    scan.warn(`${what}; ${empty.length === 1 ? 'that class is' : 'those classes are'} left out`);
  }
  // Loose images next to class folders are not part of any class: report them with the other ignored files.
  ignored.push(...looseImages);
  ignored.sort(compareNames);
  return { labels, samples, ignored };
}
