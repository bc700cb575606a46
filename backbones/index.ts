import { Registry } from '../src/core/registry.js';
import { simpleCnn } from './simple_cnn.js';
import { mobilenetV2_035, mobilenetV2_050, mobilenetV2_075, mobilenetV2_100 } from './mobilenet_v2.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { efficientNetLite0 } from './efficientnet_lite.js';
import { defaultLayerGroups, mobilenetV2Groups, resnetGroups } from './groups.js';
import { withInputSizeCheck } from './min_size.js';
import type { BackboneSpec, LayerGroup, WeightSource } from './types.js';
import type * as tf from '@tensorflow/tfjs';

export type { BackboneSpec, BackboneBuildOptions, Normalization, LayerGroup, WeightSource } from './types.js';
export { defaultLayerGroups, groupLayersBy, mobilenetV2Groups, resnetGroups } from './groups.js';

/**
 * Keras MobileNetV2 ImageNet weights (include_top=False) in tfjs layers format, as Teachable Machine
 * (tfjs-models/teachablemachine) publishes them, inputs in [-1, 1]. Unverified: flash could not fetch them from
 * its build machines, so no sha256 is registered and their layer names were never compared with
 * `buildMobileNetV2`'s. (The builder itself is checked against a real Keras-applications MobileNetV2 checkpoint,
 * nsfwjs's, in test/backbones/pretrained_checkpoint.test.ts: all 104 layers by name, same features.)
 */
function teachableMachine(alpha: string): WeightSource[] {
  return [
    {
      url: `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha}_224_no_top/model.json`,
      normalization: { mean: [0.5], std: [0.5] },
      note: 'Keras ImageNet weights via Teachable Machine (224 px, inputs in [-1, 1])',
      unverified: 'flash has never downloaded them, so no sha256 is registered and their layer names were never checked against this backbone',
    },
  ];
}

/** Adds layer groups (and weight sources) to a family's spec without changing the family's file. */
function withGroups(spec: BackboneSpec, layerGroups: (m: tf.LayersModel) => LayerGroup[], weights?: WeightSource[]): BackboneSpec {
  return { ...spec, layerGroups, ...(weights ? { weights } : {}) };
}

/**
 * Weights (trainable + BatchNorm statistics) at the default input size, 3 channels (simple_cnn: 1), measured
 * with countParams(); listed rather than built at startup.
 */
export const LISTED_WEIGHTS: Record<string, number> = {
  simple_cnn: 18_816, // the conv body; its default head adds dense 128 (401,536 at 28 px) and the classifier
  mobilenet_v2_035: 410_208,
  mobilenet_v2_050: 706_224,
  mobilenet_v2_075: 1_382_064,
  mobilenet_v2_100: 2_257_984,
  resnet18: 11_186_112,
  resnet34: 21_301_696,
  resnet50: 23_561_152,
  efficientnet_lite0: 3_413_024,
};

const human = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`);

/** The line `flash list backbones` shows: what it is, default size, weight count, pretrained weights. */
export function backboneSummary(name: string, spec: BackboneSpec): string {
  const w = spec.weights?.[0];
  const pretrained = !w
    ? 'pretrained: none published in tfjs layers format'
    : w.unverified
      ? `pretrained: ${w.note ?? w.url}, unverified (${w.unverified}); if they fail to load, give a tfjs layers checkpoint with Keras layer names: --model.pretrained <path>`
      : `pretrained: ${w.note ?? w.url}${w.sha256 ? '' : ', no sha256 registered'}`;
  const params = LISTED_WEIGHTS[name] !== undefined ? ` · ${human(LISTED_WEIGHTS[name])} weights` : '';
  return `${spec.description} · ${spec.defaultImageSize} px${params} · ${pretrained}`;
}

/** Every architecture flash can build. One file per family, one `register` line here. */
export const backbones = new Registry<BackboneSpec>('backbone');
// Every registered backbone refuses an input size it can't take (see min_size.ts) rather than crash the engine.
const reg = (name: string, spec: BackboneSpec) => backbones.register(name, withInputSizeCheck(name, spec), backboneSummary(name, spec));
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
