/**
 * One-pass gradients for the activations and BatchNorm-moment ops of the backbones, on wasm.
 *
 * tfjs builds ReLU6's gradient (Keras layers compute it as minimum(6, relu(x))) from 3–4 full-size kernels
 * per op (compare, cast, multiply; the Mean gradient allocates a tensor of ones) — about a third of a
 * MobileNetV2 training step. These gradient wrappers call one engine kernel instead when the active
 * backend is wasm and the case is the common one; otherwise they defer to tfjs's gradient, unchanged.
 *   FlashMaskGrad:      out = (lo <(=) x <(=) hi) ? dy : 0       (Relu, Relu6, ClipByValue, Minimum/Maximum with a scalar)
 *   FlashSquareGrad:    out = 2·x·dy                              (Square)
 *   FlashBroadcastRows: out[n, c] = dy[c] · scale                 (Mean over leading axes)
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, sizeOf, type WasmBackendLike } from './native.js';
import { leadingAxes } from './reductions.js';

export const MASK_GRAD = 'FlashMaskGrad';
export const SQUARE_GRAD = 'FlashSquareGrad';
export const BROADCAST_ROWS = 'FlashBroadcastRows';

type Args<I> = { inputs: I; backend: unknown; attrs: NamedAttrMap };

export const elementwiseKernelConfigs: KernelConfig[] = [
  {
    kernelName: MASK_GRAD, backendName: 'wasm',
    kernelFunc: ((args: Args<{ dy: TensorInfo; x: TensorInfo }>) => {
      const backend = args.backend as WasmBackendLike;
      const { dy, x } = args.inputs;
      const { lo, loIncl, hi, hiIncl } = args.attrs as { lo: number; loIncl: boolean; hi: number; hiIncl: boolean };
      const out = backend.makeOutput(x.shape, 'float32');
      engineFor(backend).mask_grad(ptr(backend, dy), ptr(backend, x), sizeOf(x.shape), lo, loIncl ? 1 : 0, hi, hiIncl ? 1 : 0, ptr(backend, out));
      return out;
    }) as unknown as KernelFunc,
  },
  {
    kernelName: SQUARE_GRAD, backendName: 'wasm',
    kernelFunc: ((args: Args<{ dy: TensorInfo; x: TensorInfo }>) => {
      const backend = args.backend as WasmBackendLike;
      const { dy, x } = args.inputs;
      const out = backend.makeOutput(x.shape, 'float32');
      engineFor(backend).square_grad(ptr(backend, dy), ptr(backend, x), sizeOf(x.shape), ptr(backend, out));
      return out;
    }) as unknown as KernelFunc,
  },
  {
    kernelName: BROADCAST_ROWS, backendName: 'wasm',
    kernelFunc: ((args: Args<{ v: TensorInfo }>) => {
      const backend = args.backend as WasmBackendLike;
      const { v } = args.inputs;
      const { shape, scale } = args.attrs as { shape: number[]; scale: number };
      const C = sizeOf(v.shape);
      const out = backend.makeOutput(shape, 'float32');
      engineFor(backend).broadcast_rows(ptr(backend, v), sizeOf(shape) / C, C, scale, ptr(backend, out));
      return out;
    }) as unknown as KernelFunc,
  },
];

const onWasm = (...ts: Tensor[]) => tf.getBackend() === 'wasm' && ts.every((t) => t.dtype === 'float32');
const same = (a: Tensor, b: Tensor) => tf.util.arraysEqual(a.shape, b.shape);

function mask(dy: Tensor, x: Tensor, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): Tensor {
  return tf.engine().runKernel(MASK_GRAD, { dy, x }, { lo, loIncl, hi, hiIncl }) as Tensor;
}

/** Wraps tfjs's gradient for `kernelName`: `fast` returns replacement thunks (or null to defer). */
function wrap(stock: GradConfig, fast: (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Record<string, () => Tensor> | null,
  singleInput: boolean): GradConfig {
  return {
    ...stock,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const replaced = Array.isArray(dy) ? null : fast(dy, saved, attrs);
      // (Some stock gradients compute eagerly, e.g. Relu6's mask: skip them when every input is replaced.)
      if (replaced && singleInput) return replaced;
      const base = stock.gradFunc(dy, saved, attrs);
      return replaced ? { ...base, ...replaced } : base;
    },
  };
}

const scalarValue = (t: Tensor) => (t.dataSync() as Float32Array)[0];

type Grads = Record<string, () => Tensor>;

const FAST: Record<string, (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Grads | null> = {
  Relu: (dy, [x]) => (onWasm(dy, x) && same(dy, x) ? { x: () => mask(dy, x, 0, false, Infinity, true) } : null),
  Relu6: (dy, [x]) => (onWasm(dy, x) && same(dy, x) ? { x: () => mask(dy, x, 0, false, 6, true) } : null),
  ClipByValue: (dy, [x], attrs) => {
    const { clipValueMin, clipValueMax } = attrs as { clipValueMin: number; clipValueMax: number };
    return onWasm(dy, x) && same(dy, x) ? { x: () => mask(dy, x, clipValueMin, true, clipValueMax, true) } : null;
  },
  // tfjs: d/da = dy·(a ≤ b), d/db = dy·(a > b)
  Minimum: (dy, [a, b]): Grads | null => {
    if (!onWasm(dy, a, b)) return null;
    if (b.size === 1 && same(dy, a)) return { a: () => mask(dy, a, -Infinity, true, scalarValue(b), true) };
    if (a.size === 1 && same(dy, b)) return { b: () => mask(dy, b, -Infinity, true, scalarValue(a), false) };
    return null;
  },
  // tfjs: d/da = dy·(a ≥ b), d/db = dy·(a < b)
  Maximum: (dy, [a, b]): Grads | null => {
    if (!onWasm(dy, a, b)) return null;
    if (b.size === 1 && same(dy, a)) return { a: () => mask(dy, a, scalarValue(b), true, Infinity, true) };
    if (a.size === 1 && same(dy, b)) return { b: () => mask(dy, b, scalarValue(a), false, Infinity, true) };
    return null;
  },
  Square: (dy, [x]) => (onWasm(dy, x) && same(dy, x) ? { x: () => tf.engine().runKernel(SQUARE_GRAD, { dy, x }, {}) as Tensor } : null),
  Mean: (dy, [x], attrs) => {
    const k = leadingAxes((attrs as { axis: number | number[] }).axis, x.shape);
    if (!onWasm(dy, x) || k === 0) return null;
    const N = sizeOf(x.shape.slice(0, k));
    return { x: () => tf.engine().runKernel(BROADCAST_ROWS, { v: dy }, { shape: x.shape, scale: 1 / N } as unknown as NamedAttrMap) as Tensor };
  },
};

/** Gradient configs to register (wrapping tfjs's own, which must already be registered). */
export function makeElementwiseGradConfigs(): GradConfig[] {
  const out: GradConfig[] = [];
  for (const [name, fast] of Object.entries(FAST)) {
    const stock = tf.getGradient(name);
    if (stock) out.push(wrap(stock, fast, name !== 'Minimum' && name !== 'Maximum'));
  }
  return out;
}
