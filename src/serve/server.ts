import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { FlashUserError } from '../core/errors.js';
import { formatByteSize } from './size.js';

/** An error a route throws to answer with a 4xx/5xx status and this message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase ("Payload Too Large"). */
  error: string;
  /** What was wrong, in words. */
  message: string;
  /** A machine-readable code when there is one (Fastify's, or flash's). */
  code?: string;
}

export interface ServerCoreOptions {
  /** Largest request body accepted, in bytes (JSON, raw and multipart alike). */
  maxBody: number;
  /** Most files in one multipart body. */
  maxFiles: number;
  /** What to send, for the 415/empty-body messages ("send multipart/form-data with an image file, …"). */
  inputHint: string;
  /** Called with one line per finished request (`POST /predict 200 3.1 ms`); none when absent. */
  accessLog?: (line: string) => void;
  /** Called with errors that became a 500 (bugs). */
  onInternalError?: (err: unknown) => void;
  /** Extra content types taken as a raw body Buffer (e.g. image types); matched by exact name or RegExp. */
  rawContentTypes?: (string | RegExp)[];
}

/**
 * The task-agnostic part of `flash serve`: a Fastify instance with body limits on every kind of body (JSON, raw
 * bytes, multipart), multipart parsing, no text/plain parser (a wrong content type is a 415), and one error shape for
 * everything that goes wrong — `{ statusCode, error, message, code? }` with a message that names the problem —
 * while the server keeps serving. Tasks add their routes to it.
 */
export async function createServerCore(options: ServerCoreOptions): Promise<FastifyInstance> {
  const { maxBody, maxFiles } = options;
  const limit = `${formatByteSize(maxBody)} (--max_body)`;
  const app = Fastify({
    logger: false,
    bodyLimit: maxBody,
    requestTimeout: 60_000,
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.removeContentTypeParser('text/plain');
  for (const type of ['application/octet-stream', ...(options.rawContentTypes ?? [])]) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: maxBody }, (_req, body, done) => {
      done(null, body);
    });
  }
  await app.register(multipart, {
    limits: { fileSize: maxBody, files: maxFiles, parts: maxFiles + 16, fields: 16, fieldSize: 64 * 1024, headerPairs: 100 },
    throwFileSizeLimit: true,
  });

  // A declared length over the limit is refused before any byte is read, whatever the content type (multipart
  // bodies are streamed, so Fastify's own bodyLimit check does not cover them).
  app.addHook('onRequest', async (req) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      throw new HttpError(413, `request body is ${formatByteSize(declared)}, larger than the limit of ${limit}`);
    }
  });

  if (options.accessLog) {
    const log = options.accessLog;
    app.addHook('onResponse', async (req, reply) => {
      log(`${req.method} ${req.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)} ms`);
    });
  }

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url.split('?')[0]}`, 'FLASH_NOT_FOUND'));
  });

  app.setErrorHandler((err: FastifyError | HttpError | Error, req, reply) => {
    const { statusCode, message, code } = describeError(err, req.headers['content-type'], { limit, maxFiles, hint: options.inputHint });
    if (statusCode >= 500 && statusCode !== 503) options.onInternalError?.(err);
    if (statusCode === 503) void reply.header('retry-after', '1');
    // The client may still be sending (say, a body over the limit): answer, then drop the connection so the
    // rest of the upload isn't read.
    if (statusCode === 413) void reply.header('connection', 'close');
    void reply.code(statusCode).send(errorBody(statusCode, message, code));
  });
  return app;
}

export function errorBody(statusCode: number, message: string, code?: string): ErrorBody {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (code) body.code = code;
  return body;
}

/** Status, message and code for any error a request ran into: Fastify's, multipart's, ours. */
export function describeError(
  err: unknown,
  contentType: string | undefined,
  ctx: { limit: string; maxFiles: number; hint: string },
): { statusCode: number; message: string; code?: string } {
  const e = err as Partial<FastifyError> & Error;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const msg = e?.message ?? String(err);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { statusCode: 413, code, message: `request body is larger than the limit of ${ctx.limit}` };
    case 'FST_REQ_FILE_TOO_LARGE':
      return { statusCode: 413, code, message: `uploaded file is larger than the limit of ${ctx.limit}` };
    case 'FST_FILES_LIMIT':
      return { statusCode: 413, code, message: `too many files in one request: at most ${ctx.maxFiles}` };
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return { statusCode: 413, code, message: 'too many parts in the multipart body' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return {
        statusCode: 415,
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        message: contentType ? `unsupported content type '${contentType}': ${ctx.hint}` : `missing Content-Type header: ${ctx.hint}`,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, code, message: `empty body: ${ctx.hint}` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { statusCode: 400, code, message: `body is not valid JSON: ${msg}` };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { statusCode: 400, code, message: 'the body does not match its Content-Length header' };
    default:
      break;
  }
  if (e instanceof HttpError) return { statusCode: e.statusCode, message: e.message };
  if ((e as FastifyError).validation) return { statusCode: 400, code: code ?? 'FST_ERR_VALIDATION', message: `invalid request: ${msg}` };
  if (e instanceof SyntaxError) return { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: `body is not valid JSON: ${msg}` };
  // busboy's complaints about a malformed multipart body ("Unexpected end of form", "Multipart: Boundary not found",
  // "Part terminated early due to unexpected end of multipart data").
  if (/^(Multipart|Malformed|Unexpected end of (form|multipart)|Part terminated early)/i.test(msg)) return { statusCode: 400, code: 'FLASH_BAD_MULTIPART', message: `malformed multipart body: ${msg}` };
  if (e instanceof FlashUserError) return { statusCode: 400, message: msg };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return { statusCode: status, code, message: msg };
  if (status === 503) return { statusCode: 503, code, message: msg };
  return { statusCode: 500, code, message: `internal error: ${msg}` };
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Stops the server when aborted (the CLI's Ctrl-C). */
  signal?: AbortSignal;
  /** Also stop on these process signals while serving (default SIGTERM; add SIGINT when there is no `signal`). */
  processSignals?: NodeJS.Signals[];
  /** Called once listening, with the base URL. */
  onListening?: (url: string) => void;
}

/** `http://127.0.0.1:8000` for the bound address (IPv6 in brackets). */
export function baseUrl(app: FastifyInstance): string {
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') return String(addr);
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

/** Listens, then resolves only once the server has been told to stop and has closed (in-flight requests finish). */
export async function listenUntilStopped(app: FastifyInstance, options: ListenOptions): Promise<void> {
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close().catch(() => {});
    throw listenError(err, options.host, options.port);
  }
  const signals = options.processSignals ?? (options.signal ? ['SIGTERM'] : ['SIGTERM', 'SIGINT']);
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  for (const s of signals) process.on(s, onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });
  if (options.signal?.aborted) stop();
  try {
    options.onListening?.(baseUrl(app));
    await stopped;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    options.signal?.removeEventListener('abort', onSignal);
    await app.close();
  }
}

function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new FlashUserError(`port ${port} on ${host} is already in use; pick another with --port (0 = any free port)`);
  if (code === 'EACCES') return new FlashUserError(`not allowed to listen on ${host}:${port}; ports below 1024 need privileges, pick another with --port`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new FlashUserError(`cannot listen on host '${host}': no such local address (try 127.0.0.1 or 0.0.0.0)`);
  return err;
}
