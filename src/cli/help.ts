import { schemaKeys, SECTIONS, type KeySpec } from '../core/config/index.js';
import type { Registry } from '../core/registry.js';
import { TASK_FLAGS } from './flags.js';
import type { CliDeps, CliRegistries, CliTask } from './types.js';

/** The groups `flash list` shows, in order: 'tasks' plus each registry. */
export const LIST_GROUPS = ['tasks', 'backbones', 'optimizers', 'metrics', 'loggers', 'backends', 'strategies'] as const;
export type ListGroup = (typeof LIST_GROUPS)[number];

/** Other commands, with the line `flash --help` shows. */
export const COMMANDS = {
  predict: 'predict with a trained model: flash predict --model runs/X (--files a.jpg b.png | --folder DIR)',
  evaluate: 'evaluate a trained model on labelled class folders or a labelled CSV: flash evaluate --model runs/X --folder DIR',
  serve: 'serve a trained model over HTTP with a web page: flash serve --model runs/X [--port 8000]',
  report: 'write a run\'s report.html and plots: flash report runs/X [--folder DIR]',
  compare: 'compare runs side by side: flash compare runs/A runs/B [--out curves.png]',
  export: 'write a folder for a web page (model, metadata, classifier.js, index.html): flash export --model runs/X --out web/',
  list: 'list what is registered: flash list [' + LIST_GROUPS.join('|') + ']',
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

function registryOf(spec: KeySpec, regs: CliRegistries): Registry<unknown> | undefined {
  return spec.registry ? regs[spec.registry] : undefined;
}

/** `flash --help` */
export function generalHelp(deps: CliDeps): string {
  const tasks = deps.tasks.list();
  return [
    `flash ${deps.version}: zero-code deep learning on TensorFlow.js`,
    '',
    'Usage:',
    '  flash <task> [--section.key value ...] [<builder> [--option value ...]]',
    '  flash <task> --from_folders DIR',
    '  flash predict --model RUN_DIR (--files FILE ... | --folder DIR) [--top_k 3] [--threshold 0.5] [--output preds.json|.jsonl|.csv]',
    '  flash evaluate --model RUN_DIR (--folder DIR | --csv labels.csv) [--output metrics.json]',
    '  flash serve --model RUN_DIR [--host 127.0.0.1] [--port 8000] [--max_body 10MB]',
    '  flash report RUN_DIR [--folder DIR]',
    '  flash compare RUN_DIR RUN_DIR ... [--out curves.png]',
    '  flash export --model RUN_DIR --out DIR',
    '  flash list [' + LIST_GROUPS.join('|') + ']',
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
    `Example: flash ${tasks[0]?.name ?? 'image_classification'} --trainer.max_epochs 10 --model.backbone simple_cnn from_folders --train_folder data/train --val_folder data/val`,
    '',
  ].join('\n');
}

/** `flash <task> --help`: builders, then every recipe flag with its aliases, type, default and description, by section. */
export function taskHelp(name: string, task: CliTask, regs: CliRegistries): string {
  const defaults = task.defaults as Record<string, Record<string, unknown> | undefined>;
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
    table([...TASK_FLAGS].filter(([n]) => n !== 'h').map(([n, f]) => [`--${n}${n === 'help' ? ', -h' : ''}${f.arg ? ` <${f.arg}>` : ''}`, f.description])),
  ];
  for (const section of SECTIONS) {
    lines.push('', `${section}:`);
    for (const k of schemaKeys().filter((x) => x.section === section)) {
      const spellings = [`--${k.path}`, ...(k.spec.aliases ?? []).filter((a) => a !== k.path).map((a) => `--${a}`)];
      const def = defaults[section]?.[k.key] !== undefined ? defaults[section]?.[k.key] : k.spec.default;
      const reg = registryOf(k.spec, regs);
      let names = reg ? [...(k.spec.extraNames ?? []), ...reg.names()] : undefined;
      if (k.path === 'data.builder') names = task.builders.map((b) => b.name);
      if (k.path === 'trainer.monitor') names = ['train_loss', 'val_loss', ...regs.metrics.names().map((m) => `val_${m}`)];
      const choices = names ? `; one of: ${names.join(', ')}` : '';
      lines.push(`  ${spellings.join(', ')} <${typeToken(k.spec, names !== undefined)}>`);
      lines.push(`      ${k.spec.description} (default: ${showDefault(def)}${choices})`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

export function predictHelp(): string {
  return [
    'flash predict: predict with a trained model',
    '',
    'Usage:',
    '  flash predict --model RUN_DIR (--files FILE ... | --folder DIR) [options]',
    '',
    'Options:',
    table(PREDICT_OPTIONS.map(([n, , d]) => [`--${n}`, d])),
    '',
  ].join('\n');
}

export function evaluateHelp(): string {
  return [
    'flash evaluate: accuracy, macro F1, AUROC and a per-class table on labelled class folders or a CSV (multi-label: micro/macro F1, Hamming and subset accuracy, per label)',
    '',
    'Usage:',
    '  flash evaluate --model RUN_DIR --folder DIR [options]',
    '  flash evaluate --model RUN_DIR --csv labels.csv [options]',
    '',
    'Options:',
    table(EVALUATE_OPTIONS.map(([n, , d]) => [`--${n}`, d])),
    '',
  ].join('\n');
}

export function listHelp(): string {
  return ['flash list: list what is registered', '', 'Usage:', `  flash list [${LIST_GROUPS.join('|')}]`, ''].join('\n');
}

/** name, kind, description */
export const PREDICT_OPTIONS: [string, 'string' | 'array', string][] = [
  ['model', 'string', 'run folder (or model folder) of a trained model (required)'],
  ['files', 'array', 'image files to predict'],
  ['folder', 'string', 'folder of images to predict (searched recursively)'],
  ['top_k', 'string', 'how many classes to show per image (default: 3)'],
  ['threshold', 'string', "multi-label models: list every label with probability >= this (default: the model's, 0.5)"],
  ['output', 'string', 'write predictions to a .json, .jsonl or .csv file instead of printing them'],
  ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
  ['batch_size', 'string', 'images per batch (default: 32)'],
];

export const EVALUATE_OPTIONS: [string, 'string' | 'array', string][] = [
  ['model', 'string', 'run folder (or model folder) of a trained model (required)'],
  ['folder', 'string', 'folder of class sub-folders to evaluate on (this or --csv)'],
  ['csv', 'string', "labelled CSV to evaluate on, laid out as for from_csv (multi-label models: 0/1 columns or separated labels)"],
  ['input_field', 'string', "--csv: the image-path column (default: the run's data.input_field)"],
  ['target_fields', 'array', "--csv: the label column(s) (default: the run's data.target_fields)"],
  ['images_root', 'string', "--csv: folder the image paths are relative to (default: the CSV's folder)"],
  ['output', 'string', 'write the metrics to a .json file too'],
  ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
  ['batch_size', 'string', 'images per batch (default: 32)'],
];

/** `flash list [group]`: name and description of everything registered, generated from the registries. */
export function listText(deps: CliDeps, groups: readonly ListGroup[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    const entries = g === 'tasks' ? deps.tasks.list() : deps.registries[g].list();
    const rows = entries.map((e): [string, string] => [e.name, e.description || (g === 'tasks' ? (e.item as CliTask).description : '')]);
    parts.push(groups.length > 1 ? `${g}:\n${rows.length ? table(rows) : '  (none)'}` : rows.length ? table(rows, '') : '(none)');
  }
  return parts.join('\n\n') + '\n';
}
