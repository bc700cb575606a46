import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { FlashUserError } from '../errors.js';
import { fsUserError } from '../io/atomic.js';

/** The lock a run holds on its folder while it writes it. */
export const LOCK_FILE = '.flash.lock';

/** What a held lock records, so a later run can tell a live writer from a dead one. */
interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** True when `child` is `parent` or inside it. */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live run holding `dir`'s lock, if any (a lock of a process that is gone does not count). */
async function liveLock(dir: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
    if (info.host === hostname() && !alive(info.pid)) return undefined;
    return info;
  } catch {
    return undefined;
  }
}

export interface OutputCheck {
  /** `flash <task>`, for the hints. */
  task: string;
  /** The folder as the user named it, for messages. */
  shown: string;
  /** The pasteable command that continues the run there (`npx flash <task> --resume <dir>`). */
  resumeHint?: string;
  /** `--overwrite`: replace whatever the folder holds. */
  overwrite: boolean;
  /** Folders the run reads its data from: an output folder inside one is refused. */
  dataFolders: readonly string[];
}

/**
 * Refuses an output folder a new run would damage: inside the data it reads, a finished or interrupted run
 * (continue it with --resume instead), a run another process is writing, or a non-empty folder that is not a
 * run — unless `--overwrite` says to replace it. An empty or missing folder is fine.
 */
export async function checkOutputDir(dir: string, check: OutputCheck): Promise<void> {
  for (const data of check.dataFolders) {
    if (isInside(dir, data)) {
      throw new FlashUserError(`output folder '${check.shown}' is inside the data folder '${data}': the run would be read as data; choose an --output_dir outside it`);
    }
  }
  if (!existsSync(dir)) return;
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => e !== LOCK_FILE);
  } catch (err) {
    throw fsUserError(err, dir, 'read output folder');
  }
  const lock = await liveLock(dir);
  if (lock) throw new FlashUserError(`output folder '${check.shown}' is being written by another flash run (pid ${lock.pid}, started ${lock.started}); wait for it or choose another --output_dir`);
  if (entries.length === 0 || check.overwrite) return;
  if (entries.includes('flash.json')) {
    let status = 'unknown';
    try {
      status = (JSON.parse(await readFile(join(dir, 'flash.json'), 'utf8')) as { status?: string }).status ?? status;
    } catch {
      // an unreadable flash.json is still somebody's run
    }
    throw new FlashUserError(
      `output folder '${check.shown}' already holds a flash run (status: ${status}); continue it with ${check.resumeHint ?? `flash ${check.task} --resume ${check.shown}`} [--max_epochs N], choose another --output_dir, or add --overwrite to replace it`,
    );
  }
  throw new FlashUserError(`output folder '${check.shown}' is not empty and is not a flash run (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose another --output_dir, or add --overwrite to write into it`);
}

/** A held run-folder lock; `release` removes it, and the folder too when nothing else was written. */
export interface RunLock {
  release(options?: { removeIfEmpty?: boolean }): Promise<void>;
}

/**
 * Creates `dir` (when needed) and takes its lock atomically: a second run into the same folder fails here with a
 * clear line, while a lock left by a process that died is taken over.
 */
export async function lockRunDir(dir: string, shown: string): Promise<RunLock> {
  const created = !existsSync(dir);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fsUserError(err, dir, 'write to output folder');
  }
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(info));
      await handle.close();
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw fsUserError(err, dir, 'write to output folder');
      const holder = await liveLock(dir);
      if (holder || attempt > 0) {
        throw new FlashUserError(`output folder '${shown}' is being written by another flash run (pid ${holder?.pid ?? '?'}); wait for it or choose another --output_dir`);
      }
      await rm(path, { force: true }); // a dead run's lock
    }
  }
  return {
    async release(options = {}) {
      await rm(path, { force: true });
      if (options.removeIfEmpty && created) {
        // Only a folder this run made and left empty goes: a failed start leaves nothing behind.
        await rmdir(dir).catch(() => undefined);
      }
    },
  };
}

/** True when the folder exists and holds anything but a lock. */
export async function hasContent(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return true;
    return readdirSync(dir).some((e) => e !== LOCK_FILE);
  } catch {
    return false;
  }
}
