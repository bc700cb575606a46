import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlashUserError } from '../errors.js';

/** Turns file-system errors a user can fix (permissions, full disk, missing folder) into one-line errors. */
export function fsUserError(err: unknown, path: string, action: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
    ENOTDIR: 'a parent is not a folder',
    EEXIST: 'a parent is not a folder',
    ENOENT: 'no such file or folder',
    EDQUOT: 'disk quota exceeded',
  };
  if (code && why[code]) return new FlashUserError(`cannot ${action} '${path}': ${why[code]}`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Writes a file so readers see the old content or the new, never half of it: temp file, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fsUserError(err, path, 'write');
  }
}

/** JSON with two-space indentation and a trailing newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes a whole folder as one unit: `fill` writes into a fresh sibling folder, which then replaces `dir` (the
 * old one, if any, is moved aside and removed), so a failure leaves the old folder or none — never half of one.
 */
export async function writeFolderAtomic(dir: string, fill: (tmp: string) => Promise<void>, action = 'write folder'): Promise<void> {
  const tmp = join(dirname(dir), `.${basename(dir)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(tmp, { recursive: true });
    await fill(tmp);
    const exists = await stat(dir).then(() => true, () => false);
    const old = `${tmp}.old`;
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err instanceof FlashUserError ? err : fsUserError(err, dir, action);
  }
}
