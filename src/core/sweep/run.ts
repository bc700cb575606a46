import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, appendFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { renderSvg, svgToPng, type TopLevelSpec } from '../charts.js';
import { recipeToYaml, type Recipe, type Schema } from '../config/index.js';
import { FlashUserError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { defaultRunDir } from '../run/run_folder.js';
import { lockRunDir } from '../run/run_guard.js';
import type { TaskIO } from '../task_io.js';
import { nested, trialValues, type SweepPlan } from './plan.js';
import { sweepReport } from './report.js';
import type { TrialResult } from './types.js';

export type { TrialResult } from './types.js';

/** Runs one trial's recipe into its run folder; `signal` asks it to stop cleanly (the time budget). */
export type TrialRunner = (trial: { recipePath: string; runDir: string; signal: AbortSignal; cwd: string }) => Promise<{ code: number; error?: string; worker?: string }>;

/** The default runner: each trial is `flash --config <trial recipe>` in a child process, so a crash is the trial's alone. */
export function binaryTrialRunner(bin: string, env: Record<string, string | undefined>): TrialRunner {
  return ({ recipePath, signal, cwd }) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, '--config', recipePath, '--overwrite'], { cwd, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
      const stop = () => child.kill('SIGINT');
      signal.addEventListener('abort', stop, { once: true });
      child.on('error', reject);
      child.on('close', (code) => {
        signal.removeEventListener('abort', stop);
        const error = stderr.split('\n').reverse().find((l) => l.startsWith('error: '))?.slice('error: '.length);
        resolve({ code: code ?? 1, ...(error ? { error } : {}) });
      });
    });
}

export interface SweepArgs {
  task: string;
  schema: Schema;
  plan: SweepPlan;
  /** A trial's full recipe from its parameter values (the caller resolves and checks it). */
  recipeFor(overrides: Record<string, Record<string, unknown>>): Recipe;
  io: TaskIO;
  /** The sweep folder; default sweeps/<task>-<timestamp>. */
  outDir?: string;
  workers: number;
  runner: TrialRunner;
  /** Stops the sweep: running trials stop cleanly and are recorded as stopped (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** `--queue redis://…`: trials become BullMQ jobs that `flash worker` processes take. */
  queue?: string;
}

export interface SweepResult {
  dir: string;
  results: TrialResult[];
  best?: TrialResult;
}

const pad = (n: number) => String(n).padStart(3, '0');

/** Reads results.jsonl of an earlier run of the same sweep: its trials are kept (re-running resumes). */
async function finishedTrials(file: string): Promise<Map<number, TrialResult>> {
  const done = new Map<number, TrialResult>();
  if (!existsSync(file)) return done;
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as TrialResult;
      done.set(r.trial, r);
    } catch {
      // a line cut by a hard kill: that trial runs again
    }
  }
  return done;
}

/**
 * Runs a sweep on this machine: every trial's recipe is checked first (a bad value stops the sweep before
 * anything trains), then `workers` trials run at a time, each in its own run folder; results.jsonl gets a line as
 * each finishes and results.csv is rewritten. Failing or early-stopped trials are recorded, not fatal. Re-running
 * the same sweep into the same folder keeps finished trials and runs the rest.
 */
export async function runSweep(args: SweepArgs): Promise<SweepResult> {
  const { io, plan } = args;
  const say = (line: string) => io.out(`${line}\n`);
  const dir = args.outDir ?? defaultRunDir(io.cwd, args.task, 'sweeps');
  checkSweepDir(dir, relative(io.cwd, dir) || '.');
  const values = trialValues(plan);
  // Every trial's recipe, checked before any trains.
  const recipes = values.map((v, i) => args.recipeFor({ ...nested(v), trainer: { ...(nested(v).trainer ?? {}), output_dir: join(dir, `trial-${pad(i + 1)}`), quiet: true } }));
  await mkdir(join(dir, 'trials'), { recursive: true });
  const lock = await lockRunDir(dir, relative(io.cwd, dir) || '.');
  const started = Date.now();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  args.signal?.addEventListener('abort', onAbort);
  const budgetTimer = plan.timeBudgetS ? setTimeout(() => stop.abort(), plan.timeBudgetS * 1000) : undefined;
  try {
    const jsonl = join(dir, 'results.jsonl');
    const done = await finishedTrials(jsonl);
    for (const [trial, r] of done) {
      if (trial > values.length || JSON.stringify(r.params) !== JSON.stringify(values[trial - 1])) {
        throw new FlashUserError(`${relative(io.cwd, jsonl)} is from a different sweep (trial ${trial} had ${formatParams(r.params)}); choose another --output_dir`);
      }
    }
    const results: TrialResult[] = [...done.values()].filter((r) => r.trial <= recipes.length);
    if (results.length) say(`sweep: ${results.length} of ${recipes.length} trials already in ${relative(io.cwd, jsonl)}; running the rest`);
    const queue = recipes.map((r, i) => ({ trial: i + 1, recipe: r, params: values[i] })).filter((t) => !done.has(t.trial));
    say(`sweep: ${recipes.length} trials (${plan.method}), ${args.workers} worker(s), judged by ${plan.metric} (${plan.mode})${plan.timeBudgetS ? `, time budget ${plan.timeBudgetS} s` : ''} → ${relative(io.cwd, dir) || '.'}`);
    const worker = async (w: number) => {
      for (let next = queue.shift(); next && !stop.signal.aborted; next = queue.shift()) {
        const runDir = join(dir, `trial-${pad(next.trial)}`);
        const recipePath = join(dir, 'trials', `trial-${pad(next.trial)}.yaml`);
        await writeFileAtomic(recipePath, recipeToYaml(next.recipe, args.schema, `flash sweep trial ${next.trial}: ${JSON.stringify(next.params)}`));
        const t0 = Date.now();
        const ran = await args.runner({ recipePath, runDir, signal: stop.signal, cwd: io.cwd });
        const result = await readTrial(next.trial, next.params, runDir, plan.metric, ran, (Date.now() - t0) / 1000, ran.worker ?? `local-${w}`, stop.signal.aborted);
        results.push(result);
        await appendFile(jsonl, JSON.stringify(result) + '\n');
        await writeResultsCsv(join(dir, 'results.csv'), results, plan);
        const shown = result.value === null ? 'n/a' : result.value.toFixed(4);
        say(`trial ${result.trial}/${recipes.length} ${result.status}: ${plan.metric} ${shown} (${formatParams(result.params)}; ${result.seconds.toFixed(1)} s${result.error ? `; ${result.error}` : ''})`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, args.workers) }, (_, w) => worker(w + 1)));
    if (queue.length) say(`sweep: ${queue.length} trial(s) not started (${args.signal?.aborted ? 'interrupted' : 'time budget'}); run the same command again to run them`);
    results.sort((a, b) => a.trial - b.trial);
    const best = bestOf(results, plan);
    if (best) {
      await copyFile(join(best.run_dir, 'recipe.yaml'), join(dir, 'best_recipe.yaml')).catch(() => undefined);
      say(`best: trial ${best.trial} (${plan.metric} ${best.value!.toFixed(4)}): ${formatParams(best.params)} → ${relative(io.cwd, best.run_dir)}; its recipe: ${relative(io.cwd, join(dir, 'best_recipe.yaml'))}`);
      await writeFileAtomic(join(dir, 'sweep.png'), await sweepPng(results, plan)).catch((err) => io.err(`warning: could not draw sweep.png: ${(err as Error).message}\n`));
    } else {
      say(`sweep: no trial produced ${plan.metric}`);
    }
    await writeFileAtomic(join(dir, 'report.md'), sweepReport(args.task, results, plan, { plot: existsSync(join(dir, 'sweep.png')), bestRecipe: existsSync(join(dir, 'best_recipe.yaml')) }));
    say(`report: ${relative(io.cwd, join(dir, 'report.md'))}; results: ${relative(io.cwd, join(dir, 'results.csv'))} and results.jsonl (${Math.round((Date.now() - started) / 1000)} s)`);
    return { dir, results, ...(best ? { best } : {}) };
  } finally {
    if (budgetTimer) clearTimeout(budgetTimer);
    args.signal?.removeEventListener('abort', onAbort);
    await lock.release();
  }
}

/** A finished trial from its run folder's flash.json (a trial that never wrote one failed). */
async function readTrial(
  trial: number,
  params: Record<string, unknown>,
  runDir: string,
  metric: string,
  ran: { code: number; error?: string },
  seconds: number,
  worker: string,
  stoppedByBudget: boolean,
): Promise<TrialResult> {
  let meta: { status?: string; metrics?: Record<string, number>; best_epoch?: number } = {};
  try {
    meta = JSON.parse(await readFile(join(runDir, 'flash.json'), 'utf8'));
  } catch {
    // no flash.json: the trial failed before its first epoch
  }
  const metrics = meta.metrics ?? {};
  const value = typeof metrics[metric] === 'number' && Number.isFinite(metrics[metric]) ? metrics[metric] : null;
  const status: TrialResult['status'] =
    ran.code === 0 ? (meta.status === 'stopped' ? 'stopped' : 'completed') : stoppedByBudget && ran.code === 130 ? 'stopped' : 'failed';
  const result: TrialResult = { trial, status, params, value, metrics, best_epoch: meta.best_epoch ?? null, seconds, worker, run_dir: runDir };
  if (status === 'failed') result.error = ran.error ?? `exit code ${ran.code}`;
  return result;
}

function bestOf(results: TrialResult[], plan: SweepPlan): TrialResult | undefined {
  const scored = results.filter((r) => r.value !== null && r.status !== 'failed');
  return scored.sort((a, b) => (plan.mode === 'max' ? b.value! - a.value! : a.value! - b.value!))[0];
}

function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : String(v)}`).join(', ');
}

async function writeResultsCsv(file: string, results: TrialResult[], plan: SweepPlan): Promise<void> {
  const keys = Object.keys(plan.parameters);
  const metricNames = [...new Set(results.flatMap((r) => Object.keys(r.metrics)))].sort();
  const rows = [...results].sort((a, b) => a.trial - b.trial).map((r) => [r.trial, r.status, ...keys.map((k) => String(r.params[k])), r.value ?? '', ...metricNames.map((m) => r.metrics[m] ?? ''), r.best_epoch ?? '', r.seconds.toFixed(1), r.worker, r.error ?? '']);
  await writeFileAtomic(file, stringify([['trial', 'status', ...keys, plan.metric, ...metricNames.map((m) => `metric_${m}`), 'best_epoch', 'seconds', 'worker', 'error'], ...rows]));
}

/** The metric against each parameter, one panel per parameter (a log axis for log-scaled ranges). */
async function sweepPng(results: TrialResult[], plan: SweepPlan): Promise<Buffer> {
  const panels = Object.entries(plan.parameters).map(([key, space]): TopLevelSpec => {
    const numeric = !('values' in space) || space.values.every((v) => typeof v === 'number');
    const values = results.filter((r) => r.value !== null).map((r) => ({ x: r.params[key], y: r.value, status: r.status }));
    return {
      width: 240,
      height: 200,
      title: key,
      data: { values },
      mark: { type: 'point', filled: true, size: 70 },
      encoding: {
        x: { field: 'x', type: numeric ? 'quantitative' : 'nominal', title: key, ...(numeric && !('values' in space) && space.log ? { scale: { type: 'log' } } : {}) },
        y: { field: 'y', type: 'quantitative', title: plan.metric, scale: { zero: false } },
        color: { field: 'status', type: 'nominal' },
      },
    } as TopLevelSpec;
  });
  const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: `Sweep: ${plan.metric} by parameter`, hconcat: panels } as unknown as TopLevelSpec;
  return svgToPng(await renderSvg(spec));
}

/** Refuses a sweep folder that holds something other than this sweep's own files. */
export function checkSweepDir(dir: string, shown: string): void {
  if (!existsSync(dir)) return;
  const foreign = readdirSync(dir).filter((e) => !/^(trial-\d+|trials|results\.(csv|jsonl)|best_recipe\.yaml|sweep\.png|report\.md|\.flash\.lock)$/.test(e));
  if (foreign.length) throw new FlashUserError(`sweep folder '${shown}' holds other files (${foreign.slice(0, 3).join(', ')}); choose another --output_dir`);
}
