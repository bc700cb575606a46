/**
 * Worker side of data-parallel training (see data_parallel.ts): holds a replica of the model on its own
 * tfjs wasm backend and returns the gradients of the mean loss over the shard it is sent.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { registerWasmTrainingKernels } from './index.js';
import { setEngineThreads } from './threads/config.js';

interface InitMessage { type: 'init'; topology: object; weights: Float32Array[]; shapes: number[][]; backend: string }
interface StepMessage { type: 'step'; trainable: Float32Array[]; x: Float32Array; xShape: number[]; y: Float32Array; yShape: number[] }

let model: tf.LayersModel | undefined;

async function init(msg: InitMessage): Promise<void> {
  if (msg.backend === 'wasm') {
    registerWasmTrainingKernels();
  }
  await tf.setBackend(msg.backend);
  await tf.ready();
  // The shards are the parallelism here: no intra-op worker threads inside a shard's worker.
  if (msg.backend === 'wasm') setEngineThreads(tf.backend(), 1);
  tf.enableProdMode();
  model = await tf.models.modelFromJSON({ modelTopology: msg.topology } as tf.io.ModelJSON);
  model.setWeights(msg.weights.map((w, i) => tf.tensor(w, msg.shapes[i])));
}

function step(msg: StepMessage): { loss: number; grads: Float32Array[] } {
  const m = model!;
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(msg.trainable[i], v.shape))));
  // (Read the values outside tidy: tidy walks every element of typed arrays it is handed back.)
  const [value, ...grads] = tf.tidy(() => {
    const x = tf.tensor(msg.x, msg.xShape);
    const y = tf.tensor(msg.y, msg.yShape);
    const r = tf.variableGrads(
      () => tf.metrics.categoricalCrossentropy(y, m.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, vars);
    return [r.value, ...vars.map((v) => r.grads[v.name])];
  });
  const out = { loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([value, ...grads]);
  return out;
}

parentPort!.on('message', (msg: InitMessage | StepMessage) => {
  void (async () => {
    try {
      if (msg.type === 'init') {
        await init(msg);
        parentPort!.postMessage({ type: 'ready' });
      } else {
        const r = step(msg);
        parentPort!.postMessage({ type: 'grads', ...r }, r.grads.map((g) => g.buffer as ArrayBuffer));
      }
    } catch (e) {
      parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  })();
});
