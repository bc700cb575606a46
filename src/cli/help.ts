import { schemaKeys, SECTIONS, type KeySpec } from '../core/config/index.js';
import type { Registry } from '../core/registry.js';
import type { CommandOption, RunCommandName, TaskCommand, TaskPlugin } from '../../tasks/types.js';
import { TASK_FLAGS } from './flags.js';
import { commandOptions, shardNote } from './shard_flags.js';
import type { CliDeps, CliRegistries } from './types.js';

/** Commands on a saved run, in the order help shows them. */
export const RUN_COMMANDS: readonly RunCommandName[] = ['predict', 'evaluate', 'serve', 'report', 'compare', 'export'];

/** Other commands, with the line `flash --help` shows (a run's task gives each its flags). */
export const COMMANDS = {
  predict: 'predict with a trained model: flash predict --model runs/X …',
  evaluate: 'evaluate a trained model on labelled data: flash evaluate --model runs/X …',
  serve: 'serve a trained model over HTTP with a web page: flash serve --model runs/X [--port 8000]',
  report: "write a run's report.html and plots: flash report runs/X",
  compare: 'compare runs side by side: flash compare runs/A runs/B [--out curves.png]',
  export: 'write a folder for a web page (model, metadata, classifier.js, index.html): flash export --model runs/X --out web/',
  sweep: 'train a recipe over a grid or random draws of its keys and rank the trials: flash sweep --config sweep.yaml [--workers N]',
  worker: 'run sweep trials and predict shards queued on Redis (flash sweep|predict --queue): flash worker --queue redis://host:6379',
  lr_find: 'plot loss against an exponentially growing learning rate and suggest one: flash lr_find <task> …',
  list: 'list what is registered: flash list [tasks|<registry>]',
  help: 'show help: flash help [command]',
} as const;

/** `  name   description` rows, names padded to one column. */
export function table(rows: readonly [string, string][], indent = '  '): string {
  const width = Math.max(0, ...rows.map(([n]) => n.length));
  return rows.map(([n, d]) => `${indent}${d ? n.padEnd(width) + '  ' + d : n}`.trimEnd()).join('\n');
}

function showDefault(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length ? value.join(',') : '[]';
  return String(value);
}

/** The value placeholder of a flag in `--help`: `<int>`, `<number|null>`, `<auto|max|min>`, `<name,...>`. */
function typeToken(spec: KeySpec, named: boolean): string {
  let t: string;
  if (spec.type === 'enum') t = (spec.choices ?? []).join('|');
  else if (named) t = spec.type === 'string[]' ? 'name,...' : 'name';
  else {
    const short: Record<KeySpec['type'], string> = {
      number: 'number', integer: 'int', boolean: 'true|false', string: 'string', 'string[]': 'string ...', 'number[]': 'number,...', enum: '',
    };
    t = short[spec.type];
  }
  return spec.nullable ? `${t}|null` : t;
}

/** The core's registries and a task's own, as one lookup by registry name. */
export function registriesFor(task: TaskPlugin, regs: CliRegistries): CliRegistries {
  return { ...regs, ...task.registries };
}

/** `flash --help` */
export function generalHelp(deps: CliDeps): string {
  const tasks = deps.tasks.list();
  const first = tasks[0];
  return [
    `flash ${deps.version}: zero-code deep learning on TensorFlow.js`,
    '',
    'Usage:',
    '  flash <task> [--section.key value ...] [<builder> [--option value ...]]',
    '  flash <task> --config recipe.yaml',
    '  flash predict --model RUN_DIR [options]      (the run\'s task gives the options: flash predict --help)',
    '  flash evaluate --model RUN_DIR [options]',
    '  flash serve --model RUN_DIR [--port 8000]',
    '  flash report RUN_DIR',
    '  flash compare RUN_DIR RUN_DIR ... [--out curves.png]',
    '  flash export --model RUN_DIR --out DIR',
    '  flash list [tasks|<registry>]',
    '',
    'Tasks:',
    tasks.length ? table(tasks.map((t) => [t.name, t.description || t.item.description])) : '  (none registered)',
    '',
    'Commands:',
    table(Object.entries(COMMANDS)),
    '',
    'Options:',
    table([
      ['--help, -h', 'show help (flash <task> --help lists every setting)'],
      ['--version', 'print the version'],
    ]),
    '',
    first ? `Example: ${first.item.example ?? `flash ${first.name} --trainer.max_epochs 10`}` : '',
    '',
  ].join('\n');
}

/** `flash <task> --help`: builders, then every recipe flag with its aliases, type, default and description, by section. */
export function taskHelp(name: string, task: TaskPlugin, regs: CliRegistries): string {
  const all = registriesFor(task, regs);
  const flags: [string, string][] = [...TASK_FLAGS, ...(task.trainFlags ?? []).map((f) => [f.name, f] as const)]
    .filter(([n]) => n !== 'h')
    .map(([n, f]) => [`--${n}${n === 'help' ? ', -h' : ''}${f.arg ? ` <${f.arg}>` : ''}`, f.description]);
  const lines = [
    `flash ${name}: ${task.description}`,
    '',
    'Usage:',
    `  flash ${name} [--section.key value ...] [<builder> [--option value ...]]`,
    `  flash ${name} --config recipe.yaml [--section.key value ...]`,
    '',
    'Builders (sub-commands; their options are the data.* keys below, spelled without "data."):',
    table(task.builders.map((b) => [b.name, `${b.description}${b.options.length ? ` (options: ${b.options.map((o) => '--' + o.replace(/^data\./, '')).join(', ')})` : ''}`])),
    '',
    'Options:',
    table(flags),
  ];
  const defaults = task.defaults as Record<string, Record<string, unknown> | undefined>;
  for (const section of SECTIONS) {
    lines.push('', `${section}:`);
    for (const k of schemaKeys(task.schema).filter((x) => x.section === section)) {
      const spellings = [`--${k.path}`, ...(k.spec.aliases ?? []).filter((a) => a !== k.path).map((a) => `--${a}`)];
      const def = defaults[section]?.[k.key] !== undefined ? defaults[section]?.[k.key] : k.spec.default;
      const reg: Registry<unknown> | undefined = k.spec.registry ? all[k.spec.registry] : undefined;
      let names = reg ? [...(k.spec.extraNames ?? []), ...reg.names()] : undefined;
      if (k.path === 'data.builder') names = task.builders.map((b) => b.name);
      if (k.path === 'trainer.monitor' && all.metrics) names = ['train_loss', 'val_loss', ...all.metrics.names().map((m) => `val_${m}`)];
      const choices = names ? `; one of: ${names.join(', ')}` : '';
      lines.push(`  ${spellings.join(', ')} <${typeToken(k.spec, names !== undefined)}>`);
      lines.push(`      ${k.spec.description} (default: ${showDefault(def)}${choices})`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

function optionRows(options: readonly CommandOption[]): [string, string][] {
  return options.map((o) => [`--${o.name}`, o.description]);
}

/**
 * `flash <command> --help`: the command's usage and flags as the run's task declares them; without a run, each
 * task offering the command in turn.
 */
export function commandHelp(command: RunCommandName, offers: readonly [string, TaskCommand][]): string {
  if (offers.length === 0) return `flash ${command}: no registered task offers this command\n`;
  const section = (cmd: TaskCommand): string[] => [
    'Usage:',
    ...cmd.usage.map((u) => `  ${u}`),
    '',
    ...(cmd.notes ?? []).flatMap((n) => [n, '']),
    ...(command === 'predict' && cmd.shards ? [shardNote(cmd.shards.of), ''] : []),
    'Options:',
    table(optionRows(commandOptions(command, cmd))),
    '',
  ];
  if (offers.length === 1) return [`flash ${command}: ${offers[0][1].summary}`, '', ...section(offers[0][1])].join('\n');
  return [
    `flash ${command}: ${COMMANDS[command]}`,
    '',
    ...offers.flatMap(([task, cmd]) => [`${task}: ${cmd.summary}`, ...section(cmd)]),
  ].join('\n');
}

export function listHelp(groups: readonly string[]): string {
  return ['flash list: list what is registered', '', 'Usage:', `  flash list [${groups.join('|')}]`, ''].join('\n');
}

/** The groups `flash list` offers: tasks, every task's own registries (backbones), then the core's. */
export function listGroups(deps: CliDeps): string[] {
  const own = deps.tasks.list().flatMap((t) => Object.keys(t.item.registries));
  return [...new Set(['tasks', ...own, ...Object.keys(deps.registries)])];
}

/** `flash list [group]`: name and description of everything registered, generated from the registries. */
export function listText(deps: CliDeps, groups: readonly string[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    const rows = groupRows(deps, g);
    parts.push(groups.length > 1 ? `${g}:\n${rows.length ? table(rows) : '  (none)'}` : rows.length ? table(rows, '') : '(none)');
  }
  return parts.join('\n\n') + '\n';
}

/** Rows of one group; a task's own registry is headed by its task when several tasks have one of that name. */
function groupRows(deps: CliDeps, g: string): [string, string][] {
  if (g === 'tasks') return deps.tasks.list().map((e) => [e.name, e.description || e.item.description]);
  const core = deps.registries[g];
  if (core) return core.list().map((e) => [e.name, e.description]);
  const owners = deps.tasks.list().filter((t) => t.item.registries[g]);
  return owners.flatMap((t) => {
    const rows = t.item.registries[g].list().map((e): [string, string] => [e.name, e.description]);
    return owners.length > 1 ? [[`${t.name}:`, ''] as [string, string], ...rows.map(([n, d]): [string, string] => [`  ${n}`, d])] : rows;
  });
}
