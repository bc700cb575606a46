/**
 * Input sizes a backbone can take. Strided convs and pools shrink the image; below some size a layer's output
 * has a zero (or negative) side, tfjs builds the model anyway, and the first forward pass reads out of bounds
 * inside the wasm engine. A size is refused when the backbone is built, with the smallest size that works.
 */
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../src/core/errors.js';
import type { BackboneBuildOptions, BackboneSpec } from './types.js';

/** The first layer (nested models included) whose output shape has a side < 1, or undefined when all are ≥ 1. */
export function emptyOutputLayer(model: tf.LayersModel): { layer: string; shape: (number | null)[] } | undefined {
  for (const layer of model.layers) {
    const nested = (layer as unknown as { layers?: unknown }).layers;
    if (Array.isArray(nested)) {
      const inner = emptyOutputLayer(layer as unknown as tf.LayersModel);
      if (inner) return { layer: `${layer.name}/${inner.layer}`, shape: inner.shape };
    }
    const out = layer.outputShape as (number | null)[] | (number | null)[][];
    const shapes = (Array.isArray(out[0]) ? out : [out]) as (number | null)[][];
    for (const shape of shapes) if (shape.some((d) => d !== null && !(d >= 1))) return { layer: layer.name, shape };
  }
  return undefined;
}

/** True when `spec` builds at side × side with `channels` and no layer's output is empty (the model is freed). */
function fits(spec: BackboneSpec, side: number, channels: number): boolean {
  let model: tf.LayersModel | undefined;
  try {
    model = spec.build({ inputShape: [side, side, channels], name: 'probe' });
    return emptyOutputLayer(model) === undefined;
  } catch {
    return false;
  } finally {
    if (model) tf.dispose(model.weights.map((w) => w.read()));
  }
}

const smallest = new Map<string, number | undefined>();

/**
 * The smallest square side `spec` takes with `channels` (searched up to its default size; sizes only shrink
 * outputs, so a bisection works), or undefined when even the default size fails. Cached per name and channels.
 */
export function minImageSize(name: string, spec: BackboneSpec, channels: number): number | undefined {
  const key = `${name}:${channels}`;
  if (smallest.has(key)) return smallest.get(key);
  let hi = Math.max(1, spec.defaultImageSize);
  while (!fits(spec, hi, channels) && hi < 4096) hi *= 2;
  let found: number | undefined;
  if (fits(spec, hi, channels)) {
    let lo = 0; // lo fails (0 always does), hi fits
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(spec, mid, channels)) hi = mid;
      else lo = mid;
    }
    found = hi;
  }
  smallest.set(key, found);
  return found;
}

/**
 * `spec` whose build refuses an input it can't take — a user error giving the smallest size it accepts — instead
 * of returning a model that crashes the engine on its first batch.
 */
export function withInputSizeCheck(name: string, spec: BackboneSpec): BackboneSpec {
  return {
    ...spec,
    build(options: BackboneBuildOptions): tf.LayersModel {
      const model = spec.build(options);
      const empty = emptyOutputLayer(model);
      if (!empty) return model;
      tf.dispose(model.weights.map((w) => w.read()));
      const [h, w, c] = options.inputShape;
      const min = minImageSize(name, spec, c);
      const shape = `[${empty.shape.map((d) => (d === null ? 'batch' : d)).join(', ')}]`;
      throw new FlashUserError(
        `backbone '${name}' cannot take ${h}×${w} images (its layer '${empty.layer}' would output ${shape}); ` +
          (min !== undefined ? `the smallest size it accepts is ${min}×${min}: set --data.image_size ${min} or more` : 'give a larger --data.image_size'),
      );
    },
  };
}
