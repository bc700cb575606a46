import { basename, relative, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { runSplit } from '../../src/core/trainer/evaluate.js';
import type { ServeArgs } from './cli.js';
import { MicroBatcher } from '../../src/serve/batcher.js';
import { createServerCore, HttpError, listenUntilStopped } from '../../src/serve/server.js';
import { formatByteSize } from '../../src/serve/size.js';
import { decodeImage, ImageDecodeError, splitFromPixels } from './data/index.js';
import { ImageClassifier, readFlashJson } from './model.js';
import { checkThreshold, thresholded } from './predict.js';
import { versions, type FlashJson } from './run_metadata.js';
import { SERVE_PAGE } from './serve_page.js';
import { DEFAULT_BATCH_SIZE } from '../../src/core/config/index.js';

/** One image's answer from `POST /predict`. */
export interface ServedPrediction {
  label: string;
  score: number;
  /** The most probable classes, best first (`?top_k=`, default 3). */
  top_k: { label: string; score: number }[];
  /** Multi-label models: every label at or above `threshold`, most probable first (`label` joins them with ';'). */
  labels?: { label: string; score: number }[];
  threshold?: number;
  /** The uploaded file's name (multipart uploads only). */
  file?: string;
}

export interface ImageServerOptions {
  /** Largest request body in bytes (default 10 MB). */
  maxBody?: number;
  /** Classes returned per image when the request has no `?top_k=` (default 3). */
  topK?: number;
  /** Multi-label models: the threshold when a request has no `?threshold=` (default: the model's). */
  threshold?: number;
  /** Most images the model runs at once (default 32). */
  maxBatch?: number;
  /** How long a lone image waits for others to share its batch, in ms (default 4). */
  maxWaitMs?: number;
  /** Most images waiting for the model; beyond it requests get 503 (default 1024). */
  maxQueue?: number;
  /** Most images in one request (default 64). */
  maxImagesPerRequest?: number;
  /** The run folder's flash.json, for GET /metadata (read from runDir when absent). */
  meta?: FlashJson;
  /** The run folder, shown on the page and in /metadata. */
  runDir?: string;
  /** The backend serving (flash's name), for /metadata and /health. */
  backend?: string;
  /** One line per request (`POST /predict 200 3.1 ms`). */
  accessLog?: (line: string) => void;
  onInternalError?: (err: unknown) => void;
}

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

const INPUT_HINT =
  'send the image as multipart/form-data (a file field, e.g. curl -F image=@cat.jpg), as JSON {"image": "<base64>"} ' +
  'or {"images": ["<base64>", …]}, or as the raw bytes with an image/* content type';

/** Raw bodies taken as an image: `image/png`, `image/jpeg`, … */
const IMAGE_CONTENT_TYPE = /^image\/[\w.+-]+$/;

interface Upload {
  /** How messages name it: the file name, `image`, `images[2]` or `request body`. */
  name: string;
  bytes: Buffer;
  file?: string;
}

/** Runs the classifier on decoded images exactly as `predictFiles` does (splitFromPixels → runSplit); one probs row each. */
export async function classifyPixels(model: ImageClassifier, pixels: Uint8Array[]): Promise<Float32Array[]> {
  const split = splitFromPixels(model.spec!, pixels.map((p, i) => ({ id: String(i), pixels: p, label: -1 })));
  const out = await runSplit(model, split, pixels.length, false);
  const k = model.labels.length;
  return pixels.map((_, i) => out.probs.slice(i * k, (i + 1) * k));
}

/** Top-k of one probability row, ties broken by class index (as `predictFiles` ranks). */
export function topPrediction(probs: Float32Array, labels: string[], topK: number, threshold?: number): ServedPrediction {
  const k = Math.max(1, Math.min(topK, labels.length));
  const order = Array.from(probs, (p, c) => [p, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const top = order.slice(0, k).map(([p, c]) => ({ label: labels[c], score: p }));
  // Multi-label (a threshold given): the same shape as `flash predict`'s, plus top_k.
  if (threshold !== undefined) return { ...thresholded(probs, labels, threshold), top_k: top } as ServedPrediction;
  return { label: top[0].label, score: top[0].score, top_k: top };
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** Decodes a base64 (or base64url, or `data:…;base64,` URL) string; a 400 naming the field when it isn't one. */
export function decodeBase64(text: string, name: string): Buffer {
  const body = text.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (body.length === 0) throw new HttpError(400, `${name}: empty; expected a base64-encoded image`);
  if (!BASE64.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
    throw new HttpError(400, `${name}: not valid base64; expected a base64-encoded image (JPEG, PNG, WebP, GIF or TIFF)`);
  }
  const bytes = Buffer.from(body, /[-_]/.test(body) ? 'base64url' : 'base64');
  if (bytes.length === 0) throw new HttpError(400, `${name}: empty; expected a base64-encoded image`);
  return bytes;
}

/**
 * The HTTP app behind `flash serve` for an image classifier: `POST /predict`, `GET /health`, `GET /metadata` and
 * `GET /` (the web page). Images from all requests go through one micro-batcher, so concurrent calls share model
 * runs instead of fighting over the backend. Not listening yet: call `app.listen` (or use `serveCommand`).
 */
export async function createImageServer(
  model: ImageClassifier,
  options: ImageServerOptions = {},
): Promise<{ app: FastifyInstance; batcher: MicroBatcher<Uint8Array, Float32Array> }> {
  if (!model.spec) throw new Error('the model has no input spec: load it with ImageClassifier.load(runDir)');
  const spec = model.spec;
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  const defaultTopK = Math.max(1, Math.min(options.topK ?? 3, model.labels.length));
  const defaultThreshold = checkThreshold(options.threshold) ?? model.threshold;
  const maxImages = options.maxImagesPerRequest ?? 64;
  const batcher = new MicroBatcher<Uint8Array, Float32Array>({
    run: (pixels) => classifyPixels(model, pixels),
    maxBatch: options.maxBatch ?? DEFAULT_BATCH_SIZE,
    maxWaitMs: options.maxWaitMs ?? 4,
    maxQueue: options.maxQueue ?? 1024,
  });
  const app = await createServerCore({
    maxBody,
    maxFiles: maxImages,
    inputHint: INPUT_HINT,
    accessLog: options.accessLog,
    onInternalError: options.onInternalError,
    rawContentTypes: [IMAGE_CONTENT_TYPE],
  });
  app.addHook('onClose', async () => {
    await batcher.close();
  });
  const started = Date.now();
  const run = options.runDir ? basename(options.runDir) : undefined;
  const meta = options.meta ?? (options.runDir ? await readFlashJson(options.runDir) : undefined);

  const metadata = {
    task: 'image_classification',
    run,
    labels: model.labels,
    num_classes: model.labels.length,
    multi_label: model.multiLabel,
    ...(model.multiLabel ? { threshold: defaultThreshold } : {}),
    input: { height: spec.height, width: spec.width, channels: spec.channels, range: [0, 255], layout: 'NHWC', resize: 'fill' },
    backbone: meta?.backbone ?? model.backboneName,
    best_epoch: meta?.best_epoch,
    metrics: meta?.metrics ?? {},
    created: meta?.created,
    /** What the model was trained with (flash.json); `serving.versions` is what serves it. */
    versions: meta?.versions,
    trained_backend: meta?.backend,
    serving: {
      versions: versions(),
      backend: options.backend,
      max_body: maxBody,
      max_body_text: formatByteSize(maxBody),
      max_images_per_request: maxImages,
      max_batch: options.maxBatch ?? DEFAULT_BATCH_SIZE,
      default_top_k: defaultTopK,
    },
  };

  const predictionSchema = {
    type: 'object',
    properties: {
      label: { type: 'string' },
      score: { type: 'number' },
      top_k: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } } },
      labels: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } } },
      threshold: { type: 'number' },
      file: { type: 'string' },
    },
    required: ['label', 'score', 'top_k'],
  };
  const errorSchema = {
    type: 'object',
    properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
  };

  app.post(
    '/predict',
    {
      // Fastify's validator coerces types (so ?top_k=5 becomes a number); a number sent as the image must not
      // quietly become the string "42", so the JSON body's types are checked before it runs.
      preValidation: async (req) => checkJsonTypes(req.body),
      schema: {
        querystring: {
          type: 'object',
          properties: { top_k: { type: 'integer', minimum: 1, maximum: 1000 }, threshold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } },
        },
        body: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  image: { type: 'string' },
                  images: { type: 'array', minItems: 1, maxItems: maxImages, items: { type: 'string' } },
                },
              },
            },
          },
        },
        response: {
          200: {
            anyOf: [
              predictionSchema,
              { type: 'object', properties: { predictions: { type: 'array', items: predictionSchema } }, required: ['predictions'] },
            ],
          },
          '4xx': errorSchema,
          '5xx': errorSchema,
        },
      },
    },
    async (req: FastifyRequest<{ Querystring: { top_k?: number; threshold?: number } }>, reply: FastifyReply) => {
      const topK = req.query.top_k ?? defaultTopK;
      const threshold = model.multiLabel ? (req.query.threshold ?? defaultThreshold) : undefined;
      // While this request reads and decodes, a batch of others' images waits for it (a few ms at most).
      const release = batcher.hold();
      let submitted: Promise<Float32Array[]>;
      let uploads: Upload[];
      let batch: boolean;
      try {
        ({ uploads, batch } = await readUploads(req, maxBody, maxImages));
        const pixels = await Promise.all(
          uploads.map(async (u) => {
            try {
              return await decodeImage(u.bytes, spec, u.name);
            } catch (err) {
              if (err instanceof ImageDecodeError) throw new HttpError(422, err.message);
              throw err;
            }
          }),
        );
        submitted = batcher.submitAll(pixels);
      } finally {
        release();
      }
      const probs = await submitted;
      const preds = probs.map((p, i) => {
        const pred = topPrediction(p, model.labels, topK, threshold);
        if (uploads[i].file !== undefined) pred.file = uploads[i].file;
        return pred;
      });
      void reply.header('cache-control', 'no-store');
      return batch ? { predictions: preds } : preds[0];
    },
  );

  app.get('/health', async () => ({
    status: 'ok',
    uptime_s: Math.round((Date.now() - started) / 1000),
    queue: batcher.pending,
    busy: batcher.busy,
    batches: batcher.stats.batches,
    images: batcher.stats.inputs,
  }));
  app.get('/metadata', async () => metadata);
  app.get('/', async (_req, reply) => {
    void reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'")
      .header('cache-control', 'no-store');
    return SERVE_PAGE;
  });
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  return { app, batcher };
}

/** A 400 when a JSON body's `image` or `images` items are not strings (before the validator would coerce them). */
function checkJsonTypes(body: unknown): void {
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || Array.isArray(body)) return;
  const b = body as { image?: unknown; images?: unknown };
  if (b.image !== undefined && typeof b.image !== 'string') {
    throw new HttpError(400, `invalid request: body/image must be string (a base64-encoded image), got ${typeName(b.image)}`);
  }
  if (Array.isArray(b.images)) {
    const i = b.images.findIndex((x) => typeof x !== 'string');
    if (i >= 0) throw new HttpError(400, `invalid request: body/images/${i} must be string (a base64-encoded image), got ${typeName(b.images[i])}`);
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The images of a /predict request, whichever way they came: multipart files, JSON base64, or a raw image body. */
async function readUploads(req: FastifyRequest, maxBody: number, maxImages: number): Promise<{ uploads: Upload[]; batch: boolean }> {
  if (req.isMultipart()) {
    const uploads: Upload[] = [];
    let total = 0;
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > maxBody) throw new HttpError(413, `uploaded files add up to more than the limit of ${formatByteSize(maxBody)} (--max_body)`);
      const name = part.filename || part.fieldname;
      if (bytes.length === 0) throw new HttpError(400, `uploaded file '${name}' is empty (0 bytes)`);
      uploads.push({ name, bytes, file: part.filename || undefined });
    }
    if (uploads.length === 0) throw new HttpError(400, `no file in the multipart body: ${INPUT_HINT}`);
    return { uploads, batch: uploads.length > 1 };
  }
  const body = req.body as unknown;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) throw new HttpError(400, `empty body: ${INPUT_HINT}`);
    return { uploads: [{ name: 'request body', bytes: body }], batch: false };
  }
  if (body === undefined || body === null || body === '') throw new HttpError(400, `empty body: ${INPUT_HINT}`);
  const json = body as { image?: string; images?: string[] };
  if (json.image !== undefined && json.images !== undefined) throw new HttpError(400, 'give either "image" or "images", not both');
  if (typeof json.image === 'string') return { uploads: [{ name: 'image', bytes: decodeBase64(json.image, 'image') }], batch: false };
  if (Array.isArray(json.images)) {
    if (json.images.length > maxImages) throw new HttpError(413, `too many images in one request: ${json.images.length}, at most ${maxImages}`);
    return { uploads: json.images.map((s, i) => ({ name: `images[${i}]`, bytes: decodeBase64(s, `images[${i}]`) })), batch: true };
  }
  throw new HttpError(400, `missing "image": ${INPUT_HINT}`);
}

/**
 * `flash serve`: loads a run's model once, warms it up, and serves it on host:port until Ctrl-C / SIGTERM (or
 * `args.signal`), then closes cleanly (requests in flight are answered first).
 */
export async function serveCommand(args: ServeArgs): Promise<void> {
  const { io } = args;
  const backend = await selectBackend(args.backend);
  io.err(`${describeBackend(backend)}\n`);
  const runDir = resolve(io.cwd, args.model);
  const meta = await readFlashJson(runDir);
  const model = await ImageClassifier.load(runDir);
  try {
    const spec = model.spec!;
    await classifyPixels(model, [new Uint8Array(spec.height * spec.width * spec.channels)]); // warm-up: first kernels compile now
    const { app } = await createImageServer(model, {
      meta,
      runDir,
      backend: backend.name,
      maxBody: args.maxBody,
      topK: args.topK,
      threshold: args.threshold,
      maxBatch: args.batchSize,
      accessLog: args.quiet ? undefined : (line) => io.err(`${line}\n`),
      onInternalError: (err) => io.err(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
    });
    const shownRun = relative(io.cwd, runDir) || '.';
    await listenUntilStopped(app, {
      host: args.host,
      port: args.port,
      signal: args.signal,
      onListening: (url) => {
        io.out(
          `serving ${shownRun} (${model.labels.length} classes, ${spec.width}×${spec.height}×${spec.channels}) on ${url}\n` +
            `  web page:  ${url}/\n` +
            `  predict:   curl -F image=@photo.jpg ${url}/predict\n` +
            `  also:      GET ${url}/metadata, GET ${url}/health; bodies up to ${formatByteSize(args.maxBody)}\n` +
            'press Ctrl-C to stop\n',
        );
        args.onListening?.(url);
      },
    });
    io.out('server stopped\n');
  } finally {
    model.network().dispose();
  }
}
