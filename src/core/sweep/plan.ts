import { formatProblems, keySpec, monitorDirection, schemaKeys, showValue, type Schema } from '../config/index.js';
import { FlashUserError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { closest } from '../suggest.js';

/**
 * A sweep: a normal recipe plus a `sweep:` section saying which recipe keys to vary and how to judge a trial.
 *
 *   sweep:
 *     metric: val_accuracy        # read from each trial's flash.json metrics (its best epoch)
 *     mode: max                   # or min; auto = min for *loss, else max
 *     method: random              # grid | random
 *     trials: 8                   # random: how many; grid: at most this many of the combinations
 *     time_budget: 600            # seconds: no trial starts after it, running ones are stopped cleanly
 *     seed: 0
 *     parameters:
 *       model.learning_rate: { min: 1e-4, max: 1e-2, log: true }
 *       model.backbone: { values: [simple_cnn, resnet18] }
 */

/** How one recipe key varies. */
export type ParameterSpace = { values: unknown[] } | { min: number; max: number; log: boolean; integer: boolean };

export interface SweepPlan {
  metric: string;
  mode: 'min' | 'max';
  method: 'grid' | 'random';
  trials: number;
  timeBudgetS: number | null;
  seed: number;
  parameters: Record<string, ParameterSpace>;
}

export const SWEEP_METHODS = ['grid', 'random'] as const;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads and checks a `sweep:` section against the task's schema; every problem at once, each naming its key. */
export function parseSweep(section: unknown, schema: Schema, file: string): SweepPlan {
  const problems: string[] = [];
  const at = (key: string) => `${file}: sweep.${key}`;
  if (!isObject(section)) throw new FlashUserError(`${file}: no 'sweep:' section (a recipe plus sweep: { metric, parameters, … })`);
  const known = ['metric', 'mode', 'method', 'trials', 'time_budget', 'seed', 'parameters'];
  for (const k of Object.keys(section)) {
    if (!known.includes(k)) {
      const near = closest(k, known);
      problems.push(`${file}: unknown key 'sweep.${k}'${near ? ` (did you mean 'sweep.${near}'?)` : ''}`);
    }
  }
  const metric = typeof section.metric === 'string' ? section.metric : 'val_loss';
  if (section.metric !== undefined && typeof section.metric !== 'string') problems.push(`${at('metric')}: expected a metric name such as val_accuracy, got ${showValue(section.metric)}`);
  const modeRaw = section.mode ?? 'auto';
  if (!['auto', 'min', 'max'].includes(String(modeRaw))) problems.push(`${at('mode')}: expected min, max or auto, got ${showValue(modeRaw)}`);
  const mode = monitorDirection(metric, ['min', 'max'].includes(String(modeRaw)) ? (modeRaw as 'min' | 'max') : 'auto');
  const method = (section.method ?? 'random') as SweepPlan['method'];
  if (!(SWEEP_METHODS as readonly string[]).includes(String(method))) {
    const near = closest(String(method), SWEEP_METHODS);
    problems.push(`${at('method')}: expected grid or random, got ${showValue(section.method)}${near ? ` (did you mean '${near}'?)` : ''}`);
  }
  const int = (key: string, def: number | null, min: number): number | null => {
    const v = section[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problems.push(`${at(key)}: expected a whole number of at least ${min}, got ${showValue(v)}`);
      return def;
    }
    return v;
  };
  const trialsGiven = int('trials', null, 1);
  const timeBudgetS = int('time_budget', null, 1);
  const seed = int('seed', 0, 0) ?? 0;
  const parameters: Record<string, ParameterSpace> = {};
  if (!isObject(section.parameters) || Object.keys(section.parameters).length === 0) {
    problems.push(`${at('parameters')}: give at least one recipe key to vary, e.g. model.learning_rate: { min: 1e-4, max: 1e-2, log: true }`);
  } else {
    const paths = schemaKeys(schema).map((k) => k.path);
    for (const [path, raw] of Object.entries(section.parameters)) {
      const [sec, key] = path.split('.');
      const spec = key === undefined ? undefined : keySpec(schema, sec, key);
      if (!spec) {
        const near = closest(path, paths);
        problems.push(`${at(`parameters.${path}`)}: not a recipe key${near ? ` (did you mean '${near}'?)` : ''}`);
        continue;
      }
      if (isObject(raw) && Array.isArray(raw.values)) {
        if (raw.values.length === 0) problems.push(`${at(`parameters.${path}`)}: values is empty`);
        parameters[path] = { values: raw.values };
      } else if (isObject(raw) && typeof raw.min === 'number' && typeof raw.max === 'number') {
        if (spec.type !== 'number' && spec.type !== 'integer') problems.push(`${at(`parameters.${path}`)}: min/max needs a numeric key; ${path} is ${spec.type} — give values: [...]`);
        if (!(raw.max >= raw.min)) problems.push(`${at(`parameters.${path}`)}: max ${raw.max} is below min ${raw.min}`);
        if (raw.log === true && !(raw.min > 0)) problems.push(`${at(`parameters.${path}`)}: log needs min > 0`);
        parameters[path] = { min: raw.min, max: raw.max, log: raw.log === true, integer: spec.type === 'integer' };
      } else {
        problems.push(`${at(`parameters.${path}`)}: expected { values: [...] } or { min, max[, log: true] }, got ${showValue(raw)}`);
      }
    }
  }
  if (method === 'grid') {
    for (const [path, space] of Object.entries(parameters)) {
      if (!('values' in space)) problems.push(`${at(`parameters.${path}`)}: a grid needs values: [...] (min/max is for random)`);
    }
  }
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  const gridSize = Object.values(parameters).reduce((n, s) => n * ('values' in s ? s.values.length : 1), 1);
  const trials = method === 'grid' ? Math.min(gridSize, trialsGiven ?? gridSize) : (trialsGiven ?? 10);
  return { metric, mode, method, trials, timeBudgetS, seed, parameters };
}

/** The parameter values of every trial, in order: the grid's combinations (last key fastest), or seeded draws. */
export function trialValues(plan: SweepPlan): Record<string, unknown>[] {
  const entries = Object.entries(plan.parameters);
  if (plan.method === 'grid') {
    const out: Record<string, unknown>[] = [{}];
    for (const [path, space] of entries) {
      const values = (space as { values: unknown[] }).values;
      const next: Record<string, unknown>[] = [];
      for (const partial of out) for (const v of values) next.push({ ...partial, [path]: v });
      out.splice(0, out.length, ...next);
    }
    return out.slice(0, plan.trials);
  }
  const rand = mulberry32(plan.seed);
  return Array.from({ length: plan.trials }, () => {
    const t: Record<string, unknown> = {};
    for (const [path, space] of entries) {
      if ('values' in space) t[path] = space.values[Math.floor(rand() * space.values.length)];
      else {
        const u = rand();
        let v = space.log ? Math.exp(Math.log(space.min) + u * (Math.log(space.max) - Math.log(space.min))) : space.min + u * (space.max - space.min);
        if (space.integer) v = Math.round(v);
        else v = Number(v.toPrecision(4));
        t[path] = v;
      }
    }
    return t;
  });
}

/** `{ 'model.learning_rate': 0.01 }` → `{ model: { learning_rate: 0.01 } }` (recipe overrides). */
export function nested(values: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [path, v] of Object.entries(values)) {
    const [section, key] = path.split('.');
    (out[section] ??= {})[key] = v;
  }
  return out;
}
