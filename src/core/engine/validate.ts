/**
 * Shape checks in front of the engine's kernels (and the stock wasm pools): the native code trusts the shapes it
 * is handed and would read or write out of its buffers ("RuntimeError: memory access out of bounds", or silent
 * garbage) on a shape that doesn't fit. Here such a call is a thrown Error naming the kernel and the shapes.
 * Only checks: the kernels themselves are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

function fail(kernel: string, message: string): never {
  throw new Error(`flash engine: ${kernel}: ${message}`);
}

const show = (s: readonly number[]) => `[${s.join(', ')}]`;

function dims(kernel: string, name: string, shape: readonly number[] | undefined, rank?: number): void {
  if (!Array.isArray(shape)) fail(kernel, `${name} has no shape`);
  if (rank !== undefined && shape.length !== rank) fail(kernel, `${name} must have rank ${rank}, got ${show(shape)}`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(kernel, `${name} has an invalid shape ${show(shape)}`);
}

function same(kernel: string, what: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) fail(kernel, `${what} is ${show(got)} but the other shapes need ${show(want)}`);
}

/** Conv geometry from tfjs, refused when a window doesn't fit (output side < 0) or a channel count disagrees. */
function convInfo(kernel: string, x: Shape4, filter: Shape4, attrs: NamedAttrMap, depthwise: boolean): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as { strides: number | [number, number]; dilations?: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  if (x[3] !== filter[2]) fail(kernel, `input has ${x[3]} channels but the filter ${show(filter)} expects ${filter[2]}`);
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(x, filter, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, 'channelsLast');
  } catch (err) {
    fail(kernel, (err as Error).message);
  }
  if (info.outShape.some((d) => !Number.isInteger(d) || d < 0)) fail(kernel, `a ${filter[0]}×${filter[1]} window does not fit the input ${show(x)} (output ${show(info.outShape)})`);
  if ([info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth].some((v) => !(v >= 1))) fail(kernel, 'strides and dilations must be ≥ 1');
  return info;
}

function poolInfo(kernel: string, x: Shape4, attrs: NamedAttrMap): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computePool2DInfo(x, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  } catch (err) {
    fail(kernel, (err as Error).message);
  }
  if (info.outShape.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(kernel, `a ${info.filterHeight}×${info.filterWidth} window does not fit the input ${show(x)} (output ${show(info.outShape)})`);
  }
  return info;
}

/** Throws when `inputs`/`attrs` don't fit kernel `name`; kernels not listed get the generic shape check only. */
export function checkKernelShapes(name: string, inputs: Record<string, TensorInfo | undefined>, attrs: NamedAttrMap): void {
  for (const [k, t] of Object.entries(inputs)) if (t) dims(name, k, t.shape);
  const s = (k: string) => inputs[k]!.shape as number[];
  const nhwc = (attrs as { dataFormat?: string }).dataFormat !== 'NCHW';
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      dims(name, 'x', s('x'), 4);
      dims(name, 'filter', s('filter'), 4);
      if (nhwc) convInfo(name, s('x') as Shape4, s('filter') as Shape4, attrs, false);
      break;
    }
    case 'Conv2DBackpropFilter':
    case 'DepthwiseConv2dNativeBackpropFilter': {
      const filterShape = (attrs as { filterShape?: number[] }).filterShape;
      dims(name, 'x', s('x'), 4);
      dims(name, 'dy', s('dy'), 4);
      dims(name, 'filterShape', filterShape, 4);
      if (!nhwc) break;
      const info = convInfo(name, s('x') as Shape4, filterShape as Shape4, attrs, name.startsWith('Depthwise'));
      same(name, 'dy', s('dy'), info.outShape);
      break;
    }
    case 'Conv2DBackpropInput':
    case 'DepthwiseConv2dNativeBackpropInput': {
      const inputShape = (attrs as { inputShape?: number[] }).inputShape;
      dims(name, 'dy', s('dy'), 4);
      dims(name, 'filter', s('filter'), 4);
      dims(name, 'inputShape', inputShape, 4);
      if (!nhwc) break;
      const info = convInfo(name, inputShape as Shape4, s('filter') as Shape4, attrs, name.startsWith('Depthwise'));
      same(name, 'dy', s('dy'), info.outShape);
      break;
    }
    case 'MaxPoolGrad': {
      dims(name, 'input', s('input'), 4);
      dims(name, 'dy', s('dy'), 4);
      same(name, 'dy', s('dy'), poolInfo(name, s('input') as Shape4, attrs).outShape);
      break;
    }
    case 'MaxPool':
    case 'AvgPool': {
      dims(name, 'x', s('x'), 4);
      poolInfo(name, s('x') as Shape4, attrs);
      break;
    }
    case 'UnsortedSegmentSum': {
      const numSegments = (attrs as { numSegments?: number }).numSegments;
      if (!Number.isInteger(numSegments) || numSegments! < 0) fail(name, `numSegments must be an integer ≥ 0, got ${numSegments}`);
      const x = s('x'), ids = s('segmentIds');
      if (ids.length > x.length || ids.some((d, i) => d !== x[i])) fail(name, `segmentIds ${show(ids)} must be the leading dimensions of x ${show(x)}`);
      break;
    }
    case 'BatchMatMul': {
      const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
      const a = s('a'), b = s('b');
      if (a.length < 2 || b.length < 2) fail(name, `a ${show(a)} and b ${show(b)} must have rank ≥ 2`);
      const K = transposeA ? a[a.length - 2] : a[a.length - 1];
      const Kb = transposeB ? b[b.length - 1] : b[b.length - 2];
      if (K !== Kb) fail(name, `inner dimensions differ: a ${show(a)}${transposeA ? 'ᵀ' : ''} × b ${show(b)}${transposeB ? 'ᵀ' : ''}`);
      const ba = a.slice(0, -2), bb = b.slice(0, -2);
      const na = ba.reduce((n, d) => n * d, 1), nb = bb.reduce((n, d) => n * d, 1);
      if (na !== 1 && nb !== 1 && ba.join() !== bb.join()) {
        // Broadcasting beyond "one side has one batch" must follow numpy rules (the stock kernel handles it).
        try {
          tf.backend_util.assertAndGetBroadcastShape(ba, bb);
        } catch {
          fail(name, `batch dimensions ${show(ba)} and ${show(bb)} do not broadcast`);
        }
      }
      break;
    }
  }
}

/** `config` with its shapes checked before the kernel runs. */
export function withShapeChecks(config: KernelConfig): KernelConfig {
  const run = config.kernelFunc;
  const kernelFunc = (args: Parameters<KernelFunc>[0]) => {
    checkKernelShapes(config.kernelName, args.inputs as Record<string, TensorInfo | undefined>, args.attrs ?? {});
    return run(args);
  };
  return { ...config, kernelFunc: kernelFunc as KernelFunc };
}
