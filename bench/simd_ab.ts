/**
 * A/B of the engine's two builds on its GEMM (the kernel relaxed SIMD changes most): engine.wasm and
 * engine_relaxed.wasm instantiated side by side in this process, one thread, alternating short timed slices so
 * that whatever else the machine runs falls on both alike; the ratio is the median of the per-round ratios.
 *
 *   node dist/bench/simd_ab.js [--rounds 15] [--shapes 256x256x256,1024x64x288,...] [--builds A.wasm,B.wasm]
 *
 * One JSON line per shape: gflops of each build (median), relaxed_over_plain (median of per-round ratios),
 * max_abs_diff of the two results (FMA rounds once, so they differ in the last bits), other_cpu_cores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuJiffies, CONTENDED_CORES, HZ, intArg, runBench } from './common.js';
import { packageRoot, relaxedSimdSupported, SGEMM_WORKSPACE_FLOATS, type EngineExports } from '../src/core/engine/native.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// M×N×K: a square GEMM, then the im2col GEMMs of small_cnn conv2 (64·14·14 rows, K = 3·3·32), resnet18 layer1
// (32·16·16, K = 576) and a 1×1 conv (mobilenet expand), as conv forward runs them.
const SHAPES = '256x256x256,12544x64x288,8192x64x576,18432x96x16';

async function main(): Promise<void> {
  if (!relaxedSimdSupported()) throw new Error('this runtime has no relaxed SIMD: nothing to compare');
  const rounds = intArg('rounds', arg('rounds'), 15);
  const dir = join(packageRoot(), 'src', 'core', 'engine', 'native');
  // --builds A.wasm,B.wasm compares two other modules (paths), e.g. an older build against this one.
  const files = arg('builds')?.split(',') ?? [join(dir, 'engine.wasm'), join(dir, 'engine_relaxed.wasm')];
  const builds = files.map((f) => {
    const memory = new WebAssembly.Memory({ initial: 4096 }); // 256 MiB
    const e = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory } }).exports as unknown as EngineExports;
    return { name: f, e, memory };
  });
  for (const shape of (arg('shapes') ?? SHAPES).split(',')) {
    const [M, N, K] = shape.split('x').map(Number);
    const a = 1 << 16, b = a + M * K * 4, c = b + K * N * 4, ws = c + M * N * 4;
    for (const { memory } of builds) {
      const f = new Float32Array(memory.buffer);
      let s = 12345;
      for (let i = a / 4; i < c / 4; i++) { s = (s * 1103515245 + 12345) >>> 0; f[i] = (s >>> 8) / 2 ** 24 - 0.5; }
      if ((ws + SGEMM_WORKSPACE_FLOATS * 4) > memory.buffer.byteLength) throw new Error(`${shape}: too big`);
    }
    const run = (e: EngineExports) => e.sgemm(M, N, K, a, K, 1, b, N, 1, c, N, 0, ws);
    const reps = Math.max(1, Math.round(2e8 / (2 * M * N * K))); // ~0.2 GFLOP a slice
    for (const { e } of builds) run(e); // warm-up (tier-up)
    const times: number[][] = [[], []];
    const [busy0, self0] = cpuJiffies();
    const t00 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) run(builds[k].e);
        times[k].push((performance.now() - t0) / reps);
      }
    }
    const [busy1, self1] = cpuJiffies();
    const other = Math.max(0, (busy1 - busy0 - (self1 - self0)) / HZ / ((performance.now() - t00) / 1000));
    const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
    const gflops = (ms: number) => +((2 * M * N * K) / ms / 1e6).toFixed(2);
    const [p, q] = builds.map((x) => new Float32Array(x.memory.buffer, c, M * N));
    let diff = 0, scale = 0;
    for (let i = 0; i < M * N; i++) { diff = Math.max(diff, Math.abs(p[i] - q[i])); scale = Math.max(scale, Math.abs(p[i])); }
    console.log(JSON.stringify({
      bench: 'simd_ab', kernel: 'sgemm', shape, threads: 1, rounds,
      // (with --builds, "plain" is the first module and "relaxed" the second)
      ...(arg('builds') ? { builds: files } : {}),
      plain_gflops: gflops(median(times[0])), relaxed_gflops: gflops(median(times[1])),
      relaxed_over_plain: +median(times[0].map((t, i) => t / times[1][i])).toFixed(3),
      max_abs_diff: diff, max_abs: scale, other_cpu_cores: +other.toFixed(2), contended: other > CONTENDED_CORES,
    }));
  }
}

runBench(main);
