/**
 * Inference-time BatchNorm folding: a Conv2D or DepthwiseConv2D (no activation) whose output feeds only a
 * BatchNormalization over the channel axis becomes one conv with folded weights and a bias,
 *   a = γ / sqrt(σ² + ε),  W' = W·a (per output channel),  b' = (b − μ)·a + β,
 * and the BatchNormalization disappears. Nested models (a backbone inside a classifier) are folded
 * recursively. MobileNetV2 at inference spends over half its time in FusedBatchNorm on stock tfjs wasm.
 *
 * The returned model is for predict/evaluate/export only: it shares the weights of every layer it did not
 * fold with `model` (so keep `model` alive while using it) and must not be trained (folded BN has no batch
 * statistics). Works on any backend.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;
interface NodeLike {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
  callArgs?: Record<string, unknown>;
  outboundLayer: Layer;
}
interface LayerInternals {
  inboundNodes: NodeLike[];
  getClassName(): string;
  getConfig(): Record<string, unknown>;
}
interface ModelInternals {
  containerNodes: Set<string>;
}
type LayerClass = { fromConfig(cls: unknown, config: Record<string, unknown>): Layer };

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D']);

function isModel(layer: Layer): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

/** This layer's node that belongs to `model`'s graph. */
function nodeIn(model: tf.LayersModel, layer: Layer): NodeLike {
  const nodes = (layer as unknown as LayerInternals).inboundNodes;
  const keys = (model as unknown as ModelInternals).containerNodes;
  for (let i = 0; i < nodes.length; i++) if (keys.has(`${layer.name}_ib-${i}`)) return nodes[i];
  throw new Error(`foldBatchNorm: layer ${layer.name} has no node in model ${model.name}`);
}

function countBatchNorms(model: tf.LayersModel): number {
  let n = 0;
  for (const l of model.layers) n += isModel(l) ? countBatchNorms(l) : (l as unknown as LayerInternals).getClassName() === 'BatchNormalization' ? 1 : 0;
  return n;
}

/** Returns an inference copy of `model` with every Conv→BatchNorm pair folded into one conv. */
export function foldBatchNorm(model: tf.LayersModel): tf.LayersModel {
  if (countBatchNorms(model) === 0) return model;
  const nodes = new Map<Layer, NodeLike>();
  const consumers = new Map<number, Layer[]>(); // symbolic tensor id -> consuming layers
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = nodeIn(model, layer);
    nodes.set(layer, node);
    for (const t of node.inputTensors) consumers.set(t.id, [...(consumers.get(t.id) ?? []), layer]);
  }
  for (const t of model.outputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), model]);

  const mapped = new Map<number, tf.SymbolicTensor>();
  const newInputs = model.inputs.map((t) => {
    const input = tf.input({ shape: t.shape.slice(1) as number[], dtype: t.dtype, name: t.name.replace(/[:/].*$/, '') });
    mapped.set(t.id, input);
    return input;
  });
  const skipped = new Set<Layer>();

  for (const layer of model.layers) {
    const node = nodes.get(layer);
    if (!node || skipped.has(layer)) continue;
    const inputs = node.inputTensors.map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`foldBatchNorm: ${layer.name} runs before its input ${t.name}`);
      return m;
    });
    const arg = inputs.length === 1 ? inputs[0] : inputs;
    const className = (layer as unknown as LayerInternals).getClassName();
    const next = consumers.get(node.outputTensors[0].id) ?? [];
    const bn = next.length === 1 ? next[0] : undefined;
    const config = (layer as unknown as LayerInternals).getConfig();
    const bnConfig = bn && bn !== (model as Layer) ? (bn as unknown as LayerInternals).getConfig() : undefined;
    const bnAxis = bnConfig ? (bnConfig.axis as number) : undefined;
    const rank = node.outputTensors[0].shape.length;
    if (FOLDABLE.has(className) && bn && bnConfig && (bn as unknown as LayerInternals).getClassName() === 'BatchNormalization' &&
        (config.activation ?? 'linear') === 'linear' && (bnAxis === -1 || bnAxis === rank - 1)) {
      const out = foldPair(layer, bn, config, bnConfig, arg as tf.SymbolicTensor);
      mapped.set(nodes.get(bn)!.outputTensors[0].id, out);
      skipped.add(bn);
      continue;
    }
    const target = isModel(layer) ? foldBatchNorm(layer) : layer;
    const result = target.apply(arg, node.callArgs ?? {}) as tf.SymbolicTensor | tf.SymbolicTensor[];
    const outs = Array.isArray(result) ? result : [result];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]));
  }
  const outputs = model.outputs.map((t) => mapped.get(t.id)!);
  return tf.model({ inputs: newInputs, outputs: outputs.length === 1 ? outputs[0] : outputs, name: model.name });
}

function foldPair(conv: Layer, bn: Layer, config: Record<string, unknown>, bnConfig: Record<string, unknown>, input: tf.SymbolicTensor): tf.SymbolicTensor {
  const className = (conv as unknown as LayerInternals).getClassName();
  const convWeights = conv.getWeights();
  const kernel = convWeights[0];
  const bias = config.useBias ? convWeights[1] : undefined;
  const bnWeights = bn.getWeights();
  let i = 0;
  const gamma = bnConfig.scale ? bnWeights[i++] : undefined;
  const beta = bnConfig.center ? bnWeights[i++] : undefined;
  const movingMean = bnWeights[i++];
  const movingVar = bnWeights[i++];
  const eps = bnConfig.epsilon as number;
  const [newKernel, newBias] = tf.tidy(() => {
    let a = tf.rsqrt(movingVar.add(eps));
    if (gamma) a = a.mul(gamma);
    const k = className === 'DepthwiseConv2D'
      ? kernel.reshape([kernel.shape[0] as number, kernel.shape[1] as number, -1]).mul(a).reshape(kernel.shape)
      : kernel.mul(a);
    let b = (bias ?? tf.zerosLike(movingMean)).sub(movingMean).mul(a);
    if (beta) b = b.add(beta);
    return [k, b];
  });
  const cls = conv.constructor as unknown as LayerClass;
  const folded = cls.fromConfig(cls, { ...config, useBias: true, name: conv.name, trainable: false });
  const out = folded.apply(input) as tf.SymbolicTensor;
  folded.setWeights([newKernel, newBias]);
  tf.dispose([newKernel, newBias]);
  return out;
}
