/**
 * Cheaper data movement on wasm:
 *  - `Identity` without a copy (shares the buffer and bumps its reference count, as the cpu backend does).
 *    tfjs clones every tensor it saves for the backward pass, so the stock copying Identity is ~8% of a
 *    MobileNetV2 training step. Safe because no tfjs kernel writes into its inputs.
 *  - `Slice` (rank ≤ 4, 4-byte dtypes) as a strided copy in engine.wasm: the stock kernel first copies the
 *    whole input out of the heap into JS (readSync), then slices in JS; ZeroPadding2D's gradient is a Slice.
 *  - `Minimum`/`Maximum` with a scalar operand (Keras's ReLU6 is minimum(6, relu(x))): the stock kernels
 *    take a general broadcasting path.
 *  - `Add`/`Sub`/`Multiply` of a tensor and a per-channel row (shape [..., 1, C], e.g. BatchNorm's moments
 *    `x - mean`): same reason.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { engineFor, ptr, sizeOf, type WasmBackendLike } from './native.js';

type Args<I> = { inputs: I; backend: unknown; attrs: NamedAttrMap };

function defer(stock: KernelConfig | undefined, args: unknown, name: string): TensorInfo {
  if (!stock) throw new Error(`flash engine: unsupported ${name}`);
  return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
}

export function makeIdentityConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args<{ x: TensorInfo }>): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs;
    if (x.dtype === 'string' || x.dtype === 'complex64') return defer(stock, args, 'Identity');
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * `Transpose` by an identity permutation (or over size-1 axes only, the data order unchanged) shares the buffer,
 * as Identity does: gather's gradient transposes by the identity, a full copy of an Embedding's [tokens × dim]
 * gradient every step. Other permutations go to the stock kernel.
 */
export function makeTransposeConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args<{ x: TensorInfo }>): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs;
    const { perm } = args.attrs as { perm: number[] };
    const moved = perm.filter((p) => x.shape[p] !== 1);
    const inOrder = moved.every((p, i) => i === 0 || p > moved[i - 1]);
    if (x.dtype === 'string' || x.dtype === 'complex64' || !inOrder) return defer(stock, args, 'Transpose');
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  };
  return { kernelName: 'Transpose', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function makeSliceConfig(stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args<{ x: TensorInfo }>): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs;
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    if (!(x.dtype === 'float32' || x.dtype === 'int32') || x.shape.length > 4 || x.shape.length === 0) return defer(stock, args, 'Slice');
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const out = backend.makeOutput(s, x.dtype);
    if (sizeOf(s) === 0) return out;
    const pad = 4 - x.shape.length;
    const d = [...Array(pad).fill(1), ...x.shape], bb = [...Array(pad).fill(0), ...b], ss = [...Array(pad).fill(1), ...s];
    engineFor(backend).slice4d(ptr(backend, x), d[1], d[2], d[3], bb[0], bb[1], bb[2], bb[3], ss[0], ss[1], ss[2], ss[3], ptr(backend, out));
    return out;
  };
  return { kernelName: 'Slice', backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function makeScalarBinaryConfig(kernelName: 'Minimum' | 'Maximum', stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args<{ a: TensorInfo; b: TensorInfo }>): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs;
    const sa = sizeOf(a.shape), sb = sizeOf(b.shape);
    const scalarSide = sb === 1 && b.shape.length <= a.shape.length ? 'b' : sa === 1 && a.shape.length <= b.shape.length ? 'a' : null;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || scalarSide === null) return defer(stock, args, kernelName);
    const [full, scalar] = scalarSide === 'b' ? [a, b] : [b, a];
    const value = backend.readSync(scalar.dataId)[0];
    const out = backend.makeOutput([...full.shape], 'float32');
    const e = engineFor(backend);
    (kernelName === 'Minimum' ? e.min_scalar : e.max_scalar)(ptr(backend, full), sizeOf(full.shape), value, ptr(backend, out));
    return out;
  };
  return { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const makeMinimumConfig = (stock: KernelConfig | undefined) => makeScalarBinaryConfig('Minimum', stock);
export const makeMaximumConfig = (stock: KernelConfig | undefined) => makeScalarBinaryConfig('Maximum', stock);

const ROW_OPS = { Add: 0, Sub: 1, Multiply: 2 } as const;

/** True when `row` broadcasts along every leading axis of `full` and matches its trailing axes. */
function isRowOf(row: number[], full: number[]): boolean {
  if (row.length > full.length || row.length === 0) return false;
  const lead = full.length - row.length;
  let k = 0; // trailing axes of `full` that `row` spans
  for (let i = row.length - 1; i >= 0; i--) {
    if (row[i] === full[lead + i]) k++;
    else break;
  }
  return k > 0 && row.slice(0, row.length - k).every((d) => d === 1) && sizeOf(row) < sizeOf(full);
}

function makeRowBinaryConfig(kernelName: keyof typeof ROW_OPS, stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: Args<{ a: TensorInfo; b: TensorInfo }>): TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs;
    const f32 = a.dtype === 'float32' && b.dtype === 'float32';
    const rowB = f32 && isRowOf(b.shape, a.shape);
    const rowA = f32 && !rowB && isRowOf(a.shape, b.shape);
    if (!rowB && !rowA) return defer(stock, args, kernelName);
    const [full, row] = rowB ? [a, b] : [b, a];
    let op: number = ROW_OPS[kernelName];
    if (rowA && kernelName === 'Sub') op = 3;
    const C = sizeOf(row.shape);
    const out = backend.makeOutput([...full.shape], 'float32');
    engineFor(backend).binary_rows(ptr(backend, full), ptr(backend, row), sizeOf(full.shape) / C, C, op, ptr(backend, out));
    return out;
  };
  return { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const makeRowAddConfig = (stock: KernelConfig | undefined) => makeRowBinaryConfig('Add', stock);
export const makeRowSubConfig = (stock: KernelConfig | undefined) => makeRowBinaryConfig('Sub', stock);
export const makeRowMultiplyConfig = (stock: KernelConfig | undefined) => makeRowBinaryConfig('Multiply', stock);
