import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  schemaKeys,
  findRecipeFile,
  formatProblems,
  loadRecipeFile,
  RecipeError,
  recipeToYaml,
  resolveRecipe,
  type LoadedRecipeFile,
  type Recipe,
} from '../core/config/index.js';
import { FlashUserError, isUserError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { parseFlags, unknownOptionMessage, wantsHelp } from './argv.js';
import { COMMANDS, generalHelp, listGroups, listHelp, listText, registriesFor, taskHelp } from './help.js';
import { parseTaskArgs } from './task.js';
import { parseCommand, runCommand } from './command.js';
import { parseSweep } from '../core/sweep/plan.js';
import { RUN_COMMANDS } from './help.js';
import type { RunCommandName, TaskPlugin } from '../../tasks/types.js';
import type { CliDeps } from './types.js';

/**
 * Runs the `flash` command line and returns the exit code: 0 on success, the error's code (2 by default) for a
 * user error printed as `error: <message>`, 1 for an internal error printed with its stack. Never exits the
 * process and never reads `process.argv`: `bin/flash.ts` passes `process.argv.slice(2)` and real deps.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  try {
    await dispatch([...argv], deps);
    return 0;
  } catch (err) {
    if (isUserError(err)) {
      io.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    const trace = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
    io.err(`${trace}\n\nthis is a bug in flash; please report it (with the command you ran and the output above)\n`);
    return 1;
  }
}

async function dispatch(argv: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(generalHelp(deps));
    throw new FlashUserError(`missing command: give a task (flash list tasks) or one of ${Object.keys(COMMANDS).filter((c) => c !== 'help').join(', ')}`);
  }
  if (first === '--help' || first === '-h') return io.out(generalHelp(deps));
  if (first === '--version' || first === '-V' || first === '-v') return io.out(`${deps.version}\n`);
  if (first.startsWith('-')) {
    // `flash --config recipe.yaml [flags]`: the recipe names the task.
    const task = await taskOfConfig(argv, deps);
    if (task !== undefined) return runTask(task, argv, deps);
    const flag = first.replace(/=.*/, '');
    throw new FlashUserError(
      flag === '--config'
        ? `the recipe given by --config names no task: write 'task: <name>' in it, or run flash <task> --config … (tasks: ${deps.tasks.names().join(', ')})`
        : `${unknownOptionMessage(flag, ['help', 'version'])}; the command comes first: flash <task|predict|evaluate|serve|report|compare|export|list> [options]`,
    );
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return io.out(generalHelp(deps));
    return dispatch([topic, '--help'], deps);
  }
  if (first === 'list') return list(rest, deps);
  if (first === 'lr_find') return lrFind(rest, deps);
  if (first === 'sweep') return sweep(rest, deps);
  if (first === 'worker') return worker(rest, deps);
  if ((RUN_COMMANDS as readonly string[]).includes(first)) return runCommand(first as RunCommandName, rest, deps);
  if (deps.tasks.has(first)) return runTask(first, rest, deps);
  const candidates = [...deps.tasks.names(), ...Object.keys(COMMANDS)];
  throw new FlashUserError(
    `unknown command '${first}'${didYouMean(first, candidates)}; tasks: ${deps.tasks.names().join(', ') || '(none)'}; commands: ${Object.keys(COMMANDS).join(', ')}`,
  );
}

/** The registered task named by the `--config` file in argv, if there is one. */
async function taskOfConfig(argv: readonly string[], deps: CliDeps): Promise<string | undefined> {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === '--config') file = argv[i + 1];
    else if (argv[i].startsWith('--config=')) file = argv[i].slice('--config='.length);
  }
  if (!file) return undefined;
  const { config } = await loadRecipeFile(file, deps.io.cwd);
  const task = (config as { task?: unknown } | null)?.task;
  if (typeof task !== 'string') return undefined;
  deps.tasks.get(task); // an unknown task is a user error with suggestions
  return task;
}

/** A path as messages show it: relative to the working directory when inside it. */
function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** What `flash <task> …` resolved to. */
export interface TaskRun {
  recipe: Recipe;
  printConfig: boolean;
  resume?: string;
  overwrite: boolean;
  /** The task's own train flags that were given (`--check`). */
  flags: Record<string, string | boolean>;
}

/** Other tasks' recipe keys (`section.key` → tasks) and flags (spelling → tasks), so a stray one is named as theirs. */
function foreignKeys(task: TaskPlugin, deps: CliDeps): { keys: Map<string, string[]>; flags: Map<string, string[]> } {
  const mine = new Set(schemaKeys(task.schema).map((k) => k.path));
  const keys = new Map<string, string[]>();
  const flags = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, owner: string) => m.set(k, [...new Set([...(m.get(k) ?? []), owner])]);
  for (const other of deps.tasks.list()) {
    if (other.item === task) continue;
    for (const k of schemaKeys(other.item.schema)) {
      if (mine.has(k.path)) continue;
      add(keys, k.path, other.name);
      add(flags, k.path, other.name);
    }
  }
  return { keys, flags };
}

/**
 * Resolves the recipe for `flash <task> <tokens…>` — schema defaults < task defaults < recipe file (`--config`,
 * else one found in the working directory) < flags — reporting flag and recipe problems together.
 */
export async function resolveTaskRecipe(taskName: string, tokens: readonly string[], deps: CliDeps): Promise<TaskRun> {
  const task = deps.tasks.get(taskName);
  const foreign = foreignKeys(task, deps);
  const inv = parseTaskArgs(taskName, task, tokens, foreign.flags);
  // The recipe file: --config; else, when resuming, the run's own recipe.yaml (so the run goes on with the
  // settings it started with; flags still override); else one found in the working directory.
  const resumed = inv.resume !== undefined ? path.join(inv.resume, 'recipe.yaml') : undefined;
  let loaded: LoadedRecipeFile | null;
  let filePath: string | undefined;
  if (inv.config !== undefined) {
    loaded = await loadRecipeFile(inv.config, deps.io.cwd);
    filePath = inv.config;
  } else if (resumed !== undefined && existsSync(path.resolve(deps.io.cwd, resumed))) {
    loaded = await loadRecipeFile(resumed, deps.io.cwd);
    filePath = resumed;
  } else {
    loaded = await findRecipeFile(deps.io.cwd);
    filePath = loaded ? shown(loaded.filepath, deps.io.cwd) : undefined;
  }
  const problems = [...inv.problems];
  let recipe: Recipe | undefined;
  try {
    recipe = resolveRecipe({
      task: taskName,
      schema: task.schema,
      foreignKeys: foreign.keys,
      checkRecipe: task.checkRecipe?.bind(task),
      taskDefaults: task.defaults,
      file: loaded?.config,
      filePath,
      overrides: inv.overrides,
      overrideNames: inv.overrideNames,
      registries: registriesFor(task, deps.registries),
      builders: task.builders,
      cwd: deps.io.cwd,
    });
  } catch (err) {
    if (!(err instanceof RecipeError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length || !recipe) throw new RecipeError(problems);
  const run: TaskRun = { recipe, printConfig: inv.printConfig, overwrite: inv.overwrite, flags: inv.flags };
  if (inv.resume !== undefined) run.resume = inv.resume;
  return run;
}

async function runTask(taskName: string, tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  const task = deps.tasks.get(taskName);
  if (wantsHelp(tokens)) return io.out(taskHelp(taskName, task, deps.registries));
  const { recipe, printConfig, resume, overwrite, flags } = await resolveTaskRecipe(taskName, tokens, deps);
  if (printConfig) return io.out(recipeToYaml(recipe, task.schema));
  const args: Parameters<CliDeps['commands']['train']>[0] = { recipe, io };
  if (resume !== undefined) args.resume = resume;
  if (overwrite) args.overwrite = true;
  if (Object.keys(flags).length) args.flags = flags;
  await deps.commands.train(args);
}


/** `flash lr_find <task> [the task's flags]`: the recipe as training would resolve it, then the LR finder. */
async function lrFind(tokens: string[], deps: CliDeps): Promise<void> {
  const [taskName, ...rest] = tokens;
  if (taskName === undefined || taskName.startsWith('-')) {
    if (taskName === '--help' || taskName === '-h') return deps.io.out(`flash lr_find: ${COMMANDS.lr_find}\n\nUsage:\n  flash lr_find <task> [the task's flags and builder]\n`);
    throw new FlashUserError(`give a task: flash lr_find <task> … (tasks: ${deps.tasks.names().join(', ')})`);
  }
  const task = deps.tasks.get(taskName);
  if (wantsHelp(rest)) return deps.io.out(taskHelp(taskName, task, deps.registries));
  const { recipe } = await resolveTaskRecipe(taskName, rest, deps);
  if (!deps.commands.lrFind) throw new FlashUserError('this flash has no lr_find command');
  await deps.commands.lrFind({ recipe, io: deps.io });
}

const SWEEP_HELP = [
  `flash sweep: ${COMMANDS.sweep}`,
  '',
  'Usage:',
  '  flash sweep --config sweep.yaml [--workers N] [--output_dir sweeps/X] [--queue redis://host:6379]',
  '',
  'sweep.yaml is a recipe (task, trainer, model, data, finetune) plus a sweep: section:',
  '  metric: val_accuracy      mode: max|min|auto     method: grid|random     trials: 8     time_budget: 600 (s)     seed: 0',
  '  parameters: { model.learning_rate: { min: 1e-4, max: 1e-2, log: true }, model.backbone: { values: [simple_cnn, resnet18] } }',
  '',
  'The sweep folder holds a run folder per trial, results.csv, results.jsonl, best_recipe.yaml and sweep.png;',
  'running the same command again keeps the finished trials and runs the rest.',
  '',
].join('\n');

/** `flash sweep --config sweep.yaml [--workers N] [--output_dir DIR]`: plan and every trial's recipe checked, then run. */
async function sweep(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(SWEEP_HELP);
  const p = parseCommand(tokens, [
    { name: 'config', kind: 'string', description: '' },
    { name: 'workers', kind: 'string', description: '' },
    { name: 'output_dir', kind: 'string', description: '' },
    { name: 'queue', kind: 'string', description: '' },
  ]);
  for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
  const file = p.str('config');
  if (file === undefined) p.problems.push("missing required option '--config' (a recipe with a sweep: section)");
  const workers = p.int('workers', 1, 1, 64);
  const outDir = p.str('output_dir');
  const queue = p.str('queue');
  if (p.problems.length) throw new FlashUserError(formatProblems(p.problems));
  const { config } = await loadRecipeFile(file!, io.cwd);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new FlashUserError(`recipe ${file}: expected a mapping with task, the recipe's sections and sweep:`);
  const { sweep: section, ...base } = config as Record<string, unknown>;
  if (typeof base.task !== 'string') throw new FlashUserError(`recipe ${file}: names no task: write 'task: <name>' in it (tasks: ${deps.tasks.names().join(', ')})`);
  const task = deps.tasks.get(base.task);
  const plan = parseSweep(section, task.schema, file!);
  const recipeFor = (overrides: Record<string, Record<string, unknown>>) =>
    resolveRecipe({
      task: task.name,
      schema: task.schema,
      checkRecipe: task.checkRecipe?.bind(task),
      taskDefaults: task.defaults,
      file: base,
      filePath: file,
      overrides,
      overrideNames: Object.fromEntries(Object.keys(plan.parameters).map((k) => [k, `recipe ${file}: sweep.parameters.${k}`])),
      registries: registriesFor(task, deps.registries),
      builders: task.builders,
      cwd: io.cwd,
    });
  if (!deps.commands.sweep) throw new FlashUserError('this flash has no sweep command');
  await deps.commands.sweep({ task: task.name, schema: task.schema, plan, recipeFor, io, workers, ...(outDir ? { outDir: path.resolve(io.cwd, outDir) } : {}), ...(queue ? { queue } : {}) });
}

/** `flash worker --queue redis://host:port [--concurrency 1]`: runs sweep trials and predict shards off the queue until Ctrl-C. */
async function worker(tokens: string[], deps: CliDeps): Promise<void> {
  if (wantsHelp(tokens)) {
    return deps.io.out(`flash worker: ${COMMANDS.worker}\n\nUsage:\n  flash worker --queue redis://host:6379 [--concurrency 1] [--lock_seconds 30]\n\nTakes sweep trials (flash sweep --queue) and predict shards (flash predict --queue … --shards n).\nModels, data, sweep folders and predict outputs must be reachable under the same paths as where the command\nwas run (a shared folder); a job whose paths this worker can't reach fails, naming the path.\n`);
  }
  const p = parseCommand(tokens, [
    { name: 'queue', kind: 'string', description: '' },
    { name: 'concurrency', kind: 'string', description: '' },
    { name: 'lock_seconds', kind: 'string', description: '' },
  ]);
  for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
  const queue = p.str('queue');
  if (queue === undefined) p.problems.push("missing required option '--queue' (redis://host:port)");
  const concurrency = p.int('concurrency', 1, 1, 16);
  const lockSeconds = p.int('lock_seconds', 30, 2, 3600);
  if (p.problems.length) throw new FlashUserError(formatProblems(p.problems));
  if (!deps.commands.worker) throw new FlashUserError('this flash has no worker command');
  await deps.commands.worker({ queue: queue!, concurrency, lockSeconds, io: deps.io });
}

async function list(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  const groups = listGroups(deps);
  if (wantsHelp(tokens)) return io.out(listHelp(groups));
  const parsed = parseFlags(tokens, new Map());
  const problems = parsed.unknown.map((f) => unknownOptionMessage(f, []));
  const asked: string[] = [];
  for (const word of parsed.positionals) {
    if (groups.includes(word)) asked.push(word);
    else problems.push(`unknown list '${word}'${didYouMean(word, groups)}; available: ${groups.join(', ')}`);
  }
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  io.out(listText(deps, asked.length ? asked : groups));
}
