import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/core/backend.js';
import { ModelCheckpoint } from '../../../src/core/callbacks/index.js';
import { loadCheckpoint } from '../../../src/core/io/checkpoint.js';
import { loadLayersModel } from '../../../src/core/io/layers_model.js';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import type { Callback, EpochLogs } from '../../../src/core/trainer/types.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';
import { makeToyData } from '../../helpers/toy_data.js';

let tmp: string;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

/** Every file under dir, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

test('ModelCheckpoint keeps the best model and the last checkpoint, atomically and without stale files', async () => {
  const dir = path.join(tmp, 'run');
  const data = makeToyData({ perClass: 6 });
  const model = new ImageClassifier({ numClasses: 2, learningRate: 0.003 });
  model.setup(data);
  // A scripted score: best at epoch 2, never beaten afterwards.
  const script = [0.5, 0.9, 0.7, 0.9];
  const inject: Callback = { onEpochEnd: (ctx, logs) => void (logs.score = script[ctx.epoch]) };
  const bests: number[] = [];
  const weightsAfterEpoch: string[][] = [];
  let bestWeights: tf.Tensor[] = [];
  const checkpoint = new ModelCheckpoint({
    dir,
    monitor: 'score',
    onBest: async (_logs: EpochLogs, epoch: number) => {
      bests.push(epoch);
      tf.dispose(bestWeights);
      bestWeights = model.network().getWeights().map((w) => w.clone());
    },
  });
  const watcher: Callback = {
    onEpochEnd: async () => {
      weightsAfterEpoch.push((await fs.readdir(dir)).filter((f) => f.startsWith('weights.')));
    },
  };
  const trainer = new Trainer({ maxEpochs: 4, callbacks: [inject, checkpoint, watcher] });
  const result = await trainer.fit(model, data);
  assert.equal(result.epochs, 4);
  assert.deepEqual(bests, [1, 2], 'the best model is written when the score improves, and only then');
  assert.equal(checkpoint.bestEpoch, 2);

  const files = await listFiles(dir);
  const weights = files.filter((f) => /^weights\.[0-9a-f]{12}\.bin$/.test(f));
  assert.equal(weights.length, 1, `one weights file: ${files.join(', ')}`);
  assert.deepEqual(
    files.filter((f) => !/^weights\./.test(f)),
    ['last/model.json', 'last/optimizer.bin', 'last/optimizer.json', 'last/state.json', `last/${files.find((f) => f.startsWith('last/weights.'))!.slice(5)}`, 'model.json'].sort(),
  );
  assert.ok(!files.some((f) => /\.tmp|\.old/.test(f)), `no temp files left: ${files.join(', ')}`);
  assert.ok(!(await fs.readdir(tmp)).some((f) => /\.tmp|\.old/.test(f)), 'no temp folders next to the run');
  // Epoch 2 replaced epoch 1's weights file (old one removed); epochs 3 and 4 left it alone.
  assert.equal(weightsAfterEpoch[0].length, 1);
  assert.notDeepEqual(weightsAfterEpoch[1], weightsAfterEpoch[0]);
  assert.deepEqual(weightsAfterEpoch[3], weightsAfterEpoch[1]);
  assert.deepEqual(weightsAfterEpoch[1], weights);

  // model.json points at the weights file that exists.
  const modelJson = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(modelJson.format, 'layers-model');
  assert.deepEqual(modelJson.weightsManifest[0].paths, weights);
  assert.deepEqual(modelJson.userDefinedMetadata.flash.labels, ['bright', 'dark']);

  // The best model reloads to the epoch-2 weights and predicts exactly as they do.
  const best = await loadLayersModel(dir);
  const saved = best.getWeights();
  assert.equal(saved.length, bestWeights.length);
  for (let i = 0; i < saved.length; i++) assert.deepEqual(await saved[i].data(), await bestWeights[i].data());

  // last/ holds epoch 4: same weights as in memory, the history and optimizer state.
  const last = await loadCheckpoint(path.join(dir, 'last'));
  assert.equal(last.state.epoch, 4);
  assert.equal(last.state.bestEpoch, 2);
  assert.deepEqual(last.state.history.map((h) => h.epoch), [1, 2, 3, 4]);
  const x = tf.randomUniform([5, 8, 8, 1], 0, 255, 'float32', 11);
  const a = model.network().predict(x) as tf.Tensor;
  const b = last.network.predict(x) as tf.Tensor;
  assert.deepEqual(await b.data(), await a.data(), 'reloaded last model predicts identically');
  const memOpt = await trainer.currentOptimizer()!.getWeights();
  assert.deepEqual(last.optimizerWeights!.map((w) => w.name), memOpt.map((w) => w.name));
  for (let i = 0; i < memOpt.length; i++) assert.deepEqual(await last.optimizerWeights![i].tensor.data(), await memOpt[i].tensor.data());

  tf.dispose([x, a, b, ...bestWeights, ...last.optimizerWeights!.map((w) => w.tensor)]);
  best.dispose();
  last.network.dispose();
  model.network().dispose();
});

test('ModelCheckpoint on resume takes the best value from the history; with nothing to monitor the latest is best', async () => {
  const dir = path.join(tmp, 'resume');
  const data = makeToyData({ perClass: 4, val: false });
  const model = new ImageClassifier({ numClasses: 2 });
  model.setup(data);
  const history = [
    { epoch: 1, val_accuracy: 0.4 },
    { epoch: 2, val_accuracy: 0.95 },
  ];
  const bests: number[] = [];
  const cp = new ModelCheckpoint({ dir, monitor: 'val_accuracy', saveLast: false, onBest: async (_l, e) => void bests.push(e) });
  const inject: Callback = { onEpochEnd: (ctx, logs) => void (logs.val_accuracy = ctx.epoch === 2 ? 0.9 : 0.96) };
  await new Trainer({ maxEpochs: 4, callbacks: [inject, cp] }).fit(model, data, { epoch: 2, history });
  assert.deepEqual(bests, [4], 'epoch 3 (0.9) does not beat the resumed best 0.95; epoch 4 (0.96) does');
  assert.equal(cp.bestEpoch, 4);
  assert.ok(!(await listFiles(dir)).some((f) => f.startsWith('last/')), 'saveLast: false writes no last/');

  const dir2 = path.join(tmp, 'nomonitor');
  const cp2 = new ModelCheckpoint({ dir: dir2, onBest: async (_l, e) => void bests.push(e) });
  bests.length = 0;
  await new Trainer({ maxEpochs: 2, callbacks: [cp2] }).fit(model, data);
  assert.deepEqual(bests, [1, 2], 'no val_accuracy in the logs: every epoch is saved as the best');
  model.network().dispose();
});
