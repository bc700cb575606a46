/**
 * Child process of threads.test.ts: splits one conv across 2 engine threads, then ends with the pool still
 * running (`exit`) or after removing the wasm backend (`remove`). The parent checks that it exits.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, setEngineThreads, engineThreadStats, type EngineThreadStats } from '../../../src/core/engine/index.js';

registerWasmTrainingKernels();
await tf.setBackend('wasm');
await tf.ready();
const backend = tf.backend();
setEngineThreads(backend, 2, { minFlops: 4_000_000 }); // the conv below is ~9 MFLOP
tf.tidy(() => tf.conv2d(tf.ones([4, 16, 16, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 32]) as tf.Tensor4D, 1, 'same').dataSync());
const split = engineThreadStats(backend).splitOps;
let afterRemove: number | undefined;
if (process.argv[2] === 'remove') {
  tf.removeBackend('wasm');
  afterRemove = engineThreadStats(backend).splitOps;
}
process.stdout.write(`${JSON.stringify({ split, afterRemove })}\n`);
