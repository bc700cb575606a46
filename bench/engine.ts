/**
 * Engine benchmark: training and inference throughput of the benchmark networks on tfjs's wasm backend (with
 * flash's engine kernels) and cpu backend, against PyTorch on the same cores when python3 can import torch.
 *
 *   node dist/bench/engine.js [--network small_cnn|mobilenet_v2_035|resnet18|all] [--backend wasm|cpu|all]
 *                             [--mode train|infer|all] [--seconds 3] [--threads N] [--data-parallel N]
 *                             [--no-torch] [--torch2-python PATH] [--no-fold] [--kernels] [--profile]
 *
 * Prints one JSON line per (network, backend, mode): network, backend, mode, batch, images_per_s, plus steps,
 * seconds, other_cpu_cores (CPU the *other* processes used during the timed loop, in cores, from /proc/stat
 * minus this process's /proc/self/stat), contended (other_cpu_cores > 0.2) and images_per_cpu_s (per second of
 * this process's CPU time, worker threads included). PyTorch rows (backend "pytorch") come from
 * bench/torch_reference.py; flash rows then carry ratio_vs_pytorch. A PyTorch 2.x (--torch2-python, default the
 * venv of bench/e2e.ts: $FLASH_BENCH_VENV or bench/.venv) gives rows "pytorch2" and ratio_vs_pytorch2 beside them.
 * --threads N (default 1) is the wasm engine's thread count (threads/: big convs and GEMMs split across N
 * threads, exact; training and inference); wasm rows carry `threads`, `split_ops_per_step` and
 * `stolen_task_share` (workers' tasks the main thread took over because the worker had not started them).
 * --data-parallel N instead trains on wasm data-parallel over N worker threads (data_parallel.ts; ghost BatchNorm),
 * each with a one-thread engine. --kernels prints each engine kernel family's GFLOP/s (wall time and per CPU
 * second); --profile prints the slowest kernels of a train step.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { simpleCnn } from '../backbones/simple_cnn.js';
import { mobilenetV2 } from '../backbones/mobilenet_v2.js';
import { resnet18 } from '../backbones/resnet.js';
import { cpuJiffies, CONTENDED_CORES, HZ } from './common.js';
import type { BackboneSpec } from '../backbones/types.js';
import { foldBatchNorm, registerWasmTrainingKernels, setEngineThreads, engineThreadStats, stockWasmKernel, engineSimd } from '../src/core/engine/index.js';
import { DataParallelTrainer } from '../src/core/engine/data_parallel.js';
import { packageRoot } from '../src/core/engine/native.js';

interface NetworkDef { spec: BackboneSpec; size: number; channels: number; batch: number; params?: number }

const NETWORKS: Record<string, NetworkDef> = {
  small_cnn: { spec: simpleCnn, size: 28, channels: 1, batch: 64, params: 421_642 },
  mobilenet_v2_035: { spec: mobilenetV2(0.35), size: 96, channels: 3, batch: 32 },
  mobilenet_v2_100: { spec: mobilenetV2(1.0), size: 96, channels: 3, batch: 32 },
  resnet18: { spec: resnet18, size: 64, channels: 3, batch: 32 },
};
const DEFAULT_NETWORKS = ['small_cnn', 'mobilenet_v2_035', 'resnet18'];
/** cpu-backend training is minutes per step for these; run it only when asked (--cpu-train-all). */
const CPU_TRAIN_TOO_SLOW = new Set(['mobilenet_v2_035', 'mobilenet_v2_100', 'resnet18']);

type Row = Record<string, string | number | boolean | null>;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);


function buildModel(def: NetworkDef): tf.LayersModel {
  const input = tf.input({ shape: [def.size, def.size, def.channels] });
  const backbone = def.spec.build({ inputShape: [def.size, def.size, def.channels], name: 'backbone' });
  let features = backbone.apply(input) as tf.SymbolicTensor;
  // The backbone's default head's hidden layer (simple_cnn: dense 128 + ReLU) is part of the benchmark network.
  const hidden = def.spec.defaultHead?.hiddenUnits;
  if (hidden) features = tf.layers.dense({ units: hidden, activation: 'relu', name: 'hidden' }).apply(features) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'classifier' }).apply(features) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  if (def.params !== undefined && model.countParams() !== def.params) {
    throw new Error(`benchmark network has ${model.countParams()} parameters, expected ${def.params}`);
  }
  return model;
}

async function measure(name: string, backend: string, mode: 'train' | 'infer', seconds: number, threads: number, dataParallel: number): Promise<Row> {
  const def = NETWORKS[name];
  await tf.setBackend(backend);
  if (backend === 'wasm') setEngineThreads(tf.backend(), dataParallel > 1 ? 1 : threads);
  const model = buildModel(def);
  // Inference runs on the BatchNorm-folded model, as flash's predict/evaluate/export do (--no-fold: as built).
  const fold = mode === 'infer' && !flag('no-fold');
  const inferModel = fold ? foldBatchNorm(model) : model;
  const x = tf.randomUniform([def.batch, def.size, def.size, def.channels]);
  const y = tf.oneHot(tf.randomUniform([def.batch], 0, 10, 'int32') as tf.Tensor1D, 10).toFloat();
  const optimizer = tf.train.adam(1e-3);
  const trainer = mode === 'train' && dataParallel > 1 ? await DataParallelTrainer.create(model, { threads: dataParallel }) : undefined;
  const step = trainer
    ? async () => { await trainer.trainStep(optimizer, x, y); }
    : mode === 'train'
    ? () => {
      const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    }
    : () => {
      const p = inferModel.predict(x) as tf.Tensor;
      p.dataSync();
      p.dispose();
    };
  const slowCpu = backend === 'cpu';
  const warmup = slowCpu ? 1 : 2;
  const minSteps = slowCpu ? 1 : 3;
  for (let i = 0; i < warmup; i++) await step();
  const [busy0, self0] = cpuJiffies();
  const stats0 = engineThreadStats(tf.backend());
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let steps = 0;
  while (steps < minSteps || (performance.now() - t0) / 1000 < seconds) {
    await step();
    steps++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const [busy1, self1] = cpuJiffies();
  const stats1 = engineThreadStats(tf.backend());
  const splitPerStep = (stats1.splitOps - stats0.splitOps) / steps;
  const workerTasks = stats1.workerTasks - stats0.workerTasks, stolen = stats1.stolenTasks - stats0.stolenTasks;
  const other = Math.max(0, (busy1 - busy0 - (self1 - self0)) / HZ / elapsed);
  await trainer?.dispose();
  tf.dispose([x, y]);
  optimizer.dispose();
  if (inferModel !== model) inferModel.layers.forEach((l) => { if (!model.layers.includes(l)) l.dispose(); });
  model.dispose();
  return {
    network: name, backend, mode,
    ...(backend === 'wasm' ? { threads: dataParallel > 1 ? 1 : threads, split_ops_per_step: +splitPerStep.toFixed(1), engine_simd: engineSimd() } : {}),
    // Share of the workers' tasks the main thread had to take over (workers not scheduled in time).
    ...(workerTasks + stolen > 0 ? { stolen_task_share: +(stolen / (workerTasks + stolen)).toFixed(3) } : {}),
    ...(dataParallel > 1 && mode === 'train' ? { data_parallel: dataParallel } : {}), batch: def.batch, images_per_s: Number((def.batch * steps / elapsed).toFixed(2)),
    steps, seconds: Number(elapsed.toFixed(3)), image_size: def.size, other_cpu_cores: Number(other.toFixed(3)),
    contended: other > CONTENDED_CORES,
    ...(mode === 'infer' ? { bn_folded: fold && inferModel !== model } : {}),
    // Throughput per second of this process's CPU time: what one uncontended core would give.
    images_per_cpu_s: Number((def.batch * steps / cpuSeconds).toFixed(2)),
  };
}

/** A python3 that can import torch, or undefined. */
function torchPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/**
 * A second, newer PyTorch (2.x) for its own column: --torch2-python PATH, else $FLASH_BENCH_VENV/bin/python or
 * bench/.venv/bin/python (the venv bench/e2e.ts uses) when it imports torch. Returns [python, torch version].
 */
function torch2Python(): [string, string] | undefined {
  const venv = process.env.FLASH_BENCH_VENV ?? join(packageRoot(), 'bench', '.venv');
  const py = arg('torch2-python', join(venv, 'bin', 'python'));
  if (!existsSync(py)) return undefined;
  const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? [py, r.stdout.trim()] : undefined;
}

function torchRows(py: string, networks: string[], modes: string[], seconds: number): Row[] {
  const script = join(packageRoot(), 'bench', 'torch_reference.py');
  if (!existsSync(script)) return [];
  const rows: Row[] = [];
  for (const network of networks)
    for (const mode of modes) {
      const r = spawnSync(py, [script, '--network', network, '--mode', mode, '--seconds', String(seconds)], { encoding: 'utf8' });
      if (r.status !== 0) {
        console.error(`torch_reference.py failed for ${network} ${mode}: ${r.stderr.trim().split('\n').pop()}`);
        continue;
      }
      for (const line of r.stdout.split('\n')) if (line.trim().startsWith('{')) rows.push(JSON.parse(line) as Row);
    }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// --kernels: GFLOP/s of each engine kernel family on shapes from the benchmark networks.

/**
 * Seconds per call: `cpu`, this process's CPU time (all its threads; with one engine thread, the number that
 * a shared machine's neighbours barely move) and `wall` (what a split kernel gains; contended when others run).
 */
function timeIt(f: () => tf.Tensor | tf.Tensor[], minSeconds = 0.5): { cpu: number; wall: number; other: number } {
  tf.dispose(f());
  let n = 0;
  const [busy0, self0] = cpuJiffies();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const cpuSeconds = () => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
  while (n < 2 || cpuSeconds() < minSeconds) {
    const out = f();
    (Array.isArray(out) ? out[0] : out).dataSync();
    tf.dispose(out);
    n++;
  }
  const wall = (performance.now() - t0) / 1000;
  const [busy1, self1] = cpuJiffies();
  return { cpu: cpuSeconds() / n, wall: wall / n, other: Math.max(0, (busy1 - busy0 - (self1 - self0)) / HZ / wall) };
}

/** A --kernels row's timing fields: ms and GFLOP/s by wall time, GFLOP/s per CPU second. */
function rate(t: { cpu: number; wall: number; other: number }, flops: number): Row {
  return {
    ms: +(t.wall * 1e3).toFixed(2), gflops: +(flops / t.wall / 1e9).toFixed(2), gflops_per_cpu_s: +(flops / t.cpu / 1e9).toFixed(2),
    other_cpu_cores: +t.other.toFixed(2), contended: t.other > CONTENDED_CORES,
  };
}

function kernelRows(backend: string): Row[] {
  const rows: Row[] = [];
  const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object) =>
    () => tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const conv = [
    // [label, B, H, W, Ci, Co, K, stride]
    ['small_cnn conv2', 64, 14, 14, 32, 64, 3, 1],
    ['resnet18 layer1 3x3', 32, 16, 16, 64, 64, 3, 1],
    ['resnet18 layer3 3x3/2', 32, 8, 8, 128, 256, 3, 2],
    ['resnet18 stem 7x7/2', 32, 70, 70, 3, 64, 7, 2],
    ['mobilenet expand 1x1', 32, 24, 24, 16, 96, 1, 1],
    ['mobilenet project 1x1', 32, 12, 12, 144, 24, 1, 1],
  ] as const;
  for (const [label, B, H, W, Ci, Co, K, s] of conv) {
    const OH = Math.ceil(H / s), OW = Math.ceil(W / s);
    const x = tf.randomNormal([B, H, W, Ci]), dy = tf.randomNormal([B, OH, OW, Co]), w = tf.randomNormal([K, K, Ci, Co]);
    const flops = 2 * B * OH * OW * K * K * Ci * Co;
    const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC' };
    const shape = `${label}: x[${B},${H},${W},${Ci}] k${K} s${s} co${Co}`;
    const fwd = timeIt(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same'));
    const stock = stockWasmKernel('Conv2D');
    const stockFwd = stock ? timeIt(() => {
      const info = stock.kernelFunc({ inputs: { x, filter: w }, backend: tf.backend(), attrs: { ...attrs, dilations: [1, 1] } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    }) : { cpu: NaN, wall: NaN, other: NaN };
    const filt = timeIt(run('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [K, K, Ci, Co] }));
    const inp = timeIt(run('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [B, H, W, Ci] }));
    rows.push({ kernel: 'Conv2D (tfjs-backend-wasm XNNPACK, replaced)', backend, shape, ...rate(stockFwd, flops) });
    rows.push({ kernel: 'Conv2D', backend, shape, ...rate(fwd, flops) });
    rows.push({ kernel: 'Conv2DBackpropFilter', backend, shape, ...rate(filt, flops) });
    rows.push({ kernel: 'Conv2DBackpropInput', backend, shape, ...rate(inp, flops) });
    tf.dispose([x, dy, w]);
  }
  const dw = [
    ['mobilenet dw 48x48', 32, 48, 48, 48, 1],
    ['mobilenet dw 24x24/2', 32, 24, 24, 144, 2],
    ['mobilenet dw 6x6', 32, 6, 6, 336, 1],
  ] as const;
  for (const [label, B, H, W, C, s] of dw) {
    const OH = Math.ceil(H / s), OW = Math.ceil(W / s);
    const x = tf.randomNormal([B, H, W, C]), dy = tf.randomNormal([B, OH, OW, C]), w = tf.randomNormal([3, 3, C, 1]);
    const flops = 2 * B * OH * OW * 9 * C;
    const attrs = { strides: [s, s], dilations: [1, 1], pad: 'same' };
    const shape = `${label}: x[${B},${H},${W},${C}] s${s}`;
    const filt = timeIt(run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, C, 1] }));
    const inp = timeIt(run('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [B, H, W, C] }));
    rows.push({ kernel: 'DepthwiseConv2dNativeBackpropFilter', backend, shape, ...rate(filt, flops) });
    rows.push({ kernel: 'DepthwiseConv2dNativeBackpropInput', backend, shape, ...rate(inp, flops) });
    tf.dispose([x, dy, w]);
  }
  {
    const [B, H, W, C] = [32, 24, 24, 96];
    const x = tf.randomNormal([B, H, W, C]), dy = tf.randomNormal([B, H, W, C]);
    const m = tf.randomNormal([C]), v = tf.randomUniform([C], 0.5, 2), sc = tf.randomNormal([C]);
    const t = timeIt(run('FlashFusedBatchNormGrad', { x, dy, mean: m, variance: v, scale: sc }, { varianceEpsilon: 1e-3 }));
    rows.push({ kernel: 'FlashFusedBatchNormGrad', backend, shape: `x[${B},${H},${W},${C}]`, ms: +(t.wall * 1e3).toFixed(2), gb_per_s: +((3 * B * H * W * C * 4) / t.wall / 1e9).toFixed(2) });
    const t2 = timeIt(run('MaxPoolGrad', { dy: tf.randomNormal([B, 12, 12, C]), input: x, output: tf.randomNormal([B, 12, 12, C]) }, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' }));
    rows.push({ kernel: 'MaxPoolGrad', backend, shape: `x[${B},${H},${W},${C}] 2x2/2`, ms: +(t2.wall * 1e3).toFixed(2), gb_per_s: +((2 * B * H * W * C * 4) / t2.wall / 1e9).toFixed(2) });
    tf.dispose([x, dy, m, v, sc]);
  }
  return rows;
}

async function profileRows(name: string, threads: number): Promise<Row[]> {
  const def = NETWORKS[name];
  await tf.setBackend('wasm');
  setEngineThreads(tf.backend(), threads);
  const model = buildModel(def);
  const x = tf.randomUniform([def.batch, def.size, def.size, def.channels]);
  const y = tf.oneHot(tf.randomUniform([def.batch], 0, 10, 'int32') as tf.Tensor1D, 10).toFloat();
  const optimizer = tf.train.adam(1e-3);
  const step = () => optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, true)!;
  tf.dispose(step());
  const info = await tf.profile(() => step());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    // ("fusedConv2d__op" and the like are op-level records around the kernels they run: counted there.)
    if (k.name.endsWith('__op')) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number((k.kernelTimeMs as { error?: string }).error ? 0 : k.kernelTimeMs);
    total += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms; e.calls++;
    byKernel.set(k.name, e);
  }
  tf.dispose([x, y]);
  model.dispose();
  const sorted = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  // The GEMM-backed kernels (convolutions and matmuls) against everything else: where fusion would pay.
  const isGemm = (k: string) => /^(Conv2D|FusedConv2D|Conv2DBackprop(Filter|Input)|BatchMatMul|_FusedMatMul|MatMul)$/.test(k);
  const gemm = sorted.filter(([k]) => isGemm(k)).reduce((a, [, e]) => a + e.ms, 0);
  const summary: Row = {
    profile: name, summary: true, total_ms: +total.toFixed(1), gemm_ms: +gemm.toFixed(1), gemm_share: +(gemm / total).toFixed(3),
    outside_gemm_top: sorted.filter(([k]) => !isGemm(k)).slice(0, 8).map(([k, e]) => `${k} ${e.ms.toFixed(1)} ms/${e.calls}`).join(', '),
  };
  return [...sorted.slice(0, 15)
    .map(([kernel, e]) => ({ profile: name, kernel, ms: +e.ms.toFixed(2), calls: e.calls, share: +(e.ms / total).toFixed(3) })), summary];
}

async function main(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  tf.enableProdMode();
  const seconds = Number(arg('seconds', '3'));
  const netArg = arg('network', 'all');
  const networks = netArg === 'all' ? DEFAULT_NETWORKS : netArg.split(',');
  for (const n of networks) if (!NETWORKS[n]) throw new Error(`unknown network ${n}; known: ${Object.keys(NETWORKS).join(', ')}`);
  const backendArg = arg('backend', 'all');
  const backends = backendArg === 'all' ? ['wasm', 'cpu'] : backendArg.split(',');
  const modeArg = arg('mode', 'all');
  const modes = (modeArg === 'all' ? ['train', 'infer'] : modeArg.split(',')) as ('train' | 'infer')[];
  console.error(`flash bench:engine on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), tfjs ${tf.version.tfjs}`);

  const threads = Number(arg('threads', '1'));
  const dataParallel = Number(arg('data-parallel', '1'));
  if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(dataParallel) || dataParallel < 1) {
    throw new Error('--threads and --data-parallel take a whole number ≥ 1');
  }
  if (flag('kernels')) {
    await tf.setBackend('wasm');
    setEngineThreads(tf.backend(), threads);
    // (Each row also carries the thread count; wall-time GFLOP/s is what the split kernels gain.)
    for (const r of kernelRows('wasm')) console.log(JSON.stringify({ ...r, threads }));
    return;
  }
  if (flag('profile')) {
    for (const n of networks) for (const r of await profileRows(n, threads)) console.log(JSON.stringify(r));
    return;
  }

  const py = flag('no-torch') ? undefined : torchPython();
  const torch = py ? torchRows(py, networks, modes, seconds) : [];
  if (!py && !flag('no-torch')) console.error('PyTorch not importable by python3: no reference rows');
  for (const r of torch) console.log(JSON.stringify(r));
  const py2 = flag('no-torch') ? undefined : torch2Python();
  const torch2: Row[] = py2 ? torchRows(py2[0], networks, modes, seconds).map((r) => ({ ...r, backend: 'pytorch2', torch_version: py2[1] })) : [];
  for (const r of torch2) console.log(JSON.stringify(r));
  for (const network of networks)
    for (const backend of backends)
      for (const mode of modes) {
        if (backend === 'cpu' && mode === 'train' && CPU_TRAIN_TOO_SLOW.has(network) && !flag('cpu-train-all')) {
          console.log(JSON.stringify({ network, backend, mode, batch: NETWORKS[network].batch, images_per_s: null, skipped: 'cpu training takes minutes per step (--cpu-train-all to run it)' }));
          continue;
        }
        const row = await measure(network, backend, mode, seconds, threads, dataParallel);
        const ref = torch.find((t) => t.network === network && t.mode === mode);
        if (ref && typeof ref.images_per_s === 'number' && typeof row.images_per_s === 'number') {
          row.pytorch_images_per_s = ref.images_per_s;
          row.ratio_vs_pytorch = Number((row.images_per_s / ref.images_per_s).toFixed(3));
          row.pytorch_contended = ref.contended ?? null;
        }
        const ref2 = torch2.find((t) => t.network === network && t.mode === mode);
        if (ref2 && typeof ref2.images_per_s === 'number' && typeof row.images_per_s === 'number') {
          row.pytorch2_images_per_s = ref2.images_per_s;
          row.ratio_vs_pytorch2 = Number((row.images_per_s / ref2.images_per_s).toFixed(3));
          row.pytorch2_contended = ref2.contended ?? null;
        }
        console.log(JSON.stringify(row));
      }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
