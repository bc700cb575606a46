/**
 * `flash serve`'s HTTP API on 127.0.0.1 with a tiny trained model: multipart, base64 JSON, batches and raw bodies
 * give predictFiles' answers; /health and /metadata; every bad input gets its 4xx JSON and the server keeps
 * serving; a bounded autocannon load has no errors and leaks no tensors; the CLI flags and Ctrl-C shutdown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import { defaultRecipe } from '../../../src/core/config/index.js';
import { runCli } from '../../../src/cli/index.js';
import { depsFor, realDeps } from '../../../src/main.js';
import { Registry } from '../../../src/core/registry.js';
import { imageClassification } from '../../../tasks/image_classification/index.js';
import type { TaskPlugin } from '../../../tasks/types.js';
import type { CliIO } from '../../../src/cli/types.js';
import { MicroBatcher, QueueFullError } from '../../../src/serve/batcher.js';
import { baseUrl } from '../../../src/serve/server.js';
import { formatByteSize, parseByteSize } from '../../../src/serve/size.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { predictFiles, type Prediction } from '../../../tasks/image_classification/predict.js';
import { createImageServer, decodeBase64, type ServedPrediction } from '../../../tasks/image_classification/serve.js';
import { trainImageClassifier } from '../../../tasks/image_classification/train.js';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, SHAPE_CLASSES } from '../../helpers/images.js';
import { defaultImageRecipe } from '../../../tasks/image_classification/schema.js';

const quietIO = (cwd: string): CliIO => ({ out: () => {}, err: () => {}, isTTY: false, cwd, env: {} });

let dir: string;
let runDir: string;
let model: ImageClassifier;
let app: FastifyInstance;
let url: string;
/** Probe images (one PNG, one JPEG per class) and what predictFiles says of them. */
const probes: { file: string; bytes: Buffer; pred: Prediction }[] = [];
const MAX_BODY = 64 * 1024;

before(async () => {
  dir = await makeTempDir('flash-serve-');
  const data = await makeShapeDataset(join(dir, 'shapes'), { perClass: 24, seed: 5, formats: ['png', 'jpg'] });
  const recipe = defaultImageRecipe();
  recipe.data.train_folder = data.trainDir;
  recipe.data.image_size = 16;
  recipe.data.batch_size = 16;
  recipe.trainer.max_epochs = 3;
  recipe.trainer.output_dir = join(dir, 'run');
  recipe.trainer.quiet = true;
  runDir = (await trainImageClassifier({ recipe, io: quietIO(dir) })).runDir;
  model = await ImageClassifier.load(runDir);
  for (const [i, cls] of SHAPE_CLASSES.entries()) {
    for (const format of ['png', 'jpg'] as const) {
      const file = join(dir, `probe_${i}.${format}`);
      const bytes = await drawShape({ shape: cls.shape, width: 40, height: 36, format });
      await writeFile(file, bytes);
      probes.push({ file, bytes, pred: undefined as unknown as Prediction });
    }
  }
  const preds = await predictFiles(model, probes.map((p) => p.file), { topK: 3 });
  preds.forEach((p, i) => (probes[i].pred = p));
  ({ app } = await createImageServer(model, { maxBody: MAX_BODY, runDir, backend: tf.getBackend(), maxImagesPerRequest: 8 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = baseUrl(app);
});

after(async () => {
  await app?.close();
  model?.network().dispose();
  await removeDir(dir);
});

function multipart(files: { name: string; bytes: Buffer; type?: string }[]): FormData {
  const form = new FormData();
  for (const f of files) form.append('image', new Blob([new Uint8Array(f.bytes)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return form;
}

async function post(path: string, init: RequestInit): Promise<{ status: number; body: any; type: string }> {
  const r = await fetch(url + path, { method: 'POST', ...init });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text
  }
  return { status: r.status, body, type: r.headers.get('content-type') ?? '' };
}

const json = (value: unknown): RequestInit => ({ body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });

function assertSame(got: ServedPrediction, want: Prediction) {
  assert.equal(got.label, want.label);
  assert.deepEqual(got.top_k.map((t) => t.label), want.top.map((t) => t.label));
  got.top_k.forEach((t, i) => assert.ok(Math.abs(t.score - want.top[i].score) < 1e-5, `${t.score} vs ${want.top[i].score}`));
}

/** A good request still gets its answer (after each bad one). */
async function stillServes() {
  const r = await post('/predict', json({ image: probes[0].bytes.toString('base64') }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.label, probes[0].pred.label);
}

describe('POST /predict', () => {
  test('multipart upload gives the labels and scores of predictFiles', async () => {
    for (const p of probes) {
      const r = await post('/predict', { body: multipart([{ name: 'x.png', bytes: p.bytes }]) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assertSame(r.body, p.pred);
      assert.equal(r.body.file, 'x.png');
      assert.equal(r.body.top_k.length, 3);
    }
  });

  test('JSON {"image": base64} (also a data: URL) gives the same', async () => {
    for (const p of probes) {
      const r = await post('/predict', json({ image: p.bytes.toString('base64') }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assertSame(r.body, p.pred);
      assert.equal(r.body.file, undefined);
    }
    const r = await post('/predict', json({ image: `data:image/png;base64,${probes[1].bytes.toString('base64')}` }));
    assertSame(r.body, probes[1].pred);
  });

  test('raw image/* body and ?top_k=', async () => {
    const r = await post('/predict?top_k=1', { body: new Uint8Array(probes[2].bytes), headers: { 'content-type': 'image/png' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.label, probes[2].pred.label);
    assert.equal(r.body.top_k.length, 1);
    const octets = await post('/predict', { body: new Uint8Array(probes[3].bytes), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(octets.body.label, probes[3].pred.label);
    const all = await post('/predict?top_k=99', json({ image: probes[2].bytes.toString('base64') }));
    assert.equal(all.body.top_k.length, model.labels.length);
  });

  test('batch: {"images": [...]} and several multipart files, answers in order', async () => {
    const r = await post('/predict?top_k=2', json({ images: probes.map((p) => p.bytes.toString('base64')) }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.predictions.length, probes.length);
    r.body.predictions.forEach((got: ServedPrediction, i: number) => {
      assert.equal(got.label, probes[i].pred.label);
      assert.equal(got.top_k.length, 2);
    });
    const m = await post('/predict', { body: multipart(probes.map((p, i) => ({ name: `f${i}.img`, bytes: p.bytes }))) });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.deepEqual(m.body.predictions.map((p: ServedPrediction) => p.file), probes.map((_, i) => `f${i}.img`));
    assert.deepEqual(m.body.predictions.map((p: ServedPrediction) => p.label), probes.map((p) => p.pred.label));
  });

  test('concurrent requests are batched together and each gets its own answer', async () => {
    const before = (await (await fetch(`${url}/health`)).json()) as { batches: number; images: number };
    const rs = await Promise.all(
      Array.from({ length: 24 }, (_, i) => post('/predict', json({ image: probes[i % probes.length].bytes.toString('base64') }))),
    );
    rs.forEach((r, i) => assert.equal(r.body.label, probes[i % probes.length].pred.label));
    const health = (await (await fetch(`${url}/health`)).json()) as { batches: number; images: number };
    assert.equal(health.images - before.images, 24);
    assert.ok(health.batches - before.batches < 24, `24 requests ran in ${health.batches - before.batches} batches`);
  });
});

describe('GET endpoints', () => {
  test('/health', async () => {
    const r = await fetch(`${url}/health`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.queue, 'number');
  });

  test('/metadata: labels, input, versions from flash.json', async () => {
    const meta = JSON.parse(await readFile(join(runDir, 'flash.json'), 'utf8'));
    const body = (await (await fetch(`${url}/metadata`)).json()) as any;
    assert.deepEqual(body.labels, meta.labels);
    assert.equal(body.num_classes, meta.labels.length);
    assert.deepEqual(
      { height: body.input.height, width: body.input.width, channels: body.input.channels },
      { height: 16, width: 16, channels: meta.input.channels },
    );
    assert.deepEqual(body.versions, meta.versions);
    assert.equal(body.trained_backend, meta.backend);
    assert.equal(body.serving.versions.tfjs, tf.version.tfjs);
    assert.equal(body.backbone, meta.backbone);
    assert.equal(body.serving.max_body, MAX_BODY);
    assert.equal(body.run, 'run');
  });

  test('/ is a self-contained HTML page (no external scripts or styles)', async () => {
    const r = await fetch(`${url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    const html = await r.text();
    assert.match(html, /<input id="file" type="file"/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  });

  test('unknown route: 404 JSON', async () => {
    const r = await fetch(`${url}/nope`);
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { message: string }).message, /no route GET \/nope/);
  });
});

describe('bad input: a 4xx JSON error naming the problem, and the server keeps serving', () => {
  const big = Buffer.alloc(MAX_BODY + 1024, 7);
  const cases: { name: string; send: () => Promise<{ status: number; body: any; type: string }>; status: number; message: RegExp }[] = [
    { name: 'non-image file (multipart)', send: () => post('/predict', { body: multipart([{ name: 'notes.txt', bytes: Buffer.from('not an image\n'), type: 'text/plain' }]) }), status: 422, message: /cannot decode image 'notes\.txt': not a supported image/ },
    { name: 'non-image (base64)', send: () => post('/predict', json({ image: Buffer.from('hello world, not an image').toString('base64') })), status: 422, message: /cannot decode image 'image'/ },
    { name: 'truncated JPEG', send: () => post('/predict', json({ image: probes[1].bytes.subarray(0, probes[1].bytes.length >> 1).toString('base64') })), status: 422, message: /cannot decode image 'image'/ },
    { name: 'truncated PNG in a batch names its index', send: () => post('/predict', json({ images: [probes[0].bytes.toString('base64'), probes[0].bytes.subarray(0, 200).toString('base64')] })), status: 422, message: /images\[1\]/ },
    { name: 'not base64', send: () => post('/predict', json({ image: '%%% not base64 %%%' })), status: 400, message: /image: not valid base64/ },
    { name: 'empty body, no content type', send: () => post('/predict', {}), status: 400, message: /empty body/ },
    { name: 'empty JSON body', send: () => post('/predict', { body: '', headers: { 'content-type': 'application/json' } }), status: 400, message: /empty body/ },
    { name: 'empty image string', send: () => post('/predict', json({ image: '' })), status: 400, message: /image: empty/ },
    { name: 'empty raw image body', send: () => post('/predict', { body: Buffer.alloc(0), headers: { 'content-type': 'image/png' } }), status: 400, message: /empty body/ },
    { name: 'empty multipart file', send: () => post('/predict', { body: multipart([{ name: 'empty.png', bytes: Buffer.alloc(0) }]) }), status: 400, message: /'empty\.png' is empty/ },
    { name: 'multipart without a file', send: () => post('/predict', { body: (() => { const f = new FormData(); f.append('note', 'hi'); return f; })() }), status: 400, message: /no file in the multipart body/ },
    { name: 'JSON without "image"', send: () => post('/predict', json({ picture: 'abc' })), status: 400, message: /missing "image"/ },
    { name: 'JSON with a number for "image"', send: () => post('/predict', json({ image: 42 })), status: 400, message: /body\/image must be string \(a base64-encoded image\), got number/ },
    { name: 'JSON with a non-string in "images"', send: () => post('/predict', json({ images: ['abcd', { x: 1 }] })), status: 400, message: /body\/images\/1 must be string/ },
    { name: 'JSON with an empty "images"', send: () => post('/predict', json({ images: [] })), status: 400, message: /images must NOT have fewer than 1 items/ },
    { name: 'invalid JSON', send: () => post('/predict', { body: '{"image": ', headers: { 'content-type': 'application/json' } }), status: 400, message: /not valid JSON/ },
    { name: 'JSON body over max_body', send: () => post('/predict', json({ image: big.toString('base64') })), status: 413, message: /larger than the limit of 64 KB \(--max_body\)/ },
    { name: 'multipart file over max_body', send: () => post('/predict', { body: multipart([{ name: 'big.png', bytes: big }]) }), status: 413, message: /larger than the limit of 64 KB/ },
    { name: 'raw body over max_body', send: () => post('/predict', { body: new Uint8Array(big), headers: { 'content-type': 'image/jpeg' } }), status: 413, message: /larger than the limit/ },
    { name: 'too many images in a batch', send: () => post('/predict', json({ images: Array(9).fill(probes[0].bytes.toString('base64')) })), status: 400, message: /images must NOT have more than 8 items/ },
    { name: 'too many multipart files', send: () => post('/predict', { body: multipart(Array.from({ length: 9 }, (_, i) => ({ name: `f${i}.png`, bytes: probes[0].bytes }))) }), status: 413, message: /too many files in one request: at most 8/ },
    { name: 'both "image" and "images"', send: () => post('/predict', json({ image: 'abcd', images: ['abcd'] })), status: 400, message: /either "image" or "images", not both/ },
    { name: 'truncated multipart body', send: () => post('/predict', { body: '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG', headers: { 'content-type': 'multipart/form-data; boundary=XYZ' } }), status: 400, message: /malformed multipart body/ },
    { name: 'multipart without a boundary', send: () => post('/predict', { body: 'garbage', headers: { 'content-type': 'multipart/form-data' } }), status: 400, message: /malformed multipart body: .*Boundary not found/ },
    { name: 'bytes with no content type', send: () => post('/predict', { body: new Uint8Array(probes[0].bytes) }), status: 415, message: /missing Content-Type header/ },
    { name: 'JSON that is not an object', send: () => post('/predict', json([1, 2])), status: 400, message: /body must be object/ },
    { name: 'wrong content type (text/plain)', send: () => post('/predict', { body: 'hello', headers: { 'content-type': 'text/plain' } }), status: 415, message: /unsupported content type 'text\/plain'.*multipart\/form-data/ },
    { name: 'wrong content type (form-urlencoded)', send: () => post('/predict', { body: 'image=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), status: 415, message: /unsupported content type/ },
    { name: 'top_k of 0', send: () => post('/predict?top_k=0', json({ image: probes[0].bytes.toString('base64') })), status: 400, message: /top_k must be >= 1/ },
    { name: 'top_k not a number', send: () => post('/predict?top_k=many', json({ image: probes[0].bytes.toString('base64') })), status: 400, message: /top_k must be integer/ },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async () => {
      const r = await c.send();
      assert.equal(r.status, c.status, JSON.stringify(r.body));
      assert.match(r.type, /application\/json/);
      assert.equal(r.body.statusCode, c.status);
      assert.equal(typeof r.body.error, 'string');
      assert.match(r.body.message, c.message);
      await stillServes();
    });
  }
});

describe('under load', () => {
  test('2,000 concurrent requests (8 connections): no errors, no non-2xx, no leaked tensors', { timeout: 120_000 }, async () => {
    const body = JSON.stringify({ image: probes[0].bytes.toString('base64') });
    await stillServes(); // warm
    const tensors = tf.memory().numTensors;
    const heap = process.memoryUsage().heapUsed;
    const result = await autocannon({
      url: `${url}/predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: 8,
      amount: 2000,
      timeout: 10,
    });
    assert.equal(result.errors, 0, `errors: ${result.errors}`);
    assert.equal(result.timeouts, 0);
    assert.equal(result.non2xx, 0);
    assert.equal(result['2xx'], 2000);
    assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
    const grew = process.memoryUsage().heapUsed - heap;
    assert.ok(grew < 64 * 1024 * 1024, `heap grew ${(grew / 1e6).toFixed(1)} MB`);
    await stillServes();
  });
});

describe('pieces', () => {
  test('parseByteSize / formatByteSize', () => {
    assert.equal(parseByteSize('10MB'), 10 * 1024 * 1024);
    assert.equal(parseByteSize('512 kb'), 512 * 1024);
    assert.equal(parseByteSize('1.5MiB'), 1.5 * 1024 * 1024);
    assert.equal(parseByteSize('2000'), 2000);
    assert.equal(parseByteSize('ten'), undefined);
    assert.equal(parseByteSize('5 parsecs'), undefined);
    assert.equal(formatByteSize(10 * 1024 * 1024), '10 MB');
    assert.equal(formatByteSize(300), '300 B');
  });

  test('decodeBase64 takes base64, base64url and data URLs, refuses the rest', () => {
    const bytes = Buffer.from([0xff, 0xfb, 0x10, 0x3e, 0x7f]);
    assert.deepEqual(decodeBase64(bytes.toString('base64'), 'x'), bytes);
    assert.deepEqual(decodeBase64(bytes.toString('base64url'), 'x'), bytes);
    assert.deepEqual(decodeBase64(`data:image/png;base64,${bytes.toString('base64')}`, 'x'), bytes);
    assert.throws(() => decodeBase64('a', 'x'), /not valid base64/);
    assert.throws(() => decodeBase64('ab$c', 'x'), /not valid base64/);
  });

  test('MicroBatcher: batches up to maxBatch, one run at a time, a failing batch rejects only its callers, full queue → 503', async () => {
    const seen: number[][] = [];
    let running = 0;
    const b = new MicroBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 5,
      maxQueue: 10,
      run: async (xs) => {
        assert.equal(running++, 0, 'two batches at once');
        seen.push(xs);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (xs.includes(-1)) throw new Error('bad batch');
        return xs.map((x) => x * 2);
      },
    });
    const out = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.submit(x)));
    assert.deepEqual(out, [2, 4, 6, 8, 10, 12]);
    assert.ok(seen.every((s) => s.length <= 4));
    assert.ok(seen.length <= 3, `${seen.length} batches`);
    const bad = b.submit(-1);
    await assert.rejects(bad, /bad batch/);
    assert.equal(await b.submit(7), 14);
    await assert.rejects(b.submitAll(Array(11).fill(1)), QueueFullError);
    await b.close();
    await assert.rejects(b.submit(1), /closed/);
  });
});

describe('flash serve (CLI, in-process)', () => {
  test('bad flags are reported together', async () => {
    const err: string[] = [];
    const io = { ...quietIO(dir), err: (t: string) => void err.push(t) };
    // Only image_classification registered: with several tasks offering serve and no --model, the CLI cannot
    // know whose flags these are and says only that --model is missing.
    const imageOnly = new Registry<TaskPlugin>('task').register(imageClassification.name, imageClassification, imageClassification.description);
    const code = await runCli(['serve', '--port', '70000', '--max_body', 'lots', '--backend', 'wsam', '--colour'], depsFor(imageOnly, io));
    assert.equal(code, 2);
    const text = err.join('');
    for (const re of [/--port: expected an integer from 0 to 65535/, /--max_body: expected a size/, /unknown backend 'wsam' \(did you mean 'wasm'\?\)/, /unknown option '--colour'/, /missing required option '--model'/]) {
      assert.match(text, re);
    }
  });

  test('--help lists the endpoints', async () => {
    const out: string[] = [];
    const code = await runCli(['serve', '--help'], realDeps({ ...quietIO(dir), out: (t) => void out.push(t) }));
    assert.equal(code, 0);
    assert.match(out.join(''), /POST \/predict[\s\S]*--max_body/);
  });

  test('serves until its signal aborts, then closes (port freed)', async () => {
    const out: string[] = [];
    const stop = new AbortController();
    const io = { ...quietIO(dir), out: (t: string) => void out.push(t) };
    let served: string | undefined;
    const deps = realDeps(io, stop.signal);
    const running = runCli(['serve', '--model', runDir, '--port', '0', '--quiet'], {
      ...deps,
      commands: { ...deps.commands, serve: (a) => deps.commands.serve!({ ...a, onListening: (u: string) => (served = u) }) },
    });
    for (let i = 0; i < 200 && !served; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(served, 'not listening');
    assert.match(out.join(''), /serving .* on http:\/\/127\.0\.0\.1:\d+/);
    const r = await fetch(`${served}/predict`, { method: 'POST', body: new Uint8Array(probes[0].bytes), headers: { 'content-type': 'image/png' } });
    assert.equal(((await r.json()) as ServedPrediction).label, probes[0].pred.label);
    stop.abort();
    assert.equal(await running, 0);
    assert.match(out.join(''), /server stopped/);
    await assert.rejects(fetch(`${served}/health`));
  });

  test('a port in use: a user error naming it', async () => {
    const err: string[] = [];
    const port = new URL(url).port;
    const code = await runCli(['serve', '--model', runDir, '--port', port, '--quiet'], realDeps({ ...quietIO(dir), err: (t) => void err.push(t) }));
    assert.equal(code, 2);
    assert.match(err.join(''), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    await stillServes();
  });

  test('a run folder that is not one: a user error', async () => {
    const err: string[] = [];
    const code = await runCli(['serve', '--model', join(dir, 'nope'), '--port', '0'], realDeps({ ...quietIO(dir), err: (t) => void err.push(t) }));
    assert.equal(code, 2);
    assert.match(err.join(''), /not a flash run folder/);
  });
});
