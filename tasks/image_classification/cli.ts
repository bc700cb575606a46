import { DEFAULT_BATCH_SIZE } from '../../src/core/config/index.js';
import { didYouMean } from '../../src/core/suggest.js';
import type { CommandContext, CommandOption, ParsedCommand, RunCommandArgs, TaskCommand } from '../types.js';
import { parseByteSize } from '../../src/serve/size.js';

/**
 * image_classification's commands on a saved run as the CLI sees them: their flags, help and how the flags
 * become arguments. No model code is loaded here (the plugin adds each command's function), so help and
 * flag errors stay fast.
 */

export interface PredictArgs extends RunCommandArgs {
  /** Run folder (or model folder) to load. */
  model: string;
  files?: string[];
  folder?: string;
  topK: number;
  /** Multi-label models: a label is predicted from this probability (default: the model's, 0.5). */
  threshold?: number;
  /** .json, .jsonl or .csv; printed as a table when absent. */
  output?: string;
  backend: string;
  batchSize: number;
}

export interface EvaluateArgs extends RunCommandArgs {
  model: string;
  /** A folder of class sub-folders (single-label models); or `csv`. */
  folder?: string;
  /** A labelled CSV laid out as for from_csv (the only way to score a multi-label model). */
  csv?: string;
  /** The CSV's columns; default: the run's data.input_field / data.target_fields. */
  inputField?: string;
  targetFields?: string[];
  /** Folder the CSV's image paths are relative to; default: the CSV's folder. */
  imagesRoot?: string;
  backend: string;
  batchSize: number;
  /** .json file for the metrics; printed when absent. */
  output?: string;
}

/** `flash report RUN`: (re)writes a run's report.html and plots. */
export interface ReportArgs extends RunCommandArgs {
  run: string;
  folder?: string;
  split?: 'test' | 'val';
  backend: string;
}

/** `flash export --model RUN --out DIR`: a folder for a web page. */
export interface ExportArgs extends RunCommandArgs {
  model: string;
  out: string;
}

/** `flash compare RUN RUN…`: runs side by side. */
export interface CompareArgs extends RunCommandArgs {
  runs: string[];
  out?: string;
}

/** `flash serve`: an HTTP server for a trained model, until Ctrl-C/SIGTERM or `signal`. */
export interface ServeArgs extends RunCommandArgs {
  /** Run folder to serve. */
  model: string;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Largest request body, in bytes. */
  maxBody: number;
  backend: string;
  /** Classes per image when the request has no ?top_k=. */
  topK: number;
  /** Multi-label models: the threshold when the request has no ?threshold= (default: the model's). */
  threshold?: number;
  /** Most images the model runs at once (requests are micro-batched up to this). */
  batchSize: number;
  /** No access log lines. */
  quiet?: boolean;
  /** Called once listening, with the base URL. */
  onListening?: (url: string) => void;
}

/** A command spec without its function (the plugin adds `run`). */
type CommandSpec<A extends RunCommandArgs> = Omit<TaskCommand<A>, 'run'>;

type OptionRow = [string, CommandOption['kind'], string];
// Rows several commands share.
const MODEL_OPTION: OptionRow = ['model', 'string', 'run folder (or model folder) of a trained model (required)'];
const BACKEND_OPTION: OptionRow = ['backend', 'string', 'TensorFlow.js backend (default: auto)'];
const BATCH_OPTION: OptionRow = ['batch_size', 'string', `images per batch (default: ${DEFAULT_BATCH_SIZE})`];

function opts(rows: OptionRow[]): CommandOption[] {
  return rows.map(([name, kind, description]) => ({ name, kind, description }));
}

function checkBackend(name: string, ctx: CommandContext, problems: string[]): void {
  const allowed = ['auto', ...(ctx.registries.backends?.names() ?? [])];
  if (!allowed.includes(name)) problems.push(`--backend: unknown backend '${name}'${didYouMean(name, allowed)}; available: ${allowed.join(', ')}`);
}

function requireModel(p: ParsedCommand): string {
  const model = p.str('model');
  if (model === undefined && !p.has('model')) p.problems.push("missing required option '--model' (a run folder, e.g. runs/image_classification-…)");
  return model!;
}

export const predictSpec: CommandSpec<PredictArgs> = {
  summary: 'predict with a trained model',
  usage: ['flash predict --model RUN_DIR (--files FILE ... | --folder DIR) [options]'],
  options: opts([
    MODEL_OPTION,
    ['files', 'array', 'image files to predict'],
    ['folder', 'string', 'folder of images to predict (searched recursively)'],
    ['top_k', 'string', 'how many classes to show per image (default: 3)'],
    ['threshold', 'string', "multi-label models: list every label with probability >= this (default: the model's, 0.5)"],
    ['output', 'string', 'write predictions to a .json, .jsonl or .csv file instead of printing them'],
    BACKEND_OPTION,
    BATCH_OPTION,
  ]),
  parse(p, ctx) {
    const model = requireModel(p);
    const folder = p.str('folder');
    const files = [...(p.list('files') ?? []), ...p.positionals];
    if (p.has('files') && files.length === 0) p.problems.push('--files: expected at least one file');
    const topK = p.int('top_k', 3, 1);
    const threshold = p.fraction('threshold');
    const batchSize = p.int('batch_size', DEFAULT_BATCH_SIZE, 1);
    const backend = p.str('backend') ?? 'auto';
    const output = p.str('output');
    if (!files.length && folder === undefined && !p.has('folder') && !p.has('files')) p.problems.push("missing required option '--files' or '--folder' (what to predict)");
    if (files.length && folder !== undefined) p.problems.push('give --files or --folder, not both');
    if (output !== undefined && !/\.(json|jsonl|csv)$/i.test(output)) p.problems.push(`--output: expected a .json, .jsonl or .csv file, got '${output}'`);
    checkBackend(backend, ctx, p.problems);
    const args: PredictArgs = { model, topK, backend, batchSize, io: ctx.io };
    if (threshold !== undefined) args.threshold = threshold;
    if (files.length) args.files = files;
    if (folder !== undefined) args.folder = folder;
    if (output !== undefined) args.output = output;
    return args;
  },
  shards: { of: 'the image files (--files in the order given; a --folder sorted by path)', needs: (a) => [a.model, ...(a.files ?? []), ...(a.folder !== undefined ? [a.folder] : [])] },
};

export const evaluateSpec: CommandSpec<EvaluateArgs> = {
  summary:
    'accuracy, macro F1, AUROC and a per-class table on labelled class folders or a CSV (multi-label: micro/macro F1, Hamming and subset accuracy, per label)',
  usage: ['flash evaluate --model RUN_DIR --folder DIR [options]', 'flash evaluate --model RUN_DIR --csv labels.csv [options]'],
  options: opts([
    MODEL_OPTION,
    ['folder', 'string', 'folder of class sub-folders to evaluate on (this or --csv)'],
    ['csv', 'string', 'labelled CSV to evaluate on, laid out as for from_csv (multi-label models: 0/1 columns or separated labels)'],
    ['input_field', 'string', "--csv: the image-path column (default: the run's data.input_field)"],
    ['target_fields', 'array', "--csv: the label column(s) (default: the run's data.target_fields)"],
    ['images_root', 'string', "--csv: folder the image paths are relative to (default: the CSV's folder)"],
    ['output', 'string', 'write the metrics to a .json file too'],
    BACKEND_OPTION,
    BATCH_OPTION,
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const model = requireModel(p);
    const folder = p.str('folder');
    const csv = p.str('csv');
    const inputField = p.str('input_field');
    const imagesRoot = p.str('images_root');
    const targetFields = p.list('target_fields');
    if (p.has('target_fields') && !targetFields?.length) p.problems.push('--target_fields: expected at least one column');
    const batchSize = p.int('batch_size', DEFAULT_BATCH_SIZE, 1);
    const backend = p.str('backend') ?? 'auto';
    const output = p.str('output');
    if (folder === undefined && csv === undefined && !p.has('folder') && !p.has('csv')) {
      p.problems.push("missing required option '--folder' (a folder of class sub-folders) or '--csv' (a labelled CSV)");
    }
    if (folder !== undefined && csv !== undefined) p.problems.push('give --folder or --csv, not both');
    if (csv === undefined && (inputField ?? targetFields ?? imagesRoot) !== undefined) p.problems.push('--input_field, --target_fields and --images_root go with --csv');
    if (output !== undefined && !/\.json$/i.test(output)) p.problems.push(`--output: expected a .json file, got '${output}'`);
    checkBackend(backend, ctx, p.problems);
    const args: EvaluateArgs = { model, backend, batchSize, io: ctx.io };
    if (folder !== undefined) args.folder = folder;
    if (csv !== undefined) args.csv = csv;
    if (inputField !== undefined) args.inputField = inputField;
    if (targetFields !== undefined) args.targetFields = targetFields;
    if (imagesRoot !== undefined) args.imagesRoot = imagesRoot;
    if (output !== undefined) args.output = output;
    return args;
  },
};

export const serveSpec: CommandSpec<ServeArgs> = {
  summary: 'serve a trained model over HTTP, with a web page to try it',
  usage: ['flash serve --model RUN_DIR [--host 127.0.0.1] [--port 8000] [--max_body 10MB] [options]'],
  notes: [
    [
      'Endpoints:',
      '  POST /predict   multipart image file(s), JSON {"image": base64} or {"images": [base64, ...]}, or raw image/* bytes; ?top_k=N; multi-label models: ?threshold=0.5',
      '  GET /metadata   labels, input size and channels, versions',
      '  GET /health     liveness and queue length',
      '  GET /           a web page: drop or pick an image, see the top classes',
    ].join('\n'),
    'Stops on Ctrl-C or SIGTERM, answering the requests in flight first.',
  ],
  options: opts([
    ['model', 'string', 'run folder of a trained model (required)'],
    ['host', 'string', 'address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)'],
    ['port', 'string', 'port to listen on (default: 8000; 0 = any free port)'],
    ['max_body', 'string', 'largest request body, e.g. 10MB, 512KB or bytes (default: 10MB)'],
    ['top_k', 'string', 'classes per image when a request has no ?top_k= (default: 3)'],
    ['threshold', 'string', "multi-label models: labels at or above this probability when a request has no ?threshold= (default: the model's, 0.5)"],
    ['batch_size', 'string', `most images the model runs at once; concurrent requests are batched up to it (default: ${DEFAULT_BATCH_SIZE})`],
    BACKEND_OPTION,
    ['quiet', 'boolean', 'no line per request on stderr'],
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const model = requireModel(p);
    const host = p.str('host') ?? '127.0.0.1';
    const port = p.int('port', 8000, 0, 65535);
    const topK = p.int('top_k', 3, 1, 1000);
    const threshold = p.fraction('threshold');
    const batchSize = p.int('batch_size', DEFAULT_BATCH_SIZE, 1, 1024);
    const maxBodyText = p.str('max_body');
    let maxBody = 10 * 1024 * 1024;
    if (maxBodyText !== undefined) {
      const bytes = parseByteSize(maxBodyText);
      if (bytes === undefined || bytes < 1) p.problems.push(`--max_body: expected a size such as 10MB, 512KB or a number of bytes, got '${maxBodyText}'`);
      else maxBody = bytes;
    }
    const backend = p.str('backend') ?? 'auto';
    checkBackend(backend, ctx, p.problems);
    const args: ServeArgs = { model, host, port, maxBody, backend, topK, batchSize, io: ctx.io };
    if (threshold !== undefined) args.threshold = threshold;
    if (p.bool('quiet')) args.quiet = true;
    return args;
  },
};

export const reportSpec: CommandSpec<ReportArgs> = {
  summary: "(re)write a run's report.html and plots (curves, confusion matrix, PR/ROC curves, worst predictions)",
  usage: ['flash report RUN_DIR [--folder DIR] [--split test|val] [--backend auto]'],
  options: opts([
    ['folder', 'string', "evaluate on this folder of class sub-folders instead of the run's test/val split"],
    ['split', 'string', "which of the run's splits to evaluate: test or val (default: test when the run has one)"],
    BACKEND_OPTION,
  ]),
  parse(p, ctx) {
    if (p.positionals.length !== 1) p.problems.push(`give exactly one run folder (got ${p.positionals.length}): flash report runs/X`);
    const split = p.str('split');
    if (split !== undefined && split !== 'test' && split !== 'val') p.problems.push(`--split: expected test or val, got '${split}'${didYouMean(split, ['test', 'val'])}`);
    const folder = p.str('folder');
    const backend = p.str('backend') ?? 'auto';
    return { run: p.positionals[0], folder, split: split as 'test' | 'val' | undefined, backend, io: ctx.io };
  },
};

export const compareSpec: CommandSpec<CompareArgs> = {
  summary: 'recipes (only the keys that differ) and final metrics of runs side by side',
  usage: ['flash compare RUN_DIR RUN_DIR ... [--out curves.png]'],
  options: opts([['out', 'string', "also write the runs' curves side by side to this PNG"]]),
  parse(p, ctx) {
    if (p.positionals.length < 2) p.problems.push(`give at least two run folders to compare (got ${p.positionals.length})`);
    return { runs: p.positionals, out: p.str('out'), io: ctx.io };
  },
};

export const exportSpec: CommandSpec<ExportArgs> = {
  summary: 'a folder to drop into a web page (model, metadata.json, classifier.js, index.html, tf.min.js)',
  usage: ['flash export --model RUN_DIR --out DIR'],
  options: opts([
    ['model', 'string', 'run folder of a trained model (required)'],
    ['out', 'string', 'folder to write (required; replaced if it exists)'],
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const value = (name: string): string => {
      const v = p.str(name);
      if (v === undefined) p.problems.push(`missing required option '--${name}'`);
      return v!;
    };
    return { model: value('model'), out: value('out'), io: ctx.io };
  },
};
