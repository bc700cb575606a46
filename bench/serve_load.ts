/**
 * Load benchmark of `flash serve`'s POST /predict on loopback: autocannon, a fixed small body, bounded in time
 * and connections. Trains a small model on the bundled Fashion-MNIST demo set first unless --model is given.
 *
 *   npx tsx bench/serve_load.ts [--model runs/X] [--connections 8] [--seconds 5] [--mode json|multipart|raw]
 *                               [--image FILE] [--max_batch 32] [--max_wait_ms 4] [--epochs 2]
 *
 * Prints one JSON line: requests/s, latency percentiles (ms), errors, non-2xx, the micro-batcher's batch count and
 * mean batch size, tensors and RSS before/after.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import autocannon from 'autocannon';
import { defaultRecipe } from '../src/core/config/index.js';
import { describeBackend, selectBackend } from '../src/core/backend.js';
import { packageRoot } from '../src/core/package_root.js';
import { baseUrl } from '../src/serve/server.js';
import { ImageClassifier } from '../tasks/image_classification/model.js';
import { createImageServer } from '../tasks/image_classification/serve.js';
import { trainImageClassifier } from '../tasks/image_classification/train.js';
import { defaultImageRecipe } from '../tasks/image_classification/schema.js';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const connections = Number(flag('connections', '8'));
const seconds = Number(flag('seconds', '5'));
const mode = flag('mode', 'json') as 'json' | 'multipart' | 'raw';
const maxBatch = Number(flag('max_batch', '32'));
const maxWaitMs = Number(flag('max_wait_ms', '4'));
const demo = join(packageRoot(), 'data', 'demo', 'fashion_mnist');

const backend = await selectBackend(flag('backend', 'auto'));
process.stderr.write(`${describeBackend(backend)}\n`);
let tmp: string | undefined;
let runDir = flag('model', '');
if (!runDir) {
  tmp = await mkdtemp(join(tmpdir(), 'flash-serve-bench-'));
  const recipe = defaultImageRecipe();
  recipe.data.train_folder = join(demo, 'train');
  recipe.data.val_folder = join(demo, 'test');
  recipe.trainer.max_epochs = Number(flag('epochs', '2'));
  recipe.trainer.output_dir = join(tmp, 'run');
  recipe.trainer.quiet = true;
  const io = { out: () => {}, err: () => {}, isTTY: false, cwd: tmp, env: {} };
  runDir = (await trainImageClassifier({ recipe, io })).runDir;
}
const model = await ImageClassifier.load(runDir);
let imageFile = flag('image', '');
if (!imageFile) {
  const cls = (await readdir(join(demo, 'test')))[0];
  imageFile = join(demo, 'test', cls, (await readdir(join(demo, 'test', cls)))[0]);
}
const image = await readFile(imageFile);

const { app, batcher } = await createImageServer(model, { runDir, backend: backend.name, maxBatch, maxWaitMs });
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `${baseUrl(app)}/predict`;

let body: Buffer | string;
let contentType: string;
if (mode === 'json') {
  body = JSON.stringify({ image: image.toString('base64') });
  contentType = 'application/json';
} else if (mode === 'raw') {
  body = image;
  contentType = 'image/png';
} else {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'image.png');
  const req = new Request('http://x/', { method: 'POST', body: form });
  body = Buffer.from(await req.arrayBuffer());
  contentType = req.headers.get('content-type')!;
}

// Warm-up, then the timed run.
await autocannon({ url, method: 'POST', headers: { 'content-type': contentType }, body, connections: 2, amount: 50 });
const tensors = tf.memory().numTensors;
const rss = process.memoryUsage().rss;
const stats0 = { ...batcher.stats };
const result = await autocannon({ url, method: 'POST', headers: { 'content-type': contentType }, body, connections, duration: seconds, timeout: 10 });
const batches = batcher.stats.batches - stats0.batches;
const images = batcher.stats.inputs - stats0.inputs;
const row = {
  bench: 'serve_load',
  backend: backend.name,
  mode,
  body_bytes: Buffer.byteLength(body),
  input: model.spec,
  connections,
  seconds,
  max_batch: maxBatch,
  max_wait_ms: maxWaitMs,
  requests: result.requests.total,
  requests_per_s: result.requests.average,
  latency_ms: { mean: result.latency.average, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  batches,
  mean_batch: batches ? Number((images / batches).toFixed(2)) : 0,
  max_batch_seen: batcher.stats.maxBatchSeen,
  tensors_before: tensors,
  tensors_after: tf.memory().numTensors,
  rss_mb_before: Math.round(rss / 2 ** 20),
  rss_mb_after: Math.round(process.memoryUsage().rss / 2 ** 20),
};
process.stdout.write(`${JSON.stringify(row)}\n`);
await app.close();
model.network().dispose();
if (tmp) await rm(tmp, { recursive: true, force: true });
