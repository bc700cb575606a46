/**
 * text_classification's commands on a saved run as the CLI sees them: flags, help, and how flags become
 * arguments. No model code is loaded here, so help and flag errors stay fast.
 */
import { DEFAULT_BATCH_SIZE } from '../../src/core/config/index.js';
import { didYouMean } from '../../src/core/suggest.js';
import { parseByteSize } from '../../src/serve/size.js';
import type { CommandContext, CommandOption, ParsedCommand, RunCommandArgs, TaskCommand } from '../types.js';

export interface TextPredictArgs extends RunCommandArgs {
  model: string;
  /** Texts given on the command line. */
  texts?: string[];
  /** A CSV (or .jsonl/.json file) of texts, one prediction per row in order. */
  file?: string;
  inputField?: string;
  /** Input columns copied into each prediction (CSV/JSON input only). */
  keepColumns?: string[];
  topK: number;
  threshold?: number;
  output?: string;
  batchSize: number;
  backend: string;
}

export interface TextEvaluateArgs extends RunCommandArgs {
  model: string;
  /** A labelled CSV, JSON lines file or folder of class sub-folders. */
  csv?: string;
  jsonl?: string;
  folder?: string;
  inputField?: string;
  targetFields?: string[];
  output?: string;
  batchSize: number;
  backend: string;
}

export interface TextServeArgs extends RunCommandArgs {
  model: string;
  host: string;
  port: number;
  maxBody: number;
  topK: number;
  threshold?: number;
  backend: string;
  quiet?: boolean;
  onListening?: (url: string) => void;
}

export interface TextExportArgs extends RunCommandArgs {
  model: string;
  out: string;
}

type CommandSpec<A extends RunCommandArgs> = Omit<TaskCommand<A>, 'run'>;

const opts = (rows: [string, CommandOption['kind'], string][]): CommandOption[] => rows.map(([name, kind, description]) => ({ name, kind, description }));

/** `--backend`, checked against the backends registry. */
function backendOf(p: ParsedCommand, ctx: CommandContext): string {
  const name = p.str('backend') ?? 'auto';
  const allowed = ['auto', ...(ctx.registries.backends?.names() ?? [])];
  if (!allowed.includes(name)) p.problems.push(`--backend: unknown backend '${name}'${didYouMean(name, allowed)}; available: ${allowed.join(', ')}`);
  return name;
}

function requireModel(p: ParsedCommand): string {
  const model = p.str('model');
  if (model === undefined && !p.has('model')) p.problems.push("missing required option '--model' (a run folder, e.g. runs/text_classification-…)");
  return model!;
}

export const predictSpec: CommandSpec<TextPredictArgs> = {
  summary: 'classify texts with a trained text model',
  usage: ['flash predict --model RUN_DIR --text "some text" ["more text" ...] [--top_k 2]', 'flash predict --model RUN_DIR --csv rows.csv [--input_field text] [--output preds.csv|.json|.jsonl]'],
  options: opts([
    ['model', 'string', 'run folder of a trained text model (required)'],
    ['text', 'array', 'texts to classify'],
    ['csv', 'string', "a CSV (or a .jsonl JSON lines file) of texts: one prediction per row, in order; --csv - (or --csv=-) reads one text per line from stdin"],
    ['keep_columns', 'array', '--csv: input columns copied into the output, before the predictions'],
    ['input_field', 'string', "--csv: the text column (default: the run's data.input_field)"],
    ['top_k', 'string', 'classes shown per text (default: 3)'],
    ['threshold', 'string', "multi-label models: every label with probability >= this (default: the model's)"],
    ['output', 'string', 'write the predictions to a .csv, .json or .jsonl file instead of printing them'],
    ['batch_size', 'string', `texts per batch (default: ${DEFAULT_BATCH_SIZE})`],
    ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
  ]),
  parse(p, ctx) {
    const model = requireModel(p);
    const texts = [...(p.list('text') ?? []), ...p.positionals];
    const file = p.str('csv');
    const output = p.str('output');
    if (texts.length === 0 && file === undefined && !p.has('csv')) p.problems.push("missing required option '--text' or '--csv' (what to classify)");
    if (texts.length > 0 && file !== undefined) p.problems.push('give --text or --csv, not both');
    if (output !== undefined && !/\.(json|jsonl|csv)$/i.test(output)) p.problems.push(`--output: expected a .json, .jsonl or .csv file, got '${output}'`);
    const args: TextPredictArgs = { model, topK: p.int('top_k', 3, 1), batchSize: p.int('batch_size', DEFAULT_BATCH_SIZE, 1), backend: backendOf(p, ctx), io: ctx.io };
    const threshold = p.fraction('threshold');
    if (threshold !== undefined) args.threshold = threshold;
    if (texts.length) args.texts = texts;
    if (file !== undefined) args.file = file;
    const inputField = p.str('input_field');
    if (inputField !== undefined) args.inputField = inputField;
    const keep = p.list('keep_columns');
    if (keep?.length) {
      if (file === undefined || file === '-') p.problems.push('--keep_columns goes with --csv FILE (the columns of its rows)');
      args.keepColumns = keep;
    }
    if (output !== undefined) args.output = output;
    return args;
  },
  shards: { of: 'the texts (--text in the order given; the rows of --csv in file order)', needs: (a) => [a.model, ...(a.file !== undefined ? [a.file] : [])] },
};

export const evaluateSpec: CommandSpec<TextEvaluateArgs> = {
  summary: 'accuracy, macro F1, AUROC and a per-class table on labelled texts (multi-label: micro/macro F1, Hamming and subset accuracy)',
  usage: ['flash evaluate --model RUN_DIR --csv test.csv [--input_field text] [--target_fields label]', 'flash evaluate --model RUN_DIR (--jsonl test.jsonl | --folder DIR)'],
  options: opts([
    ['model', 'string', 'run folder of a trained text model (required)'],
    ['csv', 'string', 'labelled CSV laid out as for from_csv'],
    ['jsonl', 'string', 'labelled JSON lines file laid out as for from_json'],
    ['folder', 'string', 'class sub-folders of .txt files'],
    ['input_field', 'string', "the text column/field (default: the run's data.input_field)"],
    ['target_fields', 'array', "the label column(s) (default: the run's data.target_fields)"],
    ['output', 'string', 'write the metrics to a .json file too'],
    ['batch_size', 'string', `texts per batch (default: ${DEFAULT_BATCH_SIZE})`],
    ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const model = requireModel(p);
    const given = (['csv', 'jsonl', 'folder'] as const).filter((k) => p.has(k));
    if (given.length === 0) p.problems.push("missing required option '--csv', '--jsonl' or '--folder' (labelled texts)");
    if (given.length > 1) p.problems.push(`give one of --csv, --jsonl and --folder, not ${given.map((g) => `--${g}`).join(' and ')}`);
    const output = p.str('output');
    if (output !== undefined && !/\.json$/i.test(output)) p.problems.push(`--output: expected a .json file, got '${output}'`);
    const args: TextEvaluateArgs = { model, batchSize: p.int('batch_size', DEFAULT_BATCH_SIZE, 1), backend: backendOf(p, ctx), io: ctx.io };
    for (const k of ['csv', 'jsonl', 'folder'] as const) {
      const v = p.str(k);
      if (v !== undefined) args[k] = v;
    }
    const inputField = p.str('input_field');
    if (inputField !== undefined) args.inputField = inputField;
    const targetFields = p.list('target_fields');
    if (targetFields?.length) args.targetFields = targetFields;
    if (output !== undefined) args.output = output;
    return args;
  },
};

export const serveSpec: CommandSpec<TextServeArgs> = {
  summary: 'serve a trained text model over HTTP, with a page to try it',
  usage: ['flash serve --model RUN_DIR [--host 127.0.0.1] [--port 8000] [--max_body 1MB] [options]'],
  notes: [
    [
      'Endpoints:',
      '  POST /predict   JSON {"text": "…"} or {"texts": ["…", …]}; ?top_k=N; multi-label models: ?threshold=0.5',
      '  GET /metadata   labels, tokenizer settings, serving limits',
      '  GET /health     liveness',
      '  GET /           a page with a textarea',
    ].join('\n'),
  ],
  options: opts([
    ['model', 'string', 'run folder of a trained text model (required)'],
    ['host', 'string', 'address to listen on (default: 127.0.0.1)'],
    ['port', 'string', 'port to listen on (default: 8000; 0 = any free port)'],
    ['max_body', 'string', 'largest request body, e.g. 1MB, 512KB or bytes (default: 1MB)'],
    ['top_k', 'string', 'classes per text when a request has no ?top_k= (default: 3)'],
    ['threshold', 'string', "multi-label models: the threshold when a request has no ?threshold= (default: the model's)"],
    ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
    ['quiet', 'boolean', 'no line per request on stderr'],
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const model = requireModel(p);
    let maxBody = 1024 * 1024;
    const text = p.str('max_body');
    if (text !== undefined) {
      const bytes = parseByteSize(text);
      if (bytes === undefined || bytes < 1) p.problems.push(`--max_body: expected a size such as 1MB, 512KB or a number of bytes, got '${text}'`);
      else maxBody = bytes;
    }
    const args: TextServeArgs = { model, host: p.str('host') ?? '127.0.0.1', port: p.int('port', 8000, 0, 65535), maxBody, topK: p.int('top_k', 3, 1, 1000), backend: backendOf(p, ctx), io: ctx.io };
    const threshold = p.fraction('threshold');
    if (threshold !== undefined) args.threshold = threshold;
    if (p.bool('quiet')) args.quiet = true;
    return args;
  },
};

export const exportSpec: CommandSpec<TextExportArgs> = {
  summary: 'a folder for a web page (model, tokenizer.json, tokenizer.js, classifier.js, index.html, tf.min.js): the page tokenizes as flash does',
  usage: ['flash export --model RUN_DIR --out DIR'],
  options: opts([
    ['model', 'string', 'run folder of a trained text model (required)'],
    ['out', 'string', 'folder to write (required; replaced if it exists)'],
  ]),
  parse(p, ctx) {
    for (const w of p.positionals) p.problems.push(`unexpected argument '${w}'`);
    const model = requireModel(p);
    const out = p.str('out');
    if (out === undefined) p.problems.push("missing required option '--out'");
    return { model, out: out!, io: ctx.io };
  },
};
