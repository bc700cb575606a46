/**
 * How a text model reads a batch: its input layout (tokenizer.ts builds each) as the int32/float32 tensor the
 * network takes. A model spec names its layout; the data splits and predict batch texts in it.
 */
import * as tf from '@tensorflow/tfjs';
import { featureCount, toBag, toDense, toSequence, type EncodedText, type TokenizerState } from './tokenizer.js';

/**
 * `bag`: toBag (feature ids, padded); `sequence`: toSequence(…, tail) (word ids in order, padded); `dense`: toDense,
 * the normalised count vector that runs saved before the Embedding bag read (kept so they still predict).
 */
export type TextInput = { layout: 'bag' } | { layout: 'sequence'; tail: number } | { layout: 'dense' };

/** A batch of encoded texts in a layout, as a tensor. */
export function inputTensor(input: TextInput, state: TokenizerState, encoded: readonly EncodedText[]): tf.Tensor2D {
  if (input.layout === 'dense') return tf.tensor2d(toDense(state, encoded), [encoded.length, featureCount(state)]);
  const b = input.layout === 'bag' ? toBag(encoded) : toSequence(encoded, input.tail);
  return tf.tensor2d(b.ids, b.shape, 'int32');
}
