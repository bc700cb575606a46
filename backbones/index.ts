import { Registry } from '../src/core/registry.js';
import { simpleCnn } from './simple_cnn.js';
import { mobilenetV2_035, mobilenetV2_050, mobilenetV2_075, mobilenetV2_100 } from './mobilenet_v2.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { efficientNetLite0 } from './efficientnet_lite.js';
import { defaultLayerGroups, mobilenetV2Groups, resnetGroups } from './groups.js';
import type { BackboneSpec, LayerGroup, WeightSource } from './types.js';
import type * as tf from '@tensorflow/tfjs';

export type { BackboneSpec, BackboneBuildOptions, Normalization, LayerGroup, WeightSource } from './types.js';
export { defaultLayerGroups, groupLayersBy, mobilenetV2Groups, resnetGroups } from './groups.js';

/**
 * Keras MobileNetV2 ImageNet weights (include_top=False) in tfjs layers format, as Teachable Machine
 * (tfjs-models/teachablemachine) publishes them: same layer names as `buildMobileNetV2`, inputs in [-1, 1].
 * No sha256 is registered (none is published and flash could not fetch them to compute one), so downloads are
 * not checksum-verified; flash says so when it downloads them.
 */
function teachableMachine(alpha: string): WeightSource[] {
  return [
    {
      url: `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha}_224_no_top/model.json`,
      normalization: { mean: [0.5], std: [0.5] },
      note: 'Keras ImageNet weights via Teachable Machine (224 px, inputs in [-1, 1])',
    },
  ];
}

/** Adds layer groups (and weight sources) to a family's spec without changing the family's file. */
function withGroups(spec: BackboneSpec, layerGroups: (m: tf.LayersModel) => LayerGroup[], weights?: WeightSource[]): BackboneSpec {
  return { ...spec, layerGroups, ...(weights ? { weights } : {}) };
}

/** Every architecture flash can build. One file per family, one `register` line here. */
export const backbones = new Registry<BackboneSpec>('backbone');
const reg = (name: string, spec: BackboneSpec) => backbones.register(name, spec, spec.description);
reg('simple_cnn', withGroups(simpleCnn, defaultLayerGroups));
reg('mobilenet_v2_035', withGroups(mobilenetV2_035, mobilenetV2Groups, teachableMachine('0.35')));
reg('mobilenet_v2_050', withGroups(mobilenetV2_050, mobilenetV2Groups, teachableMachine('0.50')));
reg('mobilenet_v2_075', withGroups(mobilenetV2_075, mobilenetV2Groups, teachableMachine('0.75')));
reg('mobilenet_v2_100', withGroups(mobilenetV2_100, mobilenetV2Groups, teachableMachine('1.00')));
reg('resnet18', withGroups(resnet18, resnetGroups));
reg('resnet34', withGroups(resnet34, resnetGroups));
reg('resnet50', withGroups(resnet50, resnetGroups));
reg('efficientnet_lite0', efficientNetLite0);

/** The layer groups of a built backbone: the spec's own, or one per layer with weights. */
export function layerGroupsOf(spec: BackboneSpec, model: tf.LayersModel): LayerGroup[] {
  return (spec.layerGroups ?? defaultLayerGroups)(model);
}
