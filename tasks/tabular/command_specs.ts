/** The flags, help and parsing of the commands on a tabular run; the commands themselves are in commands.ts. */
import type { TaskCommand } from '../types.js';
import type { TabularEvaluateArgs, TabularPredictArgs } from './commands.js';
import type { TabularExportArgs } from './export.js';
import type { TabularServeArgs } from './serve.js';

function requireRunAndCsv(p: Parameters<TaskCommand['parse']>[0]): { model: string; csv: string } {
  const model = p.str('model');
  const csv = p.str('csv');
  if (model === undefined) p.problems.push("missing required option '--model' (a run folder)");
  if (csv === undefined) p.problems.push("missing required option '--csv' (a CSV with the model's feature columns)");
  return { model: model!, csv: csv! };
}

const common = [
  { name: 'model', kind: 'string', description: 'run folder (required)' },
  { name: 'csv', kind: 'string', description: 'CSV with the columns the model was trained on (required)' },
  { name: 'backend', kind: 'string', description: 'TensorFlow.js backend (default auto)' },
] as const;

/** The commands a tabular task offers on its runs. */
export const tabularCommands = {
  predict: {
    summary: 'predictions for every row of a CSV, in input order',
    usage: ['flash predict --model RUN_DIR --csv rows.csv [--output preds.csv|.json|.jsonl] [--keep_columns id ...]'],
    options: [
      ...common,
      { name: 'output', kind: 'string', description: 'write the predictions to a .csv, .json or .jsonl file (default: a table on stdout)' },
      { name: 'keep_columns', kind: 'array', description: 'input columns copied into the output (an ID)' },
    ],
    notes: ['classification: label, score and one probability column per class; regression: prediction, in the target\'s units. The run\'s saved preprocessing is applied; filled-in cells are counted on stderr.'],
    parse: (p, ctx) => ({ ...requireRunAndCsv(p), output: p.str('output'), keepColumns: p.list('keep_columns') ?? [], backend: p.str('backend'), io: ctx.io }),
    // The model code loads on demand, so `--help` and flag errors stay fast.
    run: async (a) => (await import('./commands.js')).predictCommand(a as TabularPredictArgs),
    shards: { of: "the CSV's rows, in file order", needs: (a) => [a.model as string, a.csv as string] },
  },
  evaluate: {
    summary: 'metrics of a run on a labelled CSV: per-class table (classification) or residual summary (regression)',
    usage: ['flash evaluate --model RUN_DIR --csv test.csv [--output metrics.json]'],
    options: [...common, { name: 'output', kind: 'string', description: 'also write the result to this .json file' }],
    parse: (p, ctx) => ({ ...requireRunAndCsv(p), output: p.str('output'), backend: p.str('backend'), io: ctx.io }),
    run: async (a) => (await import('./commands.js')).evaluateCommand(a as TabularEvaluateArgs),
  },
  serve: {
    summary: 'serve a tabular run over HTTP: JSON rows or a CSV body in, predictions out; a form page',
    usage: ['flash serve --model RUN_DIR [--host 127.0.0.1] [--port 8000]'],
    notes: [
      [
        'Endpoints:',
        '  POST /predict   JSON [{"column": value, ...}] or {"rows": [...]}, or a CSV body (content-type: text/csv) → {"predictions": [...], "notes": [...]}',
        '  GET /metadata   target, classes, the columns read and their categories',
        '  GET /health     liveness',
        '  GET /           a form with one field per input column',
      ].join('\n'),
    ],
    options: [
      { name: 'model', kind: 'string', description: 'run folder (required)' },
      { name: 'host', kind: 'string', description: 'address to listen on (default: 127.0.0.1)' },
      { name: 'port', kind: 'string', description: 'port to listen on (default: 8000; 0 = any free port)' },
      { name: 'backend', kind: 'string', description: 'TensorFlow.js backend (default auto)' },
      { name: 'quiet', kind: 'boolean', description: 'no line per request on stderr' },
    ],
    parse(p, ctx) {
      const model = p.str('model');
      if (model === undefined) p.problems.push("missing required option '--model' (a run folder)");
      return { model: model!, host: p.str('host') ?? '127.0.0.1', port: p.int('port', 8000, 0, 65535), backend: p.str('backend'), quiet: p.bool('quiet'), io: ctx.io };
    },
    run: async (a) => (await import('./serve.js')).serveCommand(a as TabularServeArgs),
  },
  export: {
    summary: 'a folder for a web page (model, preprocessing.json, encode.js, predictor.js, index.html, tf.min.js): the page encodes rows as flash does',
    usage: ['flash export --model RUN_DIR --out DIR'],
    options: [
      { name: 'model', kind: 'string', description: 'run folder of a trained tabular model (required)' },
      { name: 'out', kind: 'string', description: 'folder to write (required; replaced if it exists)' },
    ],
    notes: ["encode.js is flash's own row encoder (the saved preprocessing applied to {column: value} objects), so the page predicts what flash predict does."],
    parse(p, ctx) {
      const model = p.str('model');
      const out = p.str('out');
      if (model === undefined) p.problems.push("missing required option '--model' (a run folder)");
      if (out === undefined) p.problems.push("missing required option '--out'");
      return { model: model!, out: out!, io: ctx.io };
    },
    run: async (a) => (await import('./export.js')).exportCommand(a as TabularExportArgs),
  },
} satisfies Record<'predict' | 'evaluate' | 'serve' | 'export', TaskCommand>;
