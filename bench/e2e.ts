/**
 * End to end, as a user runs it: `flash image_classification --from_folders D/train` then `flash evaluate` on
 * D/test, against bench/lightning_e2e.py (Lightning 2.x, the same recipe) on the same folders, one after the
 * other, interleaved over --reps (rep r runs seed 42 + r on both sides). The data: Fashion-MNIST (Debian's dataset-fashion-mnist) written as class
 * folders of mixed PNG / JPEG / WebP files (cycling by index), --per-class train and --test-per-class test images.
 *
 *   node dist/bench/e2e.js [--per-class 1000] [--test-per-class 200] [--epochs 3] [--reps 1] [--threads 2]
 *                          [--venv bench/.venv | $FLASH_BENCH_VENV] [--workload simple_cnn|resnet18|mobilenet_v2_035]
 *                          [--lightning-threads N] [--classes N]   (the rows: simple_cnn 10 x 1000, 3 epochs; resnet18 5 x 600, 2 epochs)
 *
 * One JSON line per row and rep: flash and Lightning wall seconds, ratio (flash / Lightning), test accuracies,
 * peak RSS (MiB, from /usr/bin/time), each run's other_cpu_cores (CPU other processes used meanwhile: machine
 * busy time minus the run's own user+system) and contended. Without the venv's python (or one that cannot
 * import lightning) the Lightning fields are null and `lightning_skipped` says why. Create the venv with
 *   python3 -m venv bench/.venv && bench/.venv/bin/pip install 'torch==2.13.0+cpu' lightning==2.6.6 torchmetrics pillow
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { cpuJiffies, CONTENDED_CORES, HZ, intArg, log, runBench } from './common.js';
import { FASHION_MNIST_CLASSES, fashionMnistAvailable, loadFashionMnist } from './fashion_mnist_folders.js';
import { packageRoot } from '../src/core/engine/native.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const FORMATS = ['png', 'jpg', 'webp'] as const;

/** The rows of the issue: network, input side and channels (the 28 px images are resized up), default classes. */
const WORKLOADS: Record<string, { size: number; channels: 1 | 3; classes: number }> = {
  simple_cnn: { size: 28, channels: 1, classes: 10 },
  resnet18: { size: 64, channels: 3, classes: 5 },
  mobilenet_v2_035: { size: 96, channels: 3, classes: 5 },
};

/** Writes <dir>/{train,test}/<class>/<i>.<png|jpg|webp> once (a marker holds the sizes). */
async function writeMixedFolders(dir: string, perClass: number, testPerClass: number, classes: number): Promise<void> {
  const marker = path.join(dir, '.complete.json');
  const key = JSON.stringify({ perClass, testPerClass, classes, formats: FORMATS });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === key) return void log(`data: reusing ${dir}`);
  await rm(dir, { recursive: true, force: true });
  for (const [split, n] of [['train', perClass], ['test', testPerClass]] as const) {
    const { images, labels, count } = await loadFashionMnist(split);
    const taken = new Array<number>(10).fill(0);
    const jobs: { i: number; file: string; fmt: string }[] = [];
    for (let i = 0; i < count; i++) {
      const y = labels[i];
      if (y >= classes || taken[y] >= n) continue;
      const fmt = FORMATS[taken[y]++ % FORMATS.length];
      jobs.push({ i, fmt, file: path.join(dir, split, FASHION_MNIST_CLASSES[y], `${split}_${String(i).padStart(5, '0')}.${fmt}`) });
    }
    await Promise.all(FASHION_MNIST_CLASSES.slice(0, classes).map((c) => mkdir(path.join(dir, split, c), { recursive: true })));
    for (let s = 0; s < jobs.length; s += 64) {
      await Promise.all(jobs.slice(s, s + 64).map(async ({ i, fmt, file }) => {
        const img = sharp(Buffer.from(images.buffer, images.byteOffset + i * 784, 784), { raw: { width: 28, height: 28, channels: 1 } });
        // (WebP has no gray mode: stored as RGB, as any WebP of a gray image is.)
        const buf = fmt === 'png' ? await img.toColourspace('b-w').png().toBuffer()
          : fmt === 'jpg' ? await img.toColourspace('b-w').jpeg({ quality: 90 }).toBuffer()
          : await img.webp({ quality: 90 }).toBuffer();
        await writeFile(file, buf);
      }));
    }
  }
  await writeFile(marker, key);
}

interface Run { wall: number; rssMiB: number | null; other: number; status: number | null; stdout: string; stderr: string }

/** Runs a command under /usr/bin/time (peak RSS), timing it and the CPU the rest of the machine used meanwhile. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const tfile = path.join(tmpdir(), `flash-e2e-time-${process.pid}.txt`);
  const haveTime = existsSync('/usr/bin/time');
  const [busy0] = cpuJiffies();
  const t0 = performance.now();
  const r = haveTime
    ? spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', tfile, cmd, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  const [busy1] = cpuJiffies();
  let rssMiB: number | null = null, own = 0;
  if (haveTime && existsSync(tfile)) {
    const [kb, u, s] = readFileSync(tfile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    rssMiB = Math.round(kb / 1024);
    own = u + s;
  }
  const other = Math.max(0, ((busy1 - busy0) / HZ - own) / wall);
  return { wall, rssMiB, other, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function check(r: Run, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
}

async function main(): Promise<void> {
  const perClass = intArg('per-class', arg('per-class'), 1000);
  const testPerClass = intArg('test-per-class', arg('test-per-class'), 200);
  const epochs = intArg('epochs', arg('epochs'), 3);
  const reps = intArg('reps', arg('reps'), 1);
  const threads = intArg('threads', arg('threads'), 2);
  // PyTorch's OpenMP threads spin-wait: on a machine other processes keep busy, 2 threads can run 2-3x slower than
  // 1, so the Lightning side's thread count is its own flag (the JSON line records both).
  const lightningThreads = intArg('lightning-threads', arg('lightning-threads'), threads);
  const workload = arg('workload') ?? 'simple_cnn';
  const w = WORKLOADS[workload];
  if (!w) throw new Error(`--workload: one of ${Object.keys(WORKLOADS).join(', ')}, got '${workload}'`);
  const classes = intArg('classes', arg('classes'), w.classes);
  if (!fashionMnistAvailable()) throw new Error('Fashion-MNIST not found: apt-get install dataset-fashion-mnist (or set FASHION_MNIST_DIR)');
  const root = packageRoot();
  const venv = path.resolve(root, arg('venv') ?? process.env.FLASH_BENCH_VENV ?? 'bench/.venv');
  const py = path.join(venv, 'bin', 'python');
  let skipped: string | undefined;
  if (!existsSync(py)) skipped = `no python at ${py} (create the venv: see bench/e2e.ts)`;
  else if (spawnSync(py, ['-c', 'import lightning, torch, PIL'], { stdio: 'ignore' }).status !== 0) skipped = `${py} cannot import lightning, torch and PIL`;
  if (skipped) log(`e2e: Lightning rows skipped: ${skipped}`);

  const data = path.join(tmpdir(), `flash-e2e-fashion-mixed-${classes}x${perClass}-${testPerClass}`);
  await writeMixedFolders(data, perClass, testPerClass, classes);
  const work = path.join(tmpdir(), `flash-e2e-runs-${process.pid}`);
  const flashBin = path.join(root, 'dist', 'bin', 'flash.js');
  const lightningPy = path.join(root, 'bench', 'lightning_e2e.py');
  try {
    for (let rep = 0; rep < reps; rep++) {
      // Each rep is another seed, the same for both (weight init, split, shuffling): accuracy parity over seeds.
      const seed = 42 + rep;
      const runDir = path.join(work, `flash-${rep}`);
      const metrics = path.join(work, `flash-${rep}-metrics.json`);
      const flashOnce = () => {
        const train = timed(process.execPath, [flashBin, 'image_classification', '--from_folders', path.join(data, 'train'),
          '--backbone', workload, '--image_size', String(w.size), '--channels', String(w.channels), '--max_epochs', String(epochs), '--threads', String(threads),
          '--output_dir', runDir, '--quiet', 'true', '--trainer.seed', String(seed)]);
        check(train, 'flash image_classification');
        const evaluate = timed(process.execPath, [flashBin, 'evaluate', '--model', runDir, '--folder', path.join(data, 'test'), '--output', metrics]);
        check(evaluate, 'flash evaluate');
        const m = JSON.parse(readFileSync(metrics, 'utf8')) as Record<string, unknown>;
        const acc = (m.accuracy ?? (m.metrics as Record<string, unknown> | undefined)?.accuracy) as number | undefined;
        return { wall: train.wall + evaluate.wall, train: train.wall, evaluate: evaluate.wall, rss: Math.max(train.rssMiB ?? 0, evaluate.rssMiB ?? 0) || null,
          other: (train.other * train.wall + evaluate.other * evaluate.wall) / (train.wall + evaluate.wall), acc: acc ?? null };
      };
      const lightningOnce = () => {
        if (skipped) return undefined;
        const r = timed(py, [lightningPy, '--train', path.join(data, 'train'), '--test', path.join(data, 'test'), '--size', String(w.size),
          '--channels', String(w.channels), '--network', workload, '--epochs', String(epochs), '--threads', String(lightningThreads), '--seed', String(seed), '--out', path.join(work, `lightning-${rep}`)]);
        check(r, 'lightning_e2e.py');
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { test_accuracy: number; torch: string; lightning: string };
        return { wall: r.wall, rss: r.rssMiB, other: r.other, acc: out.test_accuracy, versions: `torch ${out.torch}, lightning ${out.lightning}` };
      };
      // Interleaved: even reps flash first, odd reps Lightning first.
      let f, l;
      if (rep % 2 === 0) { f = flashOnce(); l = lightningOnce(); } else { l = lightningOnce(); f = flashOnce(); }
      console.log(JSON.stringify({
        bench: 'e2e', workload: `Fashion-MNIST mixed PNG/JPEG/WebP folders, ${classes} classes x ${perClass} (+${testPerClass} test), ${workload} ${w.size} px, ${epochs} epochs`,
        rep, seed, threads, lightning_threads: lightningThreads,
        flash_wall_s: +f.wall.toFixed(1), flash_train_s: +f.train.toFixed(1), flash_evaluate_s: +f.evaluate.toFixed(1),
        lightning_wall_s: l ? +l.wall.toFixed(1) : null, ratio: l ? +(f.wall / l.wall).toFixed(2) : null,
        flash_test_accuracy: f.acc, lightning_test_accuracy: l?.acc ?? null,
        flash_peak_rss_mib: f.rss, lightning_peak_rss_mib: l?.rss ?? null,
        flash_other_cpu_cores: +f.other.toFixed(2), lightning_other_cpu_cores: l ? +l.other.toFixed(2) : null,
        contended: f.other > CONTENDED_CORES || (l !== undefined && l.other > CONTENDED_CORES),
        ...(l ? { lightning: l.versions } : { lightning_skipped: skipped }),
      }));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

runBench(main);
