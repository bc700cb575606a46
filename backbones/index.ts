import { Registry } from '../src/core/registry.js';
import { simpleCnn } from './simple_cnn.js';
import { mobilenetV2_035, mobilenetV2_050, mobilenetV2_075, mobilenetV2_100 } from './mobilenet_v2.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import type { BackboneSpec } from './types.js';

export type { BackboneSpec, BackboneBuildOptions, Normalization } from './types.js';

/** Every architecture flash can build. One file per family, one `register` line here. */
export const backbones = new Registry<BackboneSpec>('backbone');
backbones.register('simple_cnn', simpleCnn, simpleCnn.description);
backbones.register('mobilenet_v2_035', mobilenetV2_035, mobilenetV2_035.description);
backbones.register('mobilenet_v2_050', mobilenetV2_050, mobilenetV2_050.description);
backbones.register('mobilenet_v2_075', mobilenetV2_075, mobilenetV2_075.description);
backbones.register('mobilenet_v2_100', mobilenetV2_100, mobilenetV2_100.description);
backbones.register('resnet18', resnet18, resnet18.description);
backbones.register('resnet34', resnet34, resnet34.description);
backbones.register('resnet50', resnet50, resnet50.description);
