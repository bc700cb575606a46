/**
 * The cache-mode choice of a build (DataOptions.cache): keep decoded pixels in memory, decode on the fly, or use
 * the disk cache, and the reason printed in the data summary.
 */
import type { ImageSpec } from './decode.js';
import type { DiskCacheStats, DiskPixelCache } from './disk_cache.js';

/** Which pixel store a build asks for (see DataOptions.cache). */
export type DataCache = 'memory' | 'none' | 'disk' | 'auto';

/** With cache 'auto', decoded pixels up to this many bytes are kept in memory (512 MiB). */
export const CACHE_MEMORY_BUDGET = 512 * 1024 * 1024;

/** Which pixel store a data module chose and why (printed in its summary). */
export interface CacheChoice {
  mode: 'memory' | 'none' | 'disk';
  reason: string;
  /** With 'disk': entries reused, images decoded and entries written while building (the epochs add to them). */
  disk?: DiskCacheStats;
}

/** MiB with one decimal place at most ("12.3 MiB"); KiB below 1 MiB. */
function mib(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** The disk cache's part of the summary: what the build reused and wrote, or why writing stopped. */
export function diskOutcome(cache: CacheChoice, disk: DiskPixelCache): CacheChoice {
  const { hits, decoded, written } = disk.stats;
  const did = `${hits} reused, ${decoded} decoded, ${written} written in '${disk.dir}'`;
  if (disk.writeFailure !== undefined) {
    return { mode: 'none', reason: `disk cache failed (${disk.writeFailure}); ${did}; images without an entry are decoded on the fly`, disk: disk.stats };
  }
  return { ...cache, reason: `${cache.reason}; ${did}`, disk: disk.stats };
}

/**
 * The samples of a plan's splits, as far as the choice looks at them; structural, since plan.ts and options.ts
 * import this module and it must import neither (no cycle).
 */
export interface PlanSources {
  train: readonly { source: unknown }[];
  val?: readonly { source: unknown }[];
  test?: readonly { source: unknown }[];
}

/**
 * The pixel store for a build: memory, none (streaming from the files) or disk as asked; 'auto' keeps pixels in
 * memory when all splits' decoded pixels fit in CACHE_MEMORY_BUDGET, else uses the disk cache. Streaming and the
 * disk cache need every image to be a file path.
 */
export function chooseCache(asked: DataCache, plan: PlanSources, spec: ImageSpec, budget: number): CacheChoice {
  const all = [...plan.train, ...(plan.val ?? []), ...(plan.test ?? [])];
  const bytes = all.length * spec.height * spec.width * spec.channels;
  const size = `${all.length} images × ${spec.height}×${spec.width}×${spec.channels} = ${mib(bytes)}`;
  const paths = all.every((s) => typeof s.source === 'string');
  if (asked === 'memory') return { mode: 'memory', reason: `asked; ${size}` };
  if (!paths) {
    const but = asked === 'none' || asked === 'disk' ? `'${asked}' asked, but ` : '';
    return { mode: 'memory', reason: `${but}some images are buffers or tensors, not files; ${size}` };
  }
  if (asked === 'none') return { mode: 'none', reason: `asked; decoded on the fly instead of ${size}` };
  if (asked === 'disk') return { mode: 'disk', reason: `asked; ${size} decoded once, read back from disk` };
  return bytes <= budget
    ? { mode: 'memory', reason: `auto: ${size} fits the ${mib(budget)} budget` }
    : { mode: 'disk', reason: `auto: ${size} is over the ${mib(budget)} budget; decoded once, read back from disk` };
}
