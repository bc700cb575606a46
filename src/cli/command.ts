import path from 'node:path';
import { formatProblems } from '../core/config/index.js';
import { FlashUserError } from '../core/errors.js';
import type { CommandOption, ParsedCommand, RunCommandName, TaskCommand } from '../../tasks/types.js';
import { parseFlags, unknownOptionMessage, wantsHelp, type FlagKind } from './argv.js';
import { commandHelp } from './help.js';
import { commandOptions, readShardFlags, shardNeeds, withoutShardFlags } from './shard_flags.js';
import type { CliDeps } from './types.js';

/**
 * Parses a command's argv against its options into the helpers a task's `parse` reads; every problem (unknown
 * flags with suggestions, empty or malformed values) is collected in `problems`.
 */
export function parseCommand(tokens: readonly string[], options: readonly CommandOption[]): ParsedCommand {
  const kinds = new Map<string, FlagKind>(options.map((o) => [o.name, o.kind]));
  const parsed = parseFlags(tokens, kinds);
  const problems = parsed.unknown.map((f) => unknownOptionMessage(f, [...kinds.keys()]));
  const str = (name: string): string | undefined => {
    const v = parsed.values.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`--${name}: expected a value`);
      return undefined;
    }
    return v.trim();
  };
  return {
    positionals: parsed.positionals,
    problems,
    has: (name) => parsed.values.has(name),
    str,
    list: (name) => {
      const v = parsed.values.get(name);
      return Array.isArray(v) ? v : undefined;
    },
    bool: (name) => parsed.values.get(name) === true,
    int: (name, def, min, max) => {
      const v = str(name);
      if (v === undefined) return def;
      const n = Number(v);
      if (!/^[+-]?\d+$/.test(v) || n < min || (max !== undefined && n > max)) {
        problems.push(`--${name}: expected an integer ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}, got '${v}'`);
        return def;
      }
      return n;
    },
    fraction: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n >= 1) {
        problems.push(`--${name}: expected a number between 0 and 1 (exclusive), got '${v}'`);
        return undefined;
      }
      return n;
    },
  };
}

/** Where a command names its run: `--model` for most, the first bare word for `report` and `compare`. */
function runNamed(command: RunCommandName, tokens: readonly string[], offers: readonly [string, TaskCommand][]): string | undefined {
  const all = new Map<string, CommandOption>();
  for (const [, cmd] of offers) for (const o of cmd.options) all.set(o.name, o);
  const parsed = parseFlags(tokens, new Map([...all.values()].map((o) => [o.name, o.kind])));
  if (command === 'report' || command === 'compare') return parsed.positionals[0];
  const model = parsed.values.get('model');
  return typeof model === 'string' && model.trim() ? model.trim() : undefined;
}

/**
 * `flash predict|evaluate|serve|report|compare|export …`: the run's task (its flash.json) gives the command's
 * flags; the CLI parses them, reports every problem at once, and calls the command. Without a run named, the one
 * task offering the command parses (so its own "missing --model" joins the other problems).
 */
export async function runCommand(command: RunCommandName, tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  const offers = deps.tasks.list().flatMap((t): [string, TaskCommand][] => (t.item.commands[command] ? [[t.name, t.item.commands[command]]] : []));
  const run = runNamed(command, tokens, offers);
  const help = wantsHelp(tokens);
  let chosen: [string, TaskCommand] | undefined;
  if (run !== undefined) {
    try {
      const name = await deps.taskOfRun(path.resolve(io.cwd, run));
      const cmd = deps.tasks.get(name).commands[command];
      if (!cmd) throw new FlashUserError(`task '${name}' has no ${command} command`);
      chosen = [name, cmd];
    } catch (err) {
      if (!help) throw err; // help never fails on the run named beside it
    }
  }
  if (!chosen && offers.length === 1) chosen = offers[0];
  if (help) return io.out(commandHelp(command, chosen ? [chosen] : offers));
  if (!chosen) {
    if (offers.length === 0) throw new FlashUserError(`no registered task offers ${command}`);
    throw new FlashUserError(command === 'report' || command === 'compare' ? `give a run folder: flash ${command} runs/X` : "missing required option '--model' (a run folder, e.g. runs/<task>-…)");
  }
  const options = commandOptions(command, chosen[1]);
  const parsed = parseCommand(tokens, options);
  const args = chosen[1].parse(parsed, { io, registries: { ...deps.registries, ...deps.tasks.get(chosen[0]).registries } });
  const sharding = options === chosen[1].options ? undefined : readShardFlags(parsed);
  if (parsed.problems.length) throw new FlashUserError(formatProblems(parsed.problems));
  if (sharding?.kind === 'one') args.shard = sharding.shard;
  else if (sharding) {
    // The shards run elsewhere (or are merged): each runs this same command with its own --shard and --output.
    if (!deps.commands.predictShards) throw new FlashUserError('this flash cannot spread predict over shards');
    const argv = withoutShardFlags(tokens, new Map(options.map((o) => [o.name, o.kind])));
    return deps.commands.predictShards({ request: sharding, argv, needs: shardNeeds(chosen[1], args, io.cwd), io });
  }
  const exec = deps.commands[command];
  if (!exec) throw new FlashUserError(`this flash has no ${command} command`);
  await exec(args);
}
