/**
 * Data given as a zip file or an http(s) URL of one (task-agnostic): downloaded into the cache, extracted safely
 * (see zip.ts) into `<cache>/extracted/<sha256 of the zip>` and reused next time. The cache is FLASH_CACHE_DIR,
 * else ~/.cache/flash (XDG_CACHE_HOME is honoured).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FlashUserError } from '../errors.js';
import { extractZip, resolveLimits, type ExtractLimits } from './zip.js';

type Env = Record<string, string | undefined>;

/** True for an http:// or https:// URL. */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** True when a data source names a zip archive: an http(s) URL, or a path ending in .zip. */
export function isArchiveSource(source: string): boolean {
  return isUrl(source) || /\.zip$/i.test(source);
}

/** flash's cache folder: FLASH_CACHE_DIR, else $XDG_CACHE_HOME/flash, else ~/.cache/flash. */
export function cacheDir(env: Env = process.env): string {
  if (env.FLASH_CACHE_DIR) return path.resolve(env.FLASH_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'flash');
  return path.join(os.homedir(), '.cache', 'flash');
}

/** sha256 of a file's bytes, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

const sha256Text = (s: string) => createHash('sha256').update(s).digest('hex');

/** What the URL names, for messages (no query string: it may hold a token). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

export interface DownloadOptions {
  /** Largest download in bytes. Default: the zip size limit (FLASH_MAX_ZIP_BYTES, default 32 GiB). */
  maxBytes?: number;
  /** Give up when no byte arrives for this long. Default 60 s. */
  idleTimeoutMs?: number;
  onProgress?: (message: string) => void;
}

/**
 * Downloads `url` to `dest` atomically (a temporary file renamed into place once complete). Errors are one line
 * naming the URL: HTTP status, network failure, size limit, stalled transfer.
 */
export async function download(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const maxBytes = opts.maxBytes ?? resolveLimits().maxTotalBytes;
  const idle = opts.idleTimeoutMs ?? 60_000;
  const shown = shownUrl(url);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new FlashUserError(`download of ${shown} stalled (nothing received for ${Math.round(idle / 1000)} s)`)), idle);
  };
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw controller.signal.reason instanceof FlashUserError
        ? controller.signal.reason
        : new FlashUserError(`cannot download ${shown}: ${describeFetchError(err)}`);
    }
    if (!res.ok || !res.body) {
      throw new FlashUserError(`cannot download ${shown}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new FlashUserError(`refusing to download ${shown}: ${declared} bytes is more than the limit of ${maxBytes} (set FLASH_MAX_ZIP_BYTES to raise it)`);
    }
    opts.onProgress?.(`downloading ${shown}${Number.isFinite(declared) ? ` (${(declared / 1024 ** 2).toFixed(1)} MiB)` : ''}`);
    let got = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        arm();
        got += chunk.length;
        if (got > maxBytes) done(new FlashUserError(`refusing to download ${shown}: more than the limit of ${maxBytes} bytes (set FLASH_MAX_ZIP_BYTES to raise it)`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      if (err instanceof FlashUserError) throw err;
      if (controller.signal.reason instanceof FlashUserError) throw controller.signal.reason;
      throw new FlashUserError(`download of ${shown} failed: ${describeFetchError(err)}`);
    }
    if (Number.isFinite(declared) && got !== declared) {
      throw new FlashUserError(`download of ${shown} was cut short (${got} of ${declared} bytes)`);
    }
    await fs.rename(tmp, dest);
  } finally {
    clearTimeout(timer);
    await fs.rm(tmp, { force: true });
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

export interface MaterializeOptions extends ExtractLimits, DownloadOptions {
  /** Default: cacheDir(env). */
  cacheDir?: string;
  /** Relative zip paths start here. Default process.cwd(). */
  cwd?: string;
  env?: Env;
}

/** True when `p` is a folder. */
async function isFolder(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Folder names that are a dataset's splits: never stepped into (the task reads them by name). */
const SPLIT_NAMES = new Set(['train', 'val', 'valid', 'validation', 'test', 'predict']);

/**
 * The folder holding the data: a single top-level folder in an archive (`dataset.zip` → `dataset/…`) is stepped
 * into, as often as it is the only visible entry and not a split folder (train/, val/, …).
 */
async function dataRoot(dir: string): Promise<string> {
  let current = dir;
  for (let i = 0; i < 4; i++) {
    const visible = (await fs.readdir(current, { withFileTypes: true })).filter((e) => !e.name.startsWith('.') && e.name !== '__MACOSX');
    if (visible.length !== 1 || !visible[0].isDirectory() || SPLIT_NAMES.has(visible[0].name.toLowerCase())) break;
    current = path.join(current, visible[0].name);
  }
  return current;
}

/**
 * Turns a zip path or an http(s) URL of a zip into a local folder: the URL is downloaded into
 * `<cache>/downloads/` (once per URL), the zip extracted into `<cache>/extracted/<sha256>` (once per content) and
 * that folder returned (stepping into a lone top-level folder). A path that is not an archive source is returned
 * resolved, untouched.
 */
export async function materializeDataset(source: string, opts: MaterializeOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const cache = opts.cacheDir ?? cacheDir(env);
  const cwd = opts.cwd ?? process.cwd();
  if (!isArchiveSource(source)) return path.resolve(cwd, source);
  let zip: string;
  if (isUrl(source)) {
    zip = path.join(cache, 'downloads', `${sha256Text(source)}.zip`);
    try {
      await fs.access(zip);
    } catch {
      await download(source, zip, opts);
    }
  } else {
    zip = path.resolve(cwd, source);
    if (await isFolder(zip)) return zip; // a folder that happens to be named *.zip
  }
  let digest: string;
  try {
    digest = await sha256File(zip);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`zip file '${source}' does not exist`);
    throw new FlashUserError(`zip file '${source}' cannot be read: ${(err as Error).message}`);
  }
  const target = path.join(cache, 'extracted', digest);
  if (!(await isFolder(target))) {
    opts.onProgress?.(`extracting ${isUrl(source) ? shownUrl(source) : source} into ${target}`);
    try {
      await extractZip(zip, target, resolveLimits(opts, env));
    } catch (err) {
      // A download that is no zip (an HTML error page, say) must not stay cached.
      if (isUrl(source)) await fs.rm(zip, { force: true });
      throw err;
    }
  }
  return dataRoot(target);
}
