/**
 * `flash sweep` overhead: the same 8-trial grid (tabular_classification on a small CSV, the learning rate varied)
 * run as a user runs it — with 1 and 2 local workers (each trial a `flash --config` child process), and with 2
 * `flash worker` processes on a real Redis (redis-server on a free loopback port, started here; trials run
 * in-process in the workers) — beside a plain `flash tabular_classification` run of one trial's recipe.
 *
 *   node dist/bench/sweep.js [--trials 8] [--rows 400] [--epochs 3] [--reps 1] [--modes direct,local1,local2,queue2]
 *
 * One JSON line per mode and rep: wall seconds of the whole command and per trial; the trials' own seconds as the
 * sweep saw them (mean; on the queue from enqueue to done, so it includes waiting for a free worker); overhead_per_trial_s = wall × workers / trials − the direct run's seconds (what each trial cost beyond
 * training it by hand, in worker-seconds; it includes process start and tfjs load for local trials); the 1-minute
 * load average before and after (other jobs on the machine make every figure slower: contended when it is above
 * the cores this bench uses).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { intArg, log, round, runBench } from './common.js';
import { packageRoot } from '../src/core/package_root.js';

const BIN = path.join(packageRoot(), 'dist', 'bin', 'flash.js');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Runs flash to completion; its wall seconds, or a thrown error with its stderr. */
function flash(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`flash ${args.join(' ')} exited ${code}:\n${err}`))));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A seeded table: x1, x2, a colour, and a class that depends on them. */
function table(rows: number, seed: number): string {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const colors = ['red', 'green', 'blue'];
  const lines = Array.from({ length: rows }, () => {
    const [x1, x2, c] = [r() * 4 - 2, r() * 4 - 2, colors[Math.floor(r() * 3)]];
    return `${x1.toFixed(4)},${x2.toFixed(4)},${c},${x1 + (c === 'red' ? 1 : c === 'green' ? -1 : 0) > 0 ? 'a' : 'b'}`;
  });
  return ['x1,x2,color,cls', ...lines].join('\n') + '\n';
}

async function main(): Promise<void> {
  const trials = intArg('trials', arg('trials'), 8);
  const rows = intArg('rows', arg('rows'), 400);
  const epochs = intArg('epochs', arg('epochs'), 3);
  const reps = intArg('reps', arg('reps'), 1);
  const modes = (arg('modes') ?? 'direct,local1,local2,queue2').split(',');
  const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
  const dir = await mkdtemp(path.join(tmpdir(), 'flash-bench-sweep-'));
  let redis: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  try {
    await writeFile(path.join(dir, 'train.csv'), table(rows, 1));
    const rates = Array.from({ length: trials }, (_, i) => Number((1e-3 * Math.pow(30, i / Math.max(1, trials - 1))).toPrecision(3)));
    const recipe = {
      task: 'tabular_classification',
      trainer: { max_epochs: epochs },
      data: { builder: 'from_csv', train_file: 'train.csv', target_fields: ['cls'] },
      sweep: { metric: 'val_accuracy', method: 'grid', parameters: { 'model.learning_rate': { values: rates } } },
    };
    await writeFile(path.join(dir, 'sweep.yaml'), toYaml(recipe));
    const { sweep: _sweep, ...plain } = recipe;
    await writeFile(path.join(dir, 'one.yaml'), toYaml({ ...plain, model: { learning_rate: rates[0] } }));
    let url = '';
    if (modes.includes('queue2')) {
      if (!haveRedis) log('queue2: redis-server is not installed; skipped');
      else {
        const port = await freePort();
        redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
        url = `redis://127.0.0.1:${port}`;
        for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
        for (let w = 0; w < 2; w++) workers.push(spawn(process.execPath, [BIN, 'worker', '--queue', url], { cwd: dir, stdio: 'ignore' }));
        await new Promise((r) => setTimeout(r, 3000)); // the workers load tfjs and connect before the clock starts
      }
    }
    let direct: number | undefined;
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of modes) {
        if (mode === 'queue2' && !url) continue;
        const load = loadavg()[0];
        const out = `out-${mode}-${rep}`;
        let wall: number;
        let workersUsed = 1;
        if (mode === 'direct') {
          const times: number[] = [];
          for (let k = 0; k < 3; k++) times.push(await flash(['--config', 'one.yaml', '--trainer.output_dir', `${out}-${k}`], dir));
          wall = times.sort((a, b) => a - b)[1];
          direct = wall;
        } else if (mode === 'local1' || mode === 'local2') {
          workersUsed = mode === 'local1' ? 1 : 2;
          wall = await flash(['sweep', '--config', 'sweep.yaml', '--workers', String(workersUsed), '--output_dir', out], dir);
        } else if (mode === 'queue2') {
          workersUsed = 2;
          wall = await flash(['sweep', '--config', 'sweep.yaml', '--queue', url, '--output_dir', out], dir);
        } else throw new Error(`unknown mode '${mode}' (direct, local1, local2, queue2)`);
        const line: Record<string, unknown> = { bench: 'sweep', mode, rep, date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model ?? '', trials: mode === 'direct' ? 1 : trials, workers: workersUsed, rows, epochs, wall_s: round(wall, 2) };
        if (mode !== 'direct') {
          const results = (await readFile(path.join(dir, out, 'results.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seconds: number; status: string });
          line.completed = results.filter((r) => r.status === 'completed').length;
          line.trial_s_mean = round(results.reduce((s, r) => s + r.seconds, 0) / results.length, 2);
          line.wall_per_trial_s = round(wall / trials, 2);
          line.overhead_per_trial_s = direct === undefined ? null : round((wall * workersUsed) / trials - direct, 2);
        } else line.direct_run_s_median_of_3 = round(wall, 2);
        const after = loadavg()[0];
        line.loadavg_1m = [round(load, 2), round(after, 2)];
        line.contended = Math.max(load, after) > Math.max(2, workersUsed) + 0.5;
        process.stdout.write(JSON.stringify(line) + '\n');
      }
    }
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
