/**
 * `flash serve` on a tabular run: POST /predict with JSON rows (`[{column: value}]` or `{"rows": [...]}`) or a
 * CSV body; the run's saved transform and model, exactly as `flash predict`. GET / is a form with one field per
 * input column; GET /metadata says what the model reads and predicts.
 */
import { resolve } from 'node:path';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { isUserError } from '../../src/core/errors.js';
import { createServerCore, HttpError, listenUntilStopped } from '../../src/serve/server.js';
import type { RunCommandArgs } from '../types.js';
import { predictTable } from './commands.js';
import { shown } from './data.js';
import { loadTabular, type TabularMeta } from './run.js';
import { parseTable, tableFromRecords, type Table } from './table.js';

export interface TabularServeArgs extends RunCommandArgs {
  model: string;
  host: string;
  port: number;
  backend?: string;
  quiet: boolean;
  /** Called once listening (tests). */
  onListening?: (url: string) => void;
}

const HINT = 'send JSON rows ([{"column": value, ...}] or {"rows": [...]}) or a CSV body (content-type text/csv)';

/** A request body as a table. */
function bodyTable(body: unknown): Table {
  if (Buffer.isBuffer(body)) return parseTable(body.toString('utf8'), 'request body');
  const rows = Array.isArray(body) ? body : (body as { rows?: unknown })?.rows;
  if (!Array.isArray(rows) || rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) throw new HttpError(400, HINT);
  return tableFromRecords(rows as Record<string, unknown>[], 'request body');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The form page: one field per input column; the answer shown as JSON. */
function page(meta: TabularMeta): string {
  // A date column is one field (its parts are features, not inputs).
  const dates = [...new Set(meta.preprocessing.numerical.filter((s) => s.date).map((s) => s.date!.column))];
  const cols = [...meta.preprocessing.numerical.filter((s) => !s.date).map((s) => [s.name, 'number'] as const), ...dates.map((d) => [d, 'text'] as const), ...meta.preprocessing.categorical.map((s) => [s.name, 'text'] as const)];
  const fields = cols.map(([c, kind]) => `<label>${escapeHtml(c)} <input name="${escapeHtml(c)}" ${kind === 'number' ? 'inputmode="decimal"' : ''}></label>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>flash ${escapeHtml(meta.task)}</title>
<style>body{font:15px system-ui;margin:2em;max-width:40em}label{display:block;margin:.4em 0}input{margin-left:.5em}pre{background:#f4f4f4;padding:1em}</style></head>
<body><h1>${escapeHtml(meta.task)}: ${escapeHtml(meta.target)}</h1><form id="f">${fields}<button>predict</button></form><pre id="out"></pre>
<script>document.getElementById('f').onsubmit=async(e)=>{e.preventDefault();const row=Object.fromEntries(new FormData(e.target));
const r=await fetch('predict',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify([row])});
document.getElementById('out').textContent=JSON.stringify(await r.json(),null,2);};</script></body></html>`;
}

/** Serves a run until Ctrl-C / SIGTERM (or `args.signal`). */
export async function serveCommand(args: TabularServeArgs): Promise<void> {
  const { io } = args;
  const backend = await selectBackend(args.backend ?? 'auto');
  io.err(`${describeBackend(backend)}\n`);
  const runDir = resolve(io.cwd, args.model);
  const { module, meta } = await loadTabular(runDir);
  try {
    const app = await createServerCore({
      maxBody: 10 * 1024 * 1024,
      maxFiles: 1,
      inputHint: HINT,
      rawContentTypes: ['text/csv'],
      accessLog: args.quiet ? undefined : (line) => io.err(`${line}\n`),
      onInternalError: (err) => io.err(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
    });
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page(meta)));
    app.get('/metadata', async () => ({
      task: meta.task,
      target: meta.target,
      labels: meta.labels,
      numerical: meta.preprocessing.numerical.filter((s) => !s.date).map((s) => s.name),
      dates: [...new Set(meta.preprocessing.numerical.filter((s) => s.date).map((s) => s.date!.column))],
      categorical: meta.preprocessing.categorical.map((s) => ({ name: s.name, categories: s.categories })),
    }));
    app.get('/health', async () => ({ status: 'ok' }));
    app.post('/predict', async (req) => {
      const notes: string[] = [];
      try {
        const predictions = predictTable(module, meta, bodyTable(req.body), [], (l) => notes.push(l));
        return { predictions, notes };
      } catch (err) {
        // The user's mistakes in a request (a missing column, a ragged CSV) are a 400 with the one-line message.
        if (isUserError(err)) throw new HttpError(400, err.message);
        throw err;
      }
    });
    await listenUntilStopped(app, {
      host: args.host,
      port: args.port,
      signal: args.signal,
      onListening: (url) => {
        io.out(`serving ${shown(runDir, io.cwd)} (${meta.task}, target '${meta.target}') on ${url}\n  web page: ${url}/\n  predict:  curl -H 'content-type: text/csv' --data-binary @rows.csv ${url}/predict\npress Ctrl-C to stop\n`);
        args.onListening?.(url);
      },
    });
    io.out('server stopped\n');
  } finally {
    module.dispose();
  }
}
