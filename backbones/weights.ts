import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlashUserError } from '../src/core/errors.js';
import { loadLayersModel } from '../src/core/io/layers_model.js';
import type { BackboneSpec, WeightSource } from './types.js';

/** How pretrained weights are fetched and reported. */
export interface PretrainedOptions {
  /** Download cache; default $FLASH_CACHE_DIR, else $XDG_CACHE_HOME/flash, else ~/.cache/flash. */
  cacheDir?: string;
  /** Notes (download, cache hit, unverified checksum). */
  log?: (line: string) => void;
  /** Download progress of one file: bytes so far and the total when the server sent one. */
  progress?: (file: string, received: number, total: number | undefined) => void;
  /** Registered name of the backbone, for messages. */
  backboneName?: string;
  /** Base folder for relative paths; default the process's cwd. */
  cwd?: string;
}

/**
 * Adds to an error while fetching or loading registered weights that flash never verified: say so, and how to
 * go on. Other errors pass unchanged.
 */
export function noteUnverified(err: unknown, source: WeightSource | undefined): unknown {
  if (!(err instanceof FlashUserError) || !source?.unverified) return err;
  return new FlashUserError(
    `${err.message}. Note: these registered weights are unverified (${source.unverified}); any tfjs layers checkpoint of this architecture with Keras layer names loads with --model.pretrained <path> (its folder or model.json)`,
  );
}

/** The download cache folder. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLASH_CACHE_DIR) return resolve(env.FLASH_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'flash');
  return join(homedir(), '.cache', 'flash');
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function howToGoOn(what: string): string {
  return `${what}; to go on, train from scratch with --model.pretrained false, or download the weights yourself and give their folder or model.json with --model.pretrained <path>`;
}

/** Downloads one URL into memory, with clear errors for HTTP failures, unreachable hosts and cut connections. */
async function download(url: string, options: PretrainedOptions): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new FlashUserError(howToGoOn(`cannot download pretrained weights from ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new FlashUserError(howToGoOn(`cannot download pretrained weights: ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`));
  }
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    if (!res.body) throw new Error('empty response');
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      options.progress?.(url, received, total);
    }
  } catch (err) {
    throw new FlashUserError(
      howToGoOn(`the connection was cut while downloading ${url} (${received}${total ? ` of ${total}` : ''} bytes: ${(err as Error).message}); nothing was cached`),
    );
  }
  if (total !== undefined && received !== total) {
    throw new FlashUserError(howToGoOn(`the download of ${url} stopped at ${received} of ${total} bytes; nothing was cached`));
  }
  const out = new Uint8Array(received);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function verify(url: string, data: Uint8Array, expected: string | undefined, options: PretrainedOptions): void {
  const actual = sha256(data);
  if (expected === undefined) {
    options.log?.(`note: no sha256 registered for ${url}, so it was not verified (its sha256 is ${actual})`);
    return;
  }
  if (actual !== expected.toLowerCase()) {
    throw new FlashUserError(
      howToGoOn(`checksum mismatch for ${url}: expected sha256 ${expected}, got ${actual}; the download was discarded and nothing was cached`),
    );
  }
}

/** The cache folder of one URL: `<cache>/weights/<sha256(url)[:16]>`. */
export function cacheEntryFor(url: string, cacheDir: string): string {
  return join(cacheDir, 'weights', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Makes a tfjs layers model (model.json + weight shards) at `source.url` available locally and returns the
 * path of its model.json. Downloaded once: every file goes into a fresh temporary folder, is checked against
 * its registered sha256, and the folder is renamed into the cache only when complete, so a failed or cut
 * download leaves no cache entry. Later calls use the cache without the network.
 */
export async function fetchWeights(source: WeightSource, options: PretrainedOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const entry = cacheEntryFor(source.url, cacheDir);
  const cached = join(entry, 'model.json');
  if (await stat(join(entry, 'complete')).then(() => true, () => false)) {
    options.log?.(`pretrained weights: using the cached copy of ${source.url} (${entry})`);
    return cached;
  }
  options.log?.(`pretrained weights: downloading ${source.url} into ${entry}`);
  const tmp = `${entry}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(tmp, { recursive: true });
    const modelJson = await download(source.url, options);
    verify(source.url, modelJson, source.sha256, options);
    let parsed: tf.io.ModelJSON;
    try {
      parsed = JSON.parse(new TextDecoder().decode(modelJson)) as tf.io.ModelJSON;
    } catch {
      throw new FlashUserError(howToGoOn(`${source.url} is not a tfjs model.json (not JSON)`));
    }
    if (!parsed.modelTopology || !Array.isArray(parsed.weightsManifest)) {
      throw new FlashUserError(howToGoOn(`${source.url} is not a tfjs layers model.json (no modelTopology or weightsManifest)`));
    }
    await writeFile(join(tmp, 'model.json'), modelJson);
    for (const group of parsed.weightsManifest) {
      for (const p of group.paths) {
        if (p.includes('..') || p.startsWith('/')) throw new FlashUserError(howToGoOn(`${source.url} names an unsafe weights path '${p}'`));
        const url = new URL(p, source.url).toString();
        const data = await download(url, options);
        verify(url, data, source.shards?.[p], options);
        await mkdir(dirname(join(tmp, p)), { recursive: true });
        await writeFile(join(tmp, p), data);
      }
    }
    await writeFile(join(tmp, 'complete'), `${source.url}\n`);
    await mkdir(dirname(entry), { recursive: true });
    try {
      await rename(tmp, entry);
    } catch {
      // Another process finished the same download first (or a stale, incomplete folder is in the way).
      if (await stat(join(entry, 'complete')).then(() => true, () => false)) await rm(tmp, { recursive: true, force: true });
      else {
        await rm(entry, { recursive: true, force: true });
        await rename(tmp, entry);
      }
    }
    return cached;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Every layer of a model, nested models flattened, by name (the first of a name wins). */
function layersByName(model: tf.LayersModel, out = new Map<string, tf.layers.Layer>()): Map<string, tf.layers.Layer> {
  for (const layer of model.layers) {
    const nested = (layer as unknown as tf.LayersModel).layers;
    if (Array.isArray(nested)) layersByName(layer as unknown as tf.LayersModel, out);
    else if (layer.weights.length > 0 && !out.has(layer.name)) out.set(layer.name, layer);
  }
  return out;
}

/**
 * Copies the weights of `source` into `target` layer by layer, matched by name. Every target layer with
 * weights must find its match with the same shapes, except that RGB first-layer kernels are summed over the
 * colour axis for a grayscale input. Every layer is checked before any is written, so a refused checkpoint
 * leaves `target` as it was: never a partial load, never a layer left at its random init.
 */
export function copyWeightsByName(source: tf.LayersModel, target: tf.LayersModel, what: string): number {
  const src = layersByName(source);
  const missing: string[] = [];
  const plan: { layer: tf.layers.Layer; values: tf.Tensor[]; made: tf.Tensor[] }[] = [];
  try {
    for (const layer of target.layers) {
      if (layer.weights.length === 0) continue;
      const from = src.get(layer.name);
      if (!from) {
        missing.push(layer.name);
        continue;
      }
      const values = from.getWeights();
      const want = layer.weights.map((w) => w.shape as number[]);
      if (values.length !== want.length) throw new FlashUserError(`${what}: layer '${layer.name}' has ${values.length} weights, the backbone's has ${want.length}`);
      const step = { layer, values: [] as tf.Tensor[], made: [] as tf.Tensor[] };
      plan.push(step);
      values.forEach((v, i) => {
        if (tf.util.arraysEqual(v.shape, want[i])) return void step.values.push(v);
        const w = want[i];
        if (v.rank === 4 && w.length === 4 && v.shape[2] === 3 && w[2] === 1 && v.shape[0] === w[0] && v.shape[1] === w[1] && v.shape[3] === w[3]) {
          const summed = tf.sum(v, 2, true);
          step.made.push(summed);
          return void step.values.push(summed);
        }
        throw new FlashUserError(`${what}: layer '${layer.name}' weight ${i} has shape [${v.shape}], the backbone needs [${w}] — weights of another architecture or width?`);
      });
    }
    if (missing.length > 0) {
      throw new FlashUserError(
        `${what}: ${missing.length} backbone layer(s) have no weights there (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}); they are not weights for this backbone`,
      );
    }
    for (const { layer, values } of plan) layer.setWeights(values);
    return plan.length;
  } finally {
    tf.dispose(plan.flatMap((p) => p.made));
  }
}

/**
 * The weighted layers of a checkpoint that no layer of `target` took (by name): a classifier head the backbone
 * does not build, say. Sorted as the checkpoint lists them.
 */
export function ignoredCheckpointLayers(source: tf.LayersModel, target: tf.LayersModel): string[] {
  const taken = new Set(target.layers.filter((l) => l.weights.length > 0).map((l) => l.name));
  return [...layersByName(source).keys()].filter((name) => !taken.has(name));
}

/** How many names a log line lists before it gives the rest as a count. */
const LISTED = 8;

/**
 * The lines a load prints: how many layers were loaded from where and, when the checkpoint has weighted layers
 * the backbone has not, one line naming them (a long list truncated with a count), so a user sees what was left.
 */
export function describeLoad(loaded: number, label: string, ignored: readonly string[]): string[] {
  const lines = [`pretrained weights: loaded ${loaded} layers from ${label}`];
  if (ignored.length > 0) {
    const shown = ignored.slice(0, LISTED).join(', ');
    const more = ignored.length > LISTED ? ` and ${ignored.length - LISTED} more` : '';
    lines.push(`pretrained weights: ignored ${ignored.length} checkpoint layer(s) the backbone does not have: ${shown}${more}`);
  }
  return lines;
}

/** A pretrained checkpoint opened as a tfjs model (the caller disposes it) and the name to report it by. */
export interface OpenedCheckpoint {
  model: tf.LayersModel;
  label: string;
  /** The registered weight source it came from (true, or a registered URL); undefined for any other URL or path. */
  registered?: WeightSource;
}

/**
 * Opens `pretrained` (true = the spec's registered weights, a URL, or a local tfjs layers model folder or
 * model.json): downloads or finds it and loads it as a model. Any failure throws.
 */
export async function openPretrained(spec: BackboneSpec, pretrained: true | string, options: PretrainedOptions = {}): Promise<OpenedCheckpoint> {
  const name = options.backboneName ?? 'this backbone';
  let path: string;
  let label: string;
  let registered: WeightSource | undefined;
  if (pretrained === true) {
    registered = spec.weights?.[0];
    if (!registered) {
      throw new FlashUserError(
        `backbone '${name}' has no registered pretrained weights (flash list backbones shows which do); use --model.pretrained false, or give a URL or path of tfjs layers weights`,
      );
    }
    path = await fetchWeights(registered, options).catch((err: unknown) => Promise.reject(noteUnverified(err, registered)));
    label = registered.url;
  } else if (isUrl(pretrained)) {
    registered = spec.weights?.find((w) => w.url === pretrained);
    path = await fetchWeights(registered ?? { url: pretrained }, options).catch((err: unknown) => Promise.reject(noteUnverified(err, registered)));
    label = pretrained;
  } else {
    path = pretrained.startsWith('file://') ? fileURLToPath(pretrained) : resolve(options.cwd ?? process.cwd(), pretrained);
    label = pretrained;
    const exists = await stat(path).then(() => true, () => false);
    if (!exists) throw new FlashUserError(`--model.pretrained: '${pretrained}' does not exist (give a tfjs layers model folder or model.json, a URL, true or false)`);
  }
  const model = await loadLayersModel(path).catch((err: unknown) => Promise.reject(noteUnverified(err, registered)));
  return { model, label, ...(registered ? { registered } : {}) };
}

/**
 * Loads `pretrained` (see openPretrained) into `backbone`. Never leaves the backbone silently at random weights:
 * any failure throws, and a refused checkpoint writes nothing.
 */
export async function loadPretrainedWeights(backbone: tf.LayersModel, spec: BackboneSpec, pretrained: true | string, options: PretrainedOptions = {}): Promise<void> {
  const { model: source, label, registered } = await openPretrained(spec, pretrained, options);
  try {
    let n: number;
    try {
      n = copyWeightsByName(source, backbone, `pretrained weights '${label}'`);
    } catch (err) {
      throw noteUnverified(err, registered);
    }
    for (const line of describeLoad(n, label, ignoredCheckpointLayers(source, backbone))) options.log?.(line);
  } finally {
    source.dispose();
  }
}

/** Reads a recipe's `model.pretrained` string: 'true'/'false' → booleans, anything else a URL or path. */
export function parsePretrained(value: string | boolean | null | undefined): boolean | string {
  if (value === undefined || value === null || value === false || value === 'false' || value === '') return false;
  if (value === true || value === 'true') return true;
  return value;
}

/** For tests and tools: is there a complete cache entry for `url`? */
export async function isCached(url: string, cacheDir: string): Promise<boolean> {
  return stat(join(cacheEntryFor(url, cacheDir), 'complete')).then(() => true, () => false);
}

