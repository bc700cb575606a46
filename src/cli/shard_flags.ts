import { resolve } from 'node:path';
import { FlashUserError } from '../core/errors.js';
import { parseShard, parseShardCount, type Shard } from '../core/shard/shard.js';
import type { CommandOption, ParsedCommand, RunCommandName, TaskCommand } from '../../tasks/types.js';
import type { FlagKind } from './argv.js';

/**
 * The shard flags every task's `predict` gets when it declares `shards` (TaskCommand.shards): the CLI adds them
 * to the task's own flags, parses them, and either hands the task `args.shard` (one shard, here) or spreads the
 * shards itself (a queue, a Kubernetes Job, a merge) — no task carries its own copy.
 */
export const SHARD_OPTIONS: readonly CommandOption[] = [
  { name: 'shard', kind: 'string', description: 'predict only shard i of n (0-based: 0/8 … 7/8, as JOB_COMPLETION_INDEX counts): a contiguous range of the inputs in order; each output row starts with input_row' },
  { name: 'shards', kind: 'string', description: 'split into n shards: with --queue (BullMQ jobs for flash worker), --k8s_manifest (a Kubernetes Indexed Job) or --merge' },
  { name: 'queue', kind: 'string', description: 'redis://host:port: run the --shards as jobs on the queue, wait, and merge them into --output in input order' },
  { name: 'k8s_manifest', kind: 'string', description: 'write a Kubernetes Indexed Job (YAML) running the --shards instead of predicting; merge afterwards with --merge' },
  { name: 'image', kind: 'string', description: '--k8s_manifest: the container image, with flash on its PATH (default: flash:latest)' },
  { name: 'pvc', kind: 'string', description: '--k8s_manifest: the PersistentVolumeClaim mounted at this folder in every pod (default: flash-data)' },
  { name: 'merge', kind: 'boolean', description: 'merge the parts OUTPUT.shards/part-i-of-n.* of the --shards into --output (every shard exactly once)' },
];

/** The help paragraph on shards of a predict that declares them. */
export function shardNote(of: string): string {
  return [
    `Shards split ${of}: shard i of n (0-based) is the i-th of n contiguous ranges, so the parts in shard order are the`,
    'inputs in order. --shard i/n --output part.jsonl predicts one; --shards n --queue redis://… --output preds.jsonl',
    'runs them on flash worker processes and merges; --shards n --k8s_manifest job.yaml writes a Kubernetes Indexed Job.',
  ].join('\n');
}

/** What the shard flags ask for: one shard here, or the shards spread elsewhere (or merged). */
export type ShardRequest =
  | { kind: 'one'; shard: Shard }
  | { kind: 'queue'; shards: number; url: string; output: string }
  | { kind: 'k8s'; shards: number; manifest: string; image: string; pvc: string; output: string }
  | { kind: 'merge'; shards: number; output: string };

/** A command's options with the shard flags, when it is a predict that declares shards. */
export function commandOptions(command: RunCommandName, cmd: TaskCommand): readonly CommandOption[] {
  return command === 'predict' && cmd.shards ? [...cmd.options, ...SHARD_OPTIONS] : cmd.options;
}

/** Reads the shard flags (every problem pushed, all at once); undefined when none is given. */
export function readShardFlags(p: ParsedCommand): ShardRequest | undefined {
  const given = SHARD_OPTIONS.map((o) => o.name).filter((n) => p.has(n));
  if (given.length === 0) return undefined;
  const problem = (m: string) => void p.problems.push(m);
  const value = <T>(name: string, read: (text: string) => T): T | undefined => {
    const text = p.str(name);
    if (text === undefined) return undefined;
    try {
      return read(text);
    } catch (err) {
      if (!(err instanceof FlashUserError)) throw err;
      problem(err.message);
      return undefined;
    }
  };
  const shard = value('shard', (t) => parseShard(t));
  const shards = value('shards', (t) => parseShardCount(t));
  const url = p.str('queue');
  const manifest = p.str('k8s_manifest');
  const merge = p.bool('merge');
  const output = p.str('output');
  const spreads = [url !== undefined && '--queue', manifest !== undefined && '--k8s_manifest', merge && '--merge'].filter((x): x is string => typeof x === 'string');
  if (p.has('shard')) {
    if (p.has('shards')) problem('--shard i/n predicts one shard here: give it without --shards');
    for (const f of spreads) problem(`--shard i/n predicts one shard here: give it without ${f} (--shards n with ${f} spreads them)`);
    return shard ? { kind: 'one', shard } : undefined;
  }
  if (spreads.length > 1) problem(`give one of ${spreads.join(', ')}`);
  if (spreads.length === 0) problem('--shards n goes with --queue redis://…, --k8s_manifest job.yaml or --merge');
  if (!p.has('shards')) problem(`${spreads[0] ?? '--queue'}: give --shards n (how many shards)`);
  if (output === undefined && !p.has('output')) problem(`${spreads[0] ?? '--shards'}: give --output (the merged predictions: .jsonl, .json or .csv)`);
  for (const f of ['image', 'pvc']) if (p.has(f) && manifest === undefined) problem(`--${f} goes with --k8s_manifest`);
  if (shards === undefined || output === undefined || spreads.length !== 1) return undefined;
  if (url !== undefined) return { kind: 'queue', shards, url, output };
  if (manifest !== undefined) return { kind: 'k8s', shards, manifest, image: p.str('image') ?? 'flash:latest', pvc: p.str('pvc') ?? 'flash-data', output };
  return { kind: 'merge', shards, output };
}

/**
 * argv without the shard flags and `--output` (what every shard job runs, with its own --shard and --output added).
 * `kinds` says how each flag takes its value, so `--files a b --queue x` drops exactly `--queue x`.
 */
export function withoutShardFlags(tokens: readonly string[], kinds: ReadonlyMap<string, FlagKind>): string[] {
  const drop = new Set([...SHARD_OPTIONS.map((o) => o.name), 'output']);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '--') {
      out.push(...tokens.slice(i));
      break;
    }
    const m = /^--([^=]+)(=.*)?$/.exec(t);
    if (!m || !drop.has(m[1])) {
      out.push(t);
      continue;
    }
    if (m[2] !== undefined) continue;
    const kind = kinds.get(m[1]) ?? 'string';
    if (kind === 'string') i++;
    else if (kind === 'array') while (i + 1 < tokens.length && !tokens[i + 1].startsWith('-')) i++;
  }
  return out;
}

/** The absolute paths a shard needs, from the task's declaration (stdin, '-', can't be sent to a worker). */
export function shardNeeds(cmd: TaskCommand, args: Parameters<TaskCommand['run']>[0], cwd: string): string[] {
  const needs = cmd.shards!.needs(args);
  if (needs.includes('-')) throw new FlashUserError('stdin (-) cannot be split over workers: give a file every worker can read');
  return [...new Set(needs.map((p) => resolve(cwd, p)))];
}
