/**
 * `flash serve` for a text run: POST /predict with JSON {"text": "…"} or {"texts": ["…", …]} (?top_k=, and
 * ?threshold= for multi-label models), GET /metadata, GET /health, and GET / — a page with a textarea. Built on the
 * task-agnostic server core (body limits, one error shape, graceful stop).
 */
import { basename, relative, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { createServerCore, HttpError, listenUntilStopped } from '../../src/serve/server.js';
import { formatByteSize } from '../../src/serve/size.js';
import type { TextServeArgs } from './cli.js';
import { TextClassifier, type TextPrediction } from './model.js';
import { featureCount } from './tokenizer.js';

export interface TextServerOptions {
  /** Largest request body in bytes (default 1 MB). */
  maxBody?: number;
  /** Classes per text when a request has no ?top_k= (default 3). */
  topK?: number;
  /** Multi-label: the threshold when a request has no ?threshold= (default: the model's). */
  threshold?: number;
  /** Most texts in one request (default 256). */
  maxTexts?: number;
  runDir?: string;
  backend?: string;
  accessLog?: (line: string) => void;
  onInternalError?: (err: unknown) => void;
}

const HINT = 'send JSON {"text": "…"} or {"texts": ["…", …]} with Content-Type application/json';

/** One text's answer. */
function served(p: TextPrediction) {
  return { label: p.label, score: p.score, top_k: p.top, ...(p.labels ? { labels: p.labels, threshold: p.threshold } : {}) };
}

/** A query number, or a 400 naming it. */
function queryNumber(q: Record<string, string | undefined>, name: string, ok: (v: number) => boolean, what: string): number | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !ok(v)) throw new HttpError(400, `?${name}= must be ${what}, got '${raw}'`);
  return v;
}

/** The Fastify app serving a loaded text classifier (routes added; not listening yet). */
export async function createTextServer(clf: TextClassifier, o: TextServerOptions = {}): Promise<FastifyInstance> {
  const maxBody = o.maxBody ?? 1024 * 1024;
  const maxTexts = o.maxTexts ?? 256;
  const app = await createServerCore({ maxBody, maxFiles: 1, inputHint: HINT, accessLog: o.accessLog, onInternalError: o.onInternalError });
  const started = Date.now();
  const metadata = {
    task: 'text_classification',
    run: o.runDir ? basename(o.runDir) : undefined,
    labels: clf.labels,
    num_classes: clf.labels.length,
    multi_label: clf.multiLabel,
    ...(clf.multiLabel ? { threshold: o.threshold ?? clf.threshold } : {}),
    tokenizer: { ...clf.tokenizer.config, vocab_size: clf.tokenizer.vocab.length, features: featureCount(clf.tokenizer) },
    serving: { backend: o.backend, max_body: maxBody, max_body_text: formatByteSize(maxBody), max_texts_per_request: maxTexts, default_top_k: o.topK ?? 3 },
  };
  app.get('/health', async () => ({ status: 'ok', uptime_s: Math.round((Date.now() - started) / 1000) }));
  app.get('/metadata', async () => metadata);
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE(clf.labels)));
  app.post('/predict', async (req) => {
    const body = req.body as { text?: unknown; texts?: unknown } | undefined;
    if (!body || typeof body !== 'object') throw new HttpError(400, HINT);
    const q = req.query as Record<string, string | undefined>;
    const topK = queryNumber(q, 'top_k', (v) => Number.isInteger(v) && v >= 1, 'an integer of at least 1') ?? o.topK ?? 3;
    const threshold = queryNumber(q, 'threshold', (v) => v > 0 && v < 1, 'a number between 0 and 1') ?? o.threshold;
    if (typeof body.text === 'string' && body.texts === undefined) return served((await clf.predict([body.text], { topK, threshold }))[0]);
    if (Array.isArray(body.texts) && body.text === undefined) {
      if (body.texts.length === 0 || body.texts.length > maxTexts) throw new HttpError(400, `"texts" must hold 1 to ${maxTexts} texts, got ${body.texts.length}`);
      const bad = body.texts.findIndex((t) => typeof t !== 'string');
      if (bad >= 0) throw new HttpError(400, `"texts"[${bad}] is not a string`);
      return { predictions: (await clf.predict(body.texts as string[], { topK, threshold })).map(served) };
    }
    throw new HttpError(400, `expected a string "text" or a list "texts" (one of them): ${HINT}`);
  });
  return app;
}

/** `flash serve --model RUN` for a text run: serves until Ctrl-C/SIGTERM or `signal`. */
export async function serveCommand(args: TextServeArgs): Promise<void> {
  const { io } = args;
  const runDir = resolve(io.cwd, args.model);
  const backend = await selectBackend(args.backend);
  io.err(`${describeBackend(backend)}\n`);
  const clf = await TextClassifier.load(runDir);
  try {
    const app = await createTextServer(clf, {
      runDir,
      backend: backend.name,
      maxBody: args.maxBody,
      topK: args.topK,
      threshold: args.threshold,
      accessLog: args.quiet ? undefined : (line) => io.err(`${line}\n`),
      onInternalError: (err) => io.err(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
    });
    await listenUntilStopped(app, {
      host: args.host,
      port: args.port,
      signal: args.signal,
      onListening: (url) => {
        io.out(`serving ${relative(io.cwd, runDir) || '.'} (${clf.labels.length} ${clf.multiLabel ? 'labels' : 'classes'}) at ${url}\n  POST ${url}/predict  {"text": "…"} or {"texts": […]}\n  open ${url}/ to try it; Ctrl-C stops\n`);
        args.onListening?.(url);
      },
    });
  } finally {
    clf.dispose();
  }
}

/** The try-it page: a textarea, a button, the top classes as bars. No external resources. */
const PAGE = (labels: string[]) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flash text classifier</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}textarea{width:100%;height:8rem;font:inherit}
.bar{background:#4a7;height:1rem;display:inline-block;vertical-align:middle;margin-right:.5rem}li{list-style:none;margin:.3rem 0}</style></head>
<body><h1>flash text classifier</h1><p>${labels.length} classes: ${labels.map(escapeHtml).join(', ')}</p>
<textarea id="t" placeholder="type a text"></textarea><p><button id="b">classify</button></p><ul id="out"></ul>
<script>
document.getElementById('b').onclick = async () => {
  const r = await fetch('predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: document.getElementById('t').value }) });
  const j = await r.json();
  const out = document.getElementById('out');
  out.textContent = '';
  if (!r.ok) { out.textContent = j.message; return; }
  for (const c of j.top_k) {
    const li = document.createElement('li');
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = (c.score * 20) + 'rem';
    li.append(bar, c.label + ' ' + c.score.toFixed(3));
    out.append(li);
  }
};
</script></body></html>
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
