/** Data sources shared by every task: zip files and URLs of zips, downloaded and extracted safely into the cache. */
export { extractZip, resolveLimits, safeEntryPath, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_BYTES, type ExtractLimits } from './zip.js';
export {
  cacheDir,
  download,
  isArchiveSource,
  isUrl,
  materializeDataset,
  sha256File,
  type DownloadOptions,
  type MaterializeOptions,
} from './remote.js';
