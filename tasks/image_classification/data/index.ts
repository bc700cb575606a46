/** The image data layer of the image_classification task: decoding, folder scanning, splits and the data module. */
export {
  decodeImage,
  imageChannels,
  isImageFile,
  ImageDecodeError,
  IMAGE_EXTENSIONS,
  type Channels,
  type ImageSpec,
} from './decode.js';
export { tensorToPixels } from './tensor_pixels.js';
export { listImageFiles, scanClassFolders } from './scan.js';
export { stratifiedSplit } from './split.js';
export { mulberry32, deriveSeed, Random } from './random.js';
export {
  ImageSplit,
  MemoryPixelStore,
  splitFromPixels,
  multiHotFrom,
  type MultiHot,
  type Batch,
  type BatchOptions,
  type DataSplit,
  type PixelStore,
} from './data_split.js';
export { ImageClassificationData } from './datamodule.js';
export {
  DEFAULT_IMAGE_SIZE,
  type DataOptions,
  type DatasetInput,
  type DatasetItem,
  type DatasetLike,
  type DatasetOptions,
  type FileOptions,
  type FolderOptions,
  type FileTarget,
  type MultiLabelMode,
  type Sample,
} from './options.js';
export { decodeFiles } from './decode_files.js';
export type { DataPlan } from './plan.js';
export { DiskPixelCache, DiskPixelStore, DISK_CACHE_FORMAT, type DiskCacheStats } from './disk_cache.js';
export { DecodedImage, isTfDataset } from './tf_dataset.js';
export { readCsv, readCsvRows, checkTargetFields, labelDelimiterOf, splitLabels, LABEL_DELIMITERS, type CsvOptions, type CsvRow } from './csv.js';
