import type * as tf from '@tensorflow/tfjs';
import type { LayerGroup } from './types.js';

const hasWeights = (l: tf.layers.Layer): boolean => l.weights.length > 0;

/**
 * Default layer groups: one per layer with weights, a BatchNormalization layer joining the group of the layer
 * before it (a conv and its BN unfreeze together). Layers without weights are left out (nothing to train).
 */
export function defaultLayerGroups(model: tf.LayersModel): LayerGroup[] {
  const groups: LayerGroup[] = [];
  for (const layer of model.layers) {
    if (!hasWeights(layer)) continue;
    const last = groups[groups.length - 1];
    if (layer.getClassName() === 'BatchNormalization' && last) last.layers.push(layer);
    else groups.push({ name: layer.name, layers: [layer] });
  }
  return groups;
}

/** Groups layers with weights by a name → group-name function, in order of first appearance. */
export function groupLayersBy(model: tf.LayersModel, groupOf: (layerName: string) => string): LayerGroup[] {
  const groups = new Map<string, LayerGroup>();
  for (const layer of model.layers) {
    if (!hasWeights(layer)) continue;
    const name = groupOf(layer.name);
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, layers: [] }));
    g.layers.push(layer);
  }
  return [...groups.values()];
}

/** MobileNetV2 (Keras names): stem, expanded_conv, block_1 … block_16, Conv_1 (the 1280-channel head conv). */
export function mobilenetV2Groups(model: tf.LayersModel): LayerGroup[] {
  return groupLayersBy(model, (n) => {
    const block = /^(block_\d+)_/.exec(n);
    if (block) return block[1];
    if (n.startsWith('expanded_conv')) return 'expanded_conv';
    if (n === 'Conv_1' || n === 'Conv_1_bn') return 'Conv_1';
    return 'stem';
  });
}

/** ResNet: the stem (conv1), then one group per residual block (conv2_block1 … conv5_blockN). */
export function resnetGroups(model: tf.LayersModel): LayerGroup[] {
  return groupLayersBy(model, (n) => /^(conv\d+_block\d+)_/.exec(n)?.[1] ?? 'stem');
}
