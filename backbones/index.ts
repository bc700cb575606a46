import { Registry } from '../src/core/registry.js';
import { simpleCnn } from './simple_cnn.js';
import type { BackboneSpec } from './types.js';

export type { BackboneSpec, BackboneBuildOptions, Normalization } from './types.js';

/** Every architecture flash can build. One file per family, one `register` line here. */
export const backbones = new Registry<BackboneSpec>('backbone');
backbones.register('simple_cnn', simpleCnn, simpleCnn.description);
