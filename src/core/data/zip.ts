/**
 * Safe zip extraction with unzipper (task-agnostic): the archive's central directory is checked before anything
 * is written — no entry may escape the target folder (zip-slip: `..`, absolute paths, drive letters), symbolic
 * links are refused (never created, never followed), and the entry count and total size are limited — then each
 * entry is streamed to disk with its size enforced as it is written (sizes in a zip can lie). The result appears
 * atomically: extraction goes to a temporary folder beside the target, renamed into place when complete.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import unzipper from 'unzipper';
import { FlashUserError } from '../errors.js';

export interface ExtractLimits {
  /** Most entries (files and folders) an archive may hold. Default 1,000,000 (env FLASH_MAX_ZIP_ENTRIES). */
  maxEntries?: number;
  /** Most bytes all entries may unpack to. Default 32 GiB (env FLASH_MAX_ZIP_BYTES). */
  maxTotalBytes?: number;
}

export const DEFAULT_MAX_ENTRIES = 1_000_000;
export const DEFAULT_MAX_TOTAL_BYTES = 32 * 1024 ** 3;

/** The limits in force: explicit ones, else FLASH_MAX_ZIP_ENTRIES / FLASH_MAX_ZIP_BYTES, else the defaults. */
export function resolveLimits(limits: ExtractLimits = {}, env: Record<string, string | undefined> = process.env): Required<ExtractLimits> {
  const fromEnv = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new FlashUserError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
  return {
    maxEntries: limits.maxEntries ?? fromEnv('FLASH_MAX_ZIP_ENTRIES') ?? DEFAULT_MAX_ENTRIES,
    maxTotalBytes: limits.maxTotalBytes ?? fromEnv('FLASH_MAX_ZIP_BYTES') ?? DEFAULT_MAX_TOTAL_BYTES,
  };
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Entries macOS adds to archives (resource forks), skipped: `__MACOSX/…` and `._name`. */
function isMacJunk(parts: string[]): boolean {
  return parts[0] === '__MACOSX' || parts[parts.length - 1].startsWith('._');
}

/**
 * The safe relative path of an entry name, or a reason to refuse the archive. Backslashes count as separators
 * (archives made on Windows); `.` segments are dropped; `..`, absolute paths, drive letters and NUL are refused.
 */
export function safeEntryPath(name: string): { parts: string[] } | { refused: string } {
  if (name.includes('\0')) return { refused: 'has a NUL character in its name' };
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) return { refused: 'is an absolute path' };
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { refused: 'escapes the target folder (..)' };
  return { parts };
}

function fmtBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${n} bytes`;
}

/** Counts bytes through a stream and fails once the entry or the archive goes over its limit. */
function limiter(entryName: string, declared: number, budget: { left: number }, zip: string, limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      budget.left -= chunk.length;
      if (seen > declared) {
        done(new FlashUserError(`refusing zip '${zip}': entry '${entryName}' unpacks to more than the ${declared} bytes its header declares`));
      } else if (budget.left < 0) {
        done(new FlashUserError(`refusing zip '${zip}': it unpacks to more than ${fmtBytes(limit)} (limit; set FLASH_MAX_ZIP_BYTES to raise it)`));
      } else done(null, chunk);
    },
  });
}

/**
 * Extracts `zipFile` into `target` (which must not exist yet), safely and atomically; the whole archive is
 * refused (FlashUserError naming it and the entry) when any entry is unsafe or a limit is exceeded, and nothing
 * is left behind. If another process completes `target` first, its copy is kept.
 */
export async function extractZip(zipFile: string, target: string, limits: ExtractLimits = {}): Promise<void> {
  const { maxEntries, maxTotalBytes } = resolveLimits(limits);
  let dir: unzipper.CentralDirectory;
  try {
    dir = await unzipper.Open.file(zipFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`zip file '${zipFile}' does not exist`);
    throw new FlashUserError(`'${zipFile}' is not a readable zip archive: ${(err as Error).message.split('\n')[0]}`);
  }
  if (dir.files.length > maxEntries) {
    throw new FlashUserError(`refusing zip '${zipFile}': ${dir.files.length} entries is more than the limit of ${maxEntries} (set FLASH_MAX_ZIP_ENTRIES to raise it)`);
  }
  // Check every entry before writing anything.
  const plan: { file: unzipper.File; parts: string[]; isDir: boolean }[] = [];
  let declaredTotal = 0;
  const seen = new Set<string>();
  for (const file of dir.files) {
    const safe = safeEntryPath(file.path);
    if ('refused' in safe) throw new FlashUserError(`refusing zip '${zipFile}': entry '${file.path}' ${safe.refused}`);
    const unixMode = (file.externalFileAttributes >>> 16) & S_IFMT;
    const madeOnUnix = file.versionMadeBy >> 8 === 3 || file.versionMadeBy >> 8 === 19;
    if (madeOnUnix && unixMode === S_IFLNK) {
      throw new FlashUserError(`refusing zip '${zipFile}': entry '${file.path}' is a symbolic link (links are not extracted)`);
    }
    if (safe.parts.length === 0 || isMacJunk(safe.parts)) continue;
    if (file.flags & 0x1) throw new FlashUserError(`refusing zip '${zipFile}': entry '${file.path}' is encrypted`);
    const isDir = file.type === 'Directory' || /[/\\]$/.test(file.path);
    const key = safe.parts.join('/');
    if (!isDir) {
      if (seen.has(key)) throw new FlashUserError(`refusing zip '${zipFile}': entry '${file.path}' appears twice`);
      seen.add(key);
      declaredTotal += file.uncompressedSize;
    }
    plan.push({ file, parts: safe.parts, isDir });
  }
  if (declaredTotal > maxTotalBytes) {
    throw new FlashUserError(`refusing zip '${zipFile}': it unpacks to ${fmtBytes(declaredTotal)}, more than the limit of ${fmtBytes(maxTotalBytes)} (set FLASH_MAX_ZIP_BYTES to raise it)`);
  }

  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tmp);
  try {
    const root = path.resolve(tmp);
    const budget = { left: maxTotalBytes };
    for (const { file, parts, isDir } of plan) {
      const out = path.resolve(root, ...parts);
      // Belt and braces: the joined path must stay inside the temporary folder.
      if (out !== root && !out.startsWith(root + path.sep)) {
        throw new FlashUserError(`refusing zip '${zipFile}': entry '${file.path}' escapes the target folder`);
      }
      if (isDir) {
        await fs.mkdir(out, { recursive: true });
        continue;
      }
      await fs.mkdir(path.dirname(out), { recursive: true });
      // 'wx': never overwrite, and never write through anything already there.
      await pipeline(file.stream(), limiter(file.path, file.uncompressedSize, budget, zipFile, maxTotalBytes), createWriteStream(out, { flags: 'wx', mode: 0o644 }));
    }
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process finished first: keep its copy.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await fs.rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (err instanceof FlashUserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new FlashUserError(`no space left on the device while extracting '${zipFile}' into '${path.dirname(target)}'`);
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new FlashUserError(`refusing zip '${zipFile}': its entries clash (a file and a folder, or a name twice): ${(err as Error).message}`);
    throw new FlashUserError(`cannot extract zip '${zipFile}': ${(err as Error).message.split('\n')[0]}`);
  }
}
