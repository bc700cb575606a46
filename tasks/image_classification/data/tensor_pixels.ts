/** Pixels from a caller's tensor (the TS API's in-memory images); apart from decode.ts, which needs no tfjs. */
import * as tf from '@tensorflow/tfjs';
import { FlashUserError } from '../../../src/core/errors.js';
import type { ImageSpec } from './decode.js';

/**
 * Converts a caller's [h, w, c] tensor (values 0–255, c = 1, 3 or 4) to raw HWC uint8 pixels of `spec`:
 * alpha is flattened onto white, channels converted, size changed with bilinear resize if it differs.
 * The caller's tensor is not disposed; no tensor is left behind.
 */
export function tensorToPixels(t: tf.Tensor, spec: ImageSpec, name = 'tensor'): Uint8Array {
  if (t.rank !== 3 || ![1, 3, 4].includes(t.shape[2]!)) {
    throw new FlashUserError(
      `image ${name} must be a tf.Tensor3D of shape [height, width, 1|3|4], got shape [${t.shape.join(', ')}]`,
    );
  }
  const out = tf.tidy(() => {
    let x = tf.cast(t as tf.Tensor3D, 'float32');
    const c = x.shape[2];
    if (c === 4) {
      const [rgb, alpha] = tf.split(x, [3, 1], 2) as [tf.Tensor3D, tf.Tensor3D];
      const a = tf.div(alpha, 255);
      x = tf.add(tf.mul(rgb, a), tf.mul(tf.sub(1, a), 255));
    }
    if (x.shape[2] === 1 && spec.channels === 3) x = tf.tile(x, [1, 1, 3]);
    if (x.shape[2] === 3 && spec.channels === 1) {
      x = tf.sum(tf.mul(x, tf.tensor1d([0.2126, 0.7152, 0.0722])), 2, true);
    }
    if (x.shape[0] !== spec.height || x.shape[1] !== spec.width) {
      x = tf.image.resizeBilinear(x, [spec.height, spec.width]);
    }
    return tf.round(tf.clipByValue(x, 0, 255));
  });
  try {
    return Uint8Array.from(out.dataSync());
  } finally {
    out.dispose();
  }
}
