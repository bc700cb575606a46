/**
 * `--data.cache disk`: decoded, resized (pre-augmentation) pixels stored once per image file under the flash
 * cache folder, so later epochs and later runs read raw bytes instead of decoding PNG/JPEG again.
 *
 * Layout: `<cache>/decoded/v<FORMAT>-<h>x<w>x<c>-<resize>/<k0k1>/<key>.px`, one file per image holding exactly
 * h×w×c bytes (raw HWC uint8, what decodeImage returns). The key is a sha256 of the image's absolute path, size,
 * mtime, ctime and inode (nanoseconds) plus the spec and resize mode: rewriting, touching or replacing a file
 * changes it, so a changed file never meets a stale entry; the spec in the key (and folder) keeps a different
 * image size, channel count or resize mode apart. Entries are written to a temp file in the same folder and
 * renamed into place, so a reader sees a whole entry or none; a short entry (some other writer's bug, a truncated
 * copy) is treated as missing and rewritten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, promises as fs, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeImage, pixelCount, type ImageSpec } from './decode.js';
import { StreamingPixelStore, type StreamingStoreOptions } from './streaming_store.js';

/** Bump when decodeImage's output for the same file and spec changes (a new resize kernel, say). */
export const DISK_CACHE_FORMAT = 1;
/** The resize decodeImage does (sharp fit 'fill', flatten on white); part of the key. */
export const RESIZE_MODE = 'fill';

/** What happened to the cache so far (the summary prints it; tests count decodes with it). */
export interface DiskCacheStats {
  /** Entries found and read instead of decoding. */
  hits: number;
  /** Images decoded because no usable entry existed. */
  decoded: number;
  /** Entries written. */
  written: number;
}

export interface DiskCacheOptions {
  /** flash's cache folder (FLASH_CACHE_DIR, …): entries go under `<root>/decoded/`. */
  root: string;
  spec: ImageSpec;
  /** The decoder (tests count calls through it); default decodeImage(file, spec). */
  decode?: (file: string, spec: ImageSpec) => Promise<Uint8Array>;
  /** Told once, when writing stops working (full disk, read-only folder); the cache then only reads. */
  onWriteFailure?: (message: string) => void;
}

/** An errno code and message in one short phrase ("ENOSPC: no space left on device"). */
function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const msg = (e?.message ?? String(err)).split('\n')[0];
  return e?.code && !msg.startsWith(e.code) ? `${e.code}: ${msg}` : msg;
}

/**
 * The decoded-pixel cache for one spec. `open` checks the folder is writable (probe file written and renamed)
 * and returns a reason string instead when it is not. `load` returns an image's pixels from its entry, or decodes
 * it and writes the entry; a failing write turns writing off (one message through onWriteFailure) and the pixels
 * are still returned, so a run never fails mid-epoch because of the cache.
 */
export class DiskPixelCache {
  readonly stats: DiskCacheStats = { hits: 0, decoded: 0, written: 0 };
  private writeError?: string;
  private readonly decode: (file: string, spec: ImageSpec) => Promise<Uint8Array>;
  private readonly keys = new Map<string, Promise<string>>();
  /** Entry sub-folders known to exist (one mkdir each per run). */
  private readonly made = new Set<string>();
  private readonly bytes: number;

  private constructor(
    /** The folder of this spec's entries. */
    readonly dir: string,
    readonly spec: ImageSpec,
    private readonly opts: DiskCacheOptions,
  ) {
    this.decode = opts.decode ?? ((file, s) => decodeImage(file, s));
    this.bytes = pixelCount(spec);
  }

  /** The folder entries of `spec` live in under `root`. */
  static folder(root: string, spec: ImageSpec): string {
    return path.join(root, 'decoded', `v${DISK_CACHE_FORMAT}-${spec.height}x${spec.width}x${spec.channels}-${RESIZE_MODE}`);
  }

  /** Opens (creating) the cache folder; a string says why it can't be used (not writable, full). */
  static async open(opts: DiskCacheOptions): Promise<DiskPixelCache | string> {
    const dir = DiskPixelCache.folder(opts.root, opts.spec);
    const probe = path.join(dir, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(probe, 'flash');
      await fs.rename(probe, `${probe}.done`);
      await fs.rm(`${probe}.done`, { force: true });
    } catch (err) {
      await fs.rm(probe, { force: true }).catch(() => undefined);
      return `cannot write to the cache folder '${dir}' (${errnoText(err)})`;
    }
    return new DiskPixelCache(dir, opts.spec, opts);
  }

  /** Why writing stopped, if it did (entries already written stay usable). */
  get writeFailure(): string | undefined {
    return this.writeError;
  }

  /** The entry key of an image file: path, size, mtime, ctime, inode and the spec (see the module comment). */
  keyOf(file: string): Promise<string> {
    let key = this.keys.get(file);
    if (key === undefined) {
      key = (async () => {
        const abs = path.resolve(file);
        const st = await fs.stat(abs, { bigint: true });
        const { height, width, channels } = this.spec;
        return createHash('sha256')
          .update([DISK_CACHE_FORMAT, RESIZE_MODE, height, width, channels, abs, st.size, st.mtimeNs, st.ctimeNs, st.ino, st.dev].join('\0'))
          .digest('hex');
      })();
      // Memoised for the run: the same file is keyed once (val/test share nothing, but an epoch reads each many times).
      this.keys.set(file, key);
      key.catch(() => this.keys.delete(file));
    }
    return key;
  }

  /** The path of an entry. */
  entryPath(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.px`);
  }

  /**
   * The entry's pixels, or undefined when there is none usable (missing, short, unreadable). Read synchronously
   * on purpose: an async readFile is four thread-pool round trips (open, stat, read, close) and each needs the
   * main thread, which a training step (synchronous wasm) holds, so async reads crawl one step per batch instead
   * of overlapping it; a page-cached entry reads in microseconds.
   */
  read(key: string): Uint8Array | undefined {
    try {
      const buf = readFileSync(this.entryPath(key));
      if (buf.byteLength !== this.bytes) return undefined;
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return undefined;
    }
  }

  /**
   * Writes an entry atomically: a temp file in the entry's folder, then rename (same filesystem, so readers see
   * the old state or the whole entry). On failure the temp file is removed and writing is turned off. Synchronous
   * for the reason `read` is (three async calls per entry took the build of 20,000 entries from ~30 s to ~50 s).
   */
  write(key: string, pixels: Uint8Array): boolean {
    if (this.writeError !== undefined) return false;
    const target = this.entryPath(key);
    const folder = path.dirname(target);
    const tmp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      if (!this.made.has(folder)) {
        mkdirSync(folder, { recursive: true });
        this.made.add(folder);
      }
      writeFileSync(tmp, pixels);
      renameSync(tmp, target);
      this.stats.written++;
      return true;
    } catch (err) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing more to do: the temp name is unique and never read.
      }
      if (this.writeError === undefined) {
        this.writeError = `cannot write to the cache folder '${this.dir}' (${errnoText(err)})`;
        this.opts.onWriteFailure?.(this.writeError);
      }
      return false;
    }
  }

  /**
   * An image's pixels: its entry when there is one, else decoded (errors of the decoder propagate: an
   * undecodable file is the caller's business) and written for next time.
   */
  async load(file: string): Promise<Uint8Array> {
    let key: string | undefined;
    try {
      key = await this.keyOf(file);
    } catch {
      // The file can't be stat'ed: let the decoder report it in its own words.
    }
    if (key !== undefined) {
      const hit = this.read(key);
      if (hit) {
        this.stats.hits++;
        return hit;
      }
    }
    const pixels = await this.decode(file, this.spec);
    this.stats.decoded++;
    if (key !== undefined) this.write(key, pixels);
    return pixels;
  }
}

/**
 * A split's pixels read from a DiskPixelCache with the streaming store's bounded read-ahead: only the window
 * ahead of the current sample (128 by default) is in memory. Entry reads are synchronous (see
 * DiskPixelCache.read), so the window refills between steps in well under a millisecond per batch. An entry that
 * went missing is decoded and rewritten (never a failure mid-epoch for the cache's sake).
 */
export class DiskPixelStore extends StreamingPixelStore {
  constructor(files: string[], cache: DiskPixelCache, opts: Omit<StreamingStoreOptions, 'decode'> = {}) {
    super(files, cache.spec, {
      readAhead: opts.readAhead ?? 128,
      concurrency: opts.concurrency,
      decode: (file) => cache.load(file),
    });
  }
}
