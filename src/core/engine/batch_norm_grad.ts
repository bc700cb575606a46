/**
 * Fused BatchNorm backward for the wasm backend.
 *
 * tfjs's FusedBatchNorm gradient builds ~15 full-size temporaries (and a `Tile` of 1/sqrt(var) to the
 * input's shape, ~20% of a MobileNetV2 training step on wasm). This registers one kernel,
 * `FlashFusedBatchNormGrad` (wasm only), that computes all five partials in one pass over x and dy, and
 * wraps the FusedBatchNorm gradient so that on wasm it calls that kernel; on every other backend (and for
 * shapes it does not handle) it defers to tfjs's own gradient, unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, sizeOf, withScratch, type WasmBackendLike } from './native.js';

export const FUSED_BN_GRAD = 'FlashFusedBatchNormGrad';

function fusedBatchNormGrad(args: {
  inputs: { x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo };
  backend: unknown;
  attrs: NamedAttrMap;
}): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { x, dy, mean, variance, scale } = args.inputs;
  const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
  const C = x.shape[x.shape.length - 1];
  const N = sizeOf(x.shape) / C;
  const dx = backend.makeOutput(x.shape, 'float32');
  const outs = [0, 1, 2, 3].map(() => backend.makeOutput([C], 'float32'));
  withScratch(backend, 2 * C, (scratch) =>
    engineFor(backend).batch_norm_grad(ptr(backend, x), ptr(backend, dy), ptr(backend, mean), ptr(backend, variance),
      scale ? ptr(backend, scale) : 0, scale ? 1 : 0, N, C, eps, ptr(backend, dx), ptr(backend, outs[0]),
      ptr(backend, outs[1]), ptr(backend, outs[2]), ptr(backend, outs[3]), scratch));
  return [dx, ...outs];
}

/** FusedBatchNorm forward: one pass, y = x·a[c] + b[c]. Parameters of other shapes go to the stock kernel. */
export function makeFusedBatchNormConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo; offset?: TensorInfo };
    backend: unknown; attrs: NamedAttrMap;
  }): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x, mean, variance, scale, offset } = args.inputs;
    const C = x.shape[x.shape.length - 1];
    const params = [mean, variance, scale, offset];
    const ok = x.dtype === 'float32' && x.shape.length >= 1 &&
      params.every((p) => p == null || (p.dtype === 'float32' && (sizeOf(p.shape) === 1 || (sizeOf(p.shape) === C && p.shape[p.shape.length - 1] === C))));
    if (!ok) {
      if (!stock) throw new Error('flash engine: unsupported FusedBatchNorm');
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const stride = (p: TensorInfo | undefined) => (p == null || sizeOf(p.shape) === 1 ? 0 : 1);
    const out = backend.makeOutput([...x.shape], 'float32');
    const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
    withScratch(backend, 2 * C, (ab) =>
      engineFor(backend).batch_norm(ptr(backend, x), sizeOf(x.shape) / C, C, ptr(backend, mean), stride(mean),
        ptr(backend, variance), stride(variance), scale ? ptr(backend, scale) : 0, stride(scale),
        offset ? ptr(backend, offset) : 0, stride(offset), eps, ptr(backend, out), ab));
    return out;
  };
  return { kernelName: 'FusedBatchNorm', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const fusedBatchNormGradKernelConfig: KernelConfig = {
  kernelName: FUSED_BN_GRAD,
  backendName: 'wasm',
  kernelFunc: fusedBatchNormGrad as unknown as KernelFunc,
};

/** FusedBatchNorm's gradient: the fused kernel on wasm, `stock` elsewhere. */
export function makeFusedBatchNormGradConfig(stock: GradConfig): GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, mean, variance, scale] = saved;
      const g = dy as Tensor;
      const C = x.shape[x.shape.length - 1];
      const handled = tf.getBackend() === 'wasm' && g.dtype === 'float32' && x.dtype === 'float32' &&
        tf.util.arraysEqual(g.shape, x.shape) && mean.rank === 1 && mean.shape[0] === C &&
        variance.rank === 1 && variance.shape[0] === C && (scale == null || (scale.rank === 1 && scale.shape[0] === C));
      if (!handled) return stock.gradFunc(dy, saved, attrs);
      const inputs: tf.NamedTensorMap = { x, dy: g, mean, variance };
      if (scale != null) inputs.scale = scale;
      const [dx, dmean, dvar, dscale, doffset] =
        tf.engine().runKernel(FUSED_BN_GRAD, inputs, { varianceEpsilon: (attrs as { varianceEpsilon: number }).varianceEpsilon }) as Tensor[];
      return { x: () => dx, mean: () => dmean, variance: () => dvar, scale: () => dscale, offset: () => doffset };
    },
  };
}
