/**
 * `fromDatasets` given a `tf.data.Dataset` of `{ image, label }` elements: the elements are read one at a time and
 * each image is turned into the model's input pixels (h×w×c uint8, the same conversion the array form uses) as it
 * arrives, so what stays in memory is the decoded split at the model's input size, never the dataset's tensors.
 * The trainer shuffles by index with a seed each epoch (and holds out a stratified val split), which a sequential
 * tf.data iterator cannot serve, so the converted pixels are kept (paths stay paths and can stream or use the disk
 * cache). Like `model.fitDataset`, each element's tensors are disposed once read: the dataset owns what it yields
 * (`tf.data.array` yields clones; a generator should yield fresh tensors).
 */
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import { imageChannels, type ImageSpec } from './decode.js';
import { tensorToPixels } from './tensor_pixels.js';

/** Pixels already decoded to a spec (a tf.data element's tensor, converted as it was read). */
export class DecodedImage {
  constructor(
    readonly pixels: Uint8Array,
    readonly spec: ImageSpec,
  ) {}
}

/** True for a tf.data.Dataset (duck-typed: another copy of tfjs makes `instanceof` unreliable). */
export function isTfDataset(x: unknown): x is tf.data.Dataset<tf.TensorContainer> {
  if (x instanceof tf.data.Dataset) return true;
  const d = x as { iterator?: unknown; forEachAsync?: unknown; batch?: unknown } | null;
  return typeof d === 'object' && d !== null && typeof d.iterator === 'function' && typeof d.forEachAsync === 'function' && typeof d.batch === 'function';
}

/** One element, checked: a path, Buffer or Tensor3D image and a class name or integer label. */
export interface TfElement {
  image: string | Buffer | tf.Tensor3D;
  label: string | number;
}

/** Reads a label that may be a number, a string, or a scalar / one-element tensor (int or string). */
function readLabel(label: unknown): unknown {
  if (!(label instanceof tf.Tensor)) return label;
  if (label.size !== 1) return label;
  const v = label.dataSync()[0] as unknown;
  return label.dtype === 'string' ? (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v)) : v;
}

function shapeText(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** Checks one element; a FlashUserError naming `what` and the element index otherwise. */
function checkElement(what: string, index: number, el: unknown): TfElement {
  const where = `${what} element ${index}`;
  if (el === null || typeof el !== 'object' || Array.isArray(el) || el instanceof tf.Tensor) {
    throw new FlashUserError(`${where} must be an object { image, label }`);
  }
  const item = el as Record<string, unknown>;
  if (!('image' in item) || item.image === undefined) throw new FlashUserError(`${where}: missing image`);
  if (!('label' in item) || item.label === undefined || item.label === null) throw new FlashUserError(`${where}: missing label`);
  // A plain Uint8Array of encoded bytes is taken as the array form takes it.
  const image = item.image instanceof Uint8Array && !Buffer.isBuffer(item.image) ? Buffer.from(item.image) : item.image;
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || ![1, 3, 4].includes(image.shape[2]!)) {
      throw new FlashUserError(`${where}: image must be a tf.Tensor3D of shape [height, width, 1|3|4], got shape ${shapeText(image)}`);
    }
  } else if (!(typeof image === 'string' || Buffer.isBuffer(image))) {
    throw new FlashUserError(`${where}: image must be a file path, a Buffer or a tf.Tensor3D`);
  }
  const label = readLabel(item.label);
  if (label instanceof tf.Tensor) {
    throw new FlashUserError(`${where}: label must be a class name or an integer index, got a tensor of shape ${shapeText(label)}`);
  }
  if (typeof label !== 'string' && !(typeof label === 'number' && Number.isInteger(label))) {
    throw new FlashUserError(`${where}: label must be a class name or an integer index, got ${JSON.stringify(label)}`);
  }
  return { image: image as TfElement['image'], label: typeof label === 'string' ? label.normalize('NFC') : label };
}

/** Runs `fn` on every element in order, disposing each element's tensors after it (as model.fitDataset does). */
async function forEachElement(
  ds: tf.data.Dataset<tf.TensorContainer>,
  what: string,
  fn: (el: TfElement, index: number) => Promise<void> | void,
): Promise<void> {
  const it = await ds.iterator();
  for (let i = 0; ; i++) {
    const r = await it.next();
    if (r.done) return;
    try {
      await fn(checkElement(what, i, r.value), i);
    } finally {
      tf.dispose(r.value as tf.TensorContainer);
    }
  }
}

/**
 * Pass 1 for `channels: 'auto'`: 1 when every image is stored single-channel (gray, or gray + alpha), else 3 —
 * the rule the array form and the folders use. Checks every element on the way (so a bad one fails here).
 */
export async function tfDatasetChannels(ds: tf.data.Dataset<tf.TensorContainer>, what: string): Promise<1 | 3> {
  let gray = true;
  let any = false;
  await forEachElement(ds, what, async (el) => {
    const c = el.image instanceof tf.Tensor ? el.image.shape[2] : await imageChannels(el.image);
    // Unreadable headers (undefined) don't vote: those files are reported when decoding.
    if (c === undefined) return;
    any = true;
    if (c !== 1 && c !== 2) gray = false;
  });
  return any && gray ? 1 : 3;
}

/** One element as the data module keeps it: tensors already converted to `spec` pixels, paths and Buffers as given. */
export interface CollectedElement {
  id: string;
  source: string | Buffer | DecodedImage;
  label: string | number;
}

/** Pass 2: reads every element, converting tensor images to `spec` pixels as they arrive (ids: the path or `#i`). */
export async function collectTfDataset(ds: tf.data.Dataset<tf.TensorContainer>, what: string, spec: ImageSpec): Promise<CollectedElement[]> {
  const out: CollectedElement[] = [];
  await forEachElement(ds, what, (el, i) => {
    const id = typeof el.image === 'string' ? el.image : `#${i}`;
    // A Buffer may be a view of memory the dataset reuses: copy it.
    const source =
      el.image instanceof tf.Tensor
        ? new DecodedImage(tensorToPixels(el.image, spec, `${what} element ${i}`), spec)
        : Buffer.isBuffer(el.image)
          ? Buffer.from(el.image)
          : el.image;
    out.push({ id, source, label: el.label });
  });
  return out;
}
