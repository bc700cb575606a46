import { existsSync } from 'node:fs';
import path from 'node:path';
import {
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
import { fraction, parseFlags, unknownOptionMessage, wantsHelp, type FlagKind } from './argv.js';
import {
  COMMANDS,
  evaluateHelp,
  EVALUATE_OPTIONS,
  generalHelp,
  LIST_GROUPS,
  listHelp,
  listText,
  predictHelp,
  PREDICT_OPTIONS,
  taskHelp,
  type ListGroup,
} from './help.js';
import { parseTaskArgs } from './task.js';
import { serveCli } from './serve.js';
import { compareCli, reportCli } from './report.js';
import { exportCli } from './export.js';
import type { CliDeps, EvaluateArgs, PredictArgs } from './types.js';

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
    throw new FlashUserError('missing command: give a task (flash list tasks) or one of predict, evaluate, serve, report, compare, export, list');
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
  if (first === 'predict') return predict(rest, deps);
  if (first === 'evaluate') return evaluate(rest, deps);
  if (first === 'serve') return serveCli(rest, deps);
  if (first === 'report') return reportCli(rest, deps);
  if (first === 'compare') return compareCli(rest, deps);
  if (first === 'export') return exportCli(rest, deps);
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
  /** `--check [--json]`: check the data instead of training. */
  check?: { json: boolean };
}

/**
 * Resolves the recipe for `flash <task> <tokens…>` — schema defaults < task defaults < recipe file (`--config`,
 * else one found in the working directory) < flags — reporting flag and recipe problems together.
 */
export async function resolveTaskRecipe(taskName: string, tokens: readonly string[], deps: CliDeps): Promise<TaskRun> {
  const task = deps.tasks.get(taskName);
  const inv = parseTaskArgs(taskName, task, tokens);
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
  if (inv.json && !inv.check) problems.push('--json goes with --check (print the dataset check as JSON)');
  let recipe: Recipe | undefined;
  try {
    recipe = resolveRecipe({
      task: taskName,
      taskDefaults: task.defaults,
      file: loaded?.config,
      filePath,
      overrides: inv.overrides,
      overrideNames: inv.overrideNames,
      registries: deps.registries,
      builders: task.builders,
      cwd: deps.io.cwd,
    });
  } catch (err) {
    if (!(err instanceof RecipeError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length || !recipe) throw new RecipeError(problems);
  const run: TaskRun = { recipe, printConfig: inv.printConfig };
  if (inv.resume !== undefined) run.resume = inv.resume;
  if (inv.check) run.check = { json: inv.json };
  return run;
}

async function runTask(taskName: string, tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(taskHelp(taskName, deps.tasks.get(taskName), deps.registries));
  const { recipe, printConfig, resume, check } = await resolveTaskRecipe(taskName, tokens, deps);
  if (printConfig) return io.out(recipeToYaml(recipe));
  if (check) return deps.commands.train({ recipe, io, check });
  await deps.commands.train(resume === undefined ? { recipe, io } : { recipe, resume, io });
}

/** Parses a sub-command's flags against its option table; every problem is reported at once. */
function parseCommand(tokens: string[], options: [string, 'string' | 'array', string][], allowPositionals: boolean) {
  const table = new Map<string, FlagKind>(options.map(([n, k]) => [n, k]));
  const parsed = parseFlags(tokens, table);
  const problems = parsed.unknown.map((f) => unknownOptionMessage(f, [...table.keys()]));
  if (!allowPositionals) for (const w of parsed.positionals) problems.push(`unexpected argument '${w}'`);
  const str = (name: string): string | undefined => {
    const v = parsed.values.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      problems.push(`--${name}: expected a value`);
      return undefined;
    }
    return v;
  };
  const int = (name: string, def: number, min: number): number => {
    const v = str(name);
    if (v === undefined) return def;
    const n = Number(v.trim());
    if (!/^[+-]?\d+$/.test(v.trim()) || n < min) {
      problems.push(`--${name}: expected an integer of at least ${min}, got '${v}'`);
      return def;
    }
    return n;
  };
  return { parsed, problems, str, int };
}

function checkBackend(name: string, deps: CliDeps, problems: string[]): void {
  const allowed = ['auto', ...deps.registries.backends.names()];
  if (!allowed.includes(name)) problems.push(`--backend: unknown backend '${name}'${didYouMean(name, allowed)}; available: ${allowed.join(', ')}`);
}

function fail(problems: string[]): void {
  if (problems.length) throw new FlashUserError(formatProblems(problems));
}

async function predict(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(predictHelp());
  const { parsed, problems, str, int } = parseCommand(tokens, PREDICT_OPTIONS, true);
  const model = str('model');
  const folder = str('folder');
  const listed = parsed.values.get('files');
  const files = [...(Array.isArray(listed) ? listed : []), ...parsed.positionals];
  if (parsed.values.has('files') && files.length === 0) problems.push('--files: expected at least one file');
  const topK = int('top_k', 3, 1);
  const threshold = fraction('threshold', problems, str);
  const batchSize = int('batch_size', 32, 1);
  const backend = str('backend') ?? 'auto';
  const output = str('output');
  if (model === undefined && !parsed.values.has('model')) problems.push("missing required option '--model' (a run folder, e.g. runs/image_classification-…)");
  if (!files.length && folder === undefined && !parsed.values.has('folder') && !parsed.values.has('files')) problems.push("missing required option '--files' or '--folder' (what to predict)");
  if (files.length && folder !== undefined) problems.push('give --files or --folder, not both');
  if (output !== undefined && !/\.(json|jsonl|csv)$/i.test(output)) problems.push(`--output: expected a .json, .jsonl or .csv file, got '${output}'`);
  checkBackend(backend, deps, problems);
  fail(problems);
  const args: PredictArgs = { model: model!, topK, backend, batchSize, io };
  if (threshold !== undefined) args.threshold = threshold;
  if (files.length) args.files = files;
  if (folder !== undefined) args.folder = folder;
  if (output !== undefined) args.output = output;
  await deps.commands.predict(args);
}

async function evaluate(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(evaluateHelp());
  const { parsed, problems, str, int } = parseCommand(tokens, EVALUATE_OPTIONS, false);
  const model = str('model');
  const folder = str('folder');
  const csv = str('csv');
  const inputField = str('input_field');
  const imagesRoot = str('images_root');
  const targets = parsed.values.get('target_fields');
  const targetFields = Array.isArray(targets) ? targets : undefined;
  if (parsed.values.has('target_fields') && !targetFields?.length) problems.push('--target_fields: expected at least one column');
  const batchSize = int('batch_size', 32, 1);
  const backend = str('backend') ?? 'auto';
  const output = str('output');
  if (model === undefined && !parsed.values.has('model')) problems.push("missing required option '--model' (a run folder, e.g. runs/image_classification-…)");
  if (folder === undefined && csv === undefined && !parsed.values.has('folder') && !parsed.values.has('csv')) {
    problems.push("missing required option '--folder' (a folder of class sub-folders) or '--csv' (a labelled CSV)");
  }
  if (folder !== undefined && csv !== undefined) problems.push('give --folder or --csv, not both');
  if (csv === undefined && (inputField ?? targetFields ?? imagesRoot) !== undefined) problems.push('--input_field, --target_fields and --images_root go with --csv');
  if (output !== undefined && !/\.json$/i.test(output)) problems.push(`--output: expected a .json file, got '${output}'`);
  checkBackend(backend, deps, problems);
  fail(problems);
  const args: EvaluateArgs = { model: model!, backend, batchSize, io };
  if (folder !== undefined) args.folder = folder;
  if (csv !== undefined) args.csv = csv;
  if (inputField !== undefined) args.inputField = inputField;
  if (targetFields !== undefined) args.targetFields = targetFields;
  if (imagesRoot !== undefined) args.imagesRoot = imagesRoot;
  if (output !== undefined) args.output = output;
  await deps.commands.evaluate(args);
}

async function list(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(listHelp());
  const { parsed, problems } = parseCommand(tokens, [], true);
  const groups: ListGroup[] = [];
  for (const word of parsed.positionals) {
    if ((LIST_GROUPS as readonly string[]).includes(word)) groups.push(word as ListGroup);
    else problems.push(`unknown list '${word}'${didYouMean(word, LIST_GROUPS)}; available: ${LIST_GROUPS.join(', ')}`);
  }
  fail(problems);
  io.out(listText(deps, groups.length ? groups : LIST_GROUPS));
}

