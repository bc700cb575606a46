/**
 * Pretrained weights that flash did not train: nsfwjs's Keras-applications MobileNetV2 (a devDependency, see
 * test/helpers/nsfwjs.ts) loads into flash's `mobilenet_v2_100` by layer name — every layer, from a folder and
 * from a loopback URL — and flash's backbone then gives the original model's penultimate features.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { backbones } from '../../backbones/index.js';
import { mobilenetV2_075, mobilenetV2_100 } from '../../backbones/mobilenet_v2.js';
import { isCached, loadPretrainedWeights } from '../../backbones/weights.js';
import { selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { saveLayersModel } from '../../src/core/io/layers_model.js';
import { ImageClassifier, type ImageDataLike } from '../../tasks/image_classification/model.js';
import { drawShape, makeTempDir, removeDir, type ShapeKind } from '../helpers/images.js';
import { loadNsfwjsOriginal, nsfwjsMissing, nsfwjsMobileNetV2, writeNsfwjsModelFolder, type NsfwjsCheckpoint } from '../helpers/nsfwjs.js';

const ckpt = nsfwjsMobileNetV2();
const skip = ckpt ? false : `skipped: ${nsfwjsMissing}`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let tmp: string;
let folder: string;
let files: { modelJson: Buffer; weights: Buffer };
/** Three drawn 224×224 RGB images, preprocessed as Keras MobileNetV2 expects: x / 127.5 − 1. */
let images: tf.Tensor4D;
/** The same images as 0–255 pixels, as flash's data pipeline gives them to the classifier. */
let pixels: tf.Tensor4D;
/** The original model's penultimate features (average-pooled `out_relu`, before its dense head) on `images`. */
let expected: Float32Array;

/** Layers of a model that carry weights. */
const weighted = (m: tf.LayersModel) => m.layers.filter((l) => l.weights.length > 0);

async function features(backbone: tf.LayersModel): Promise<Float32Array> {
  const y = tf.tidy(() => backbone.predict(images) as tf.Tensor);
  const out = (await y.data()) as Float32Array;
  y.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('a real pretrained checkpoint (nsfwjs MobileNetV2) in mobilenet_v2_100', { skip }, () => {
  before(async () => {
    // wasm: the CPU backend takes ~3× as long for the three 224 px forward passes.
    await selectBackend('wasm');
    const c = ckpt as NsfwjsCheckpoint;
    tmp = await makeTempDir('flash-nsfwjs-');
    folder = join(tmp, 'mobilenet_v2');
    files = await writeNsfwjsModelFolder(c, folder);
    const shapes: ShapeKind[] = ['circle', 'square', 'triangle'];
    const raw = await Promise.all(
      shapes.map(async (shape, i) => {
        const png = await drawShape({ shape, width: 224, height: 224, rotate: 20 * i, cx: 0.4 + 0.1 * i });
        return sharp(png).removeAlpha().raw().toBuffer();
      }),
    );
    pixels = tf.tidy(() => tf.tensor4d(Buffer.concat(raw), [3, 224, 224, 3], 'int32').toFloat());
    images = tf.tidy(() => pixels.div(127.5).sub(1));
    const original = await loadNsfwjsOriginal(c);
    const penultimate = tf.model({ inputs: original.inputs, outputs: original.getLayer('flatten_1').output as tf.SymbolicTensor });
    expected = await features(penultimate);
    original.dispose();
  });
  after(async () => {
    images?.dispose();
    pixels?.dispose();
    if (tmp) await removeDir(tmp);
  });

  it('loads every weight by layer name from the folder, and gives the original penultimate features', async (t) => {
    const before = tf.memory().numTensors;
    const backbone = mobilenetV2_100.build({ inputShape: [224, 224, 3] });
    const log: string[] = [];
    await loadPretrainedWeights(backbone, mobilenetV2_100, folder, { log: (l) => log.push(l), backboneName: 'mobilenet_v2_100' });
    const layers = weighted(backbone);
    assert.equal(layers.length, 104, 'Conv1 + 17 blocks + Conv_1, each with its BatchNorm');
    assert.ok(log.includes(`pretrained weights: loaded ${layers.length} layers from ${folder}`), log.join('\n'));
    // The run names what it left out: nsfwjs's own classifier head.
    assert.ok(log.includes('pretrained weights: ignored 3 checkpoint layer(s) the backbone does not have: dense_1, dense_2, dense_3'), log.join('\n'));
    // Every weighted layer of the checkpoint found its place, except the nsfwjs classifier head flash does not build.
    const inCheckpoint = new Set((ckpt as NsfwjsCheckpoint).weightsManifest.flatMap((g) => g.weights.map((w) => w.name.split('/')[0])));
    const names = new Set(layers.map((l) => l.name));
    assert.deepEqual([...inCheckpoint].filter((n) => !names.has(n)).sort(), ['dense_1', 'dense_2', 'dense_3']);
    assert.equal([...names].filter((n) => !inCheckpoint.has(n)).length, 0);
    const got = await features(backbone);
    assert.equal(got.length, 3 * 1280);
    const diff = maxAbsDiff(got, expected);
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0.1, `features are not all ~0 (max |feature| ${scale})`);
    t.diagnostic(`3 images × 1280 features: max |flash − original| = ${diff.toExponential(2)}, max |feature| = ${scale.toFixed(3)}`);
    assert.ok(diff < 1e-4 * Math.max(1, scale), `max |flash − original| = ${diff} (max |feature| ${scale})`);
    backbone.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  });

  it('the registered normalisation of the mobilenet_v2 ImageNet weights is Keras\'s [-1, 1]', () => {
    const n = backbones.get('mobilenet_v2_100').weights?.[0]?.normalization;
    assert.ok(n, 'a normalisation is registered');
    // flash scales pixels to 0–1 first, then (x − mean) / std: 0 → −1 and 1 → 1, as x / 127.5 − 1 on 0–255.
    for (const [px, want] of [[0, -1], [1, 1], [0.5, 0]]) assert.equal((px - n.mean[0]) / n.std[0], want);
    assert.ok(n.mean.length === 1 || n.mean.every((m) => m === n.mean[0]));
  });

  it('the image classifier with --model.pretrained <folder> normalises to [-1, 1] and gives the original features from 0–255 pixels', async (t) => {
    const log: string[] = [];
    const clf = new ImageClassifier({ backbone: 'mobilenet_v2_100', pretrained: folder, pretrainedOptions: { log: (l) => log.push(l) } });
    await clf.setup({ labels: ['a', 'b'], numClasses: 2, spec: { height: 224, width: 224, channels: 3 } } as unknown as ImageDataLike);
    assert.ok(log.some((l) => l.startsWith('pretrained weights: inputs normalised with mean [0.5], std [0.5]') && /registered weights/.test(l)), log.join('\n'));
    assert.ok(log.includes(`pretrained weights: loaded 104 layers from ${folder}`), log.join('\n'));
    const y = tf.tidy(() => clf.featureNetwork().predict(pixels) as tf.Tensor);
    const diff = maxAbsDiff((await y.data()) as Float32Array, expected);
    y.dispose();
    t.diagnostic(`classifier on 0–255 pixels: max |flash − original| = ${diff.toExponential(2)}`);
    assert.ok(diff < 1e-4 * 3, `max |flash − original| = ${diff}`);
    clf.network().dispose();
  });

  it('a classifier flash saved is reused with the normalisation it was saved with, not the from-scratch default', async () => {
    const make = async (pretrained: string, log: string[]) => {
      const clf = new ImageClassifier({ backbone: 'mobilenet_v2_100', pretrained, pretrainedOptions: { log: (l) => log.push(l) } });
      await clf.setup({ labels: ['a', 'b'], numClasses: 2, spec: { height: 32, width: 32, channels: 3 } } as unknown as ImageDataLike);
      return clf;
    };
    const first = await make(folder, []);
    const saved = join(tmp, 'saved-classifier');
    await mkdir(saved);
    await saveLayersModel(first.network(), saved);
    first.network().dispose();
    const log: string[] = [];
    const second = await make(saved, log);
    assert.ok(log.some((l) => /^pretrained weights: inputs normalised with mean \[0\.5, 0\.5, 0\.5\], std \[0\.5, 0\.5, 0\.5\] .*: the normalisation the checkpoint was saved with$/.test(l)), log.join('\n'));
    const [k, b] = second.network().getLayer('normalize').getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual([k, b], [[2, 2, 2], [-1, -1, -1]]);
    second.network().dispose();
  });

  it('a layer of the backbone missing from the checkpoint is refused, naming the layer', async () => {
    const partial = join(tmp, 'partial');
    // Rename one layer (its config name, the references to it, its weights): the backbone's block_16_project has no weights there.
    await writeNsfwjsModelFolder(ckpt as NsfwjsCheckpoint, partial, (s) => s.replaceAll('"block_16_project"', '"renamed"').replaceAll('"block_16_project/', '"renamed/'));
    const backbone = mobilenetV2_100.build({ inputShape: [224, 224, 3] });
    const init = backbone.getLayer('Conv1').getWeights()[0].dataSync().slice();
    await assert.rejects(loadPretrainedWeights(backbone, mobilenetV2_100, partial), (e: Error) => {
      assert.ok(e instanceof FlashUserError, e.stack);
      assert.match(e.message, /1 backbone layer\(s\) have no weights there \(block_16_project\)/);
      return true;
    });
    // Nothing was written: the layers that did match are still at their init, not half loaded.
    assert.deepEqual(backbone.getLayer('Conv1').getWeights()[0].dataSync(), init);
    backbone.dispose();
  });

  it('weights of another width are refused, naming the layer and both shapes', async () => {
    const backbone = mobilenetV2_075.build({ inputShape: [224, 224, 3] });
    await assert.rejects(loadPretrainedWeights(backbone, mobilenetV2_075, folder), (e: Error) => {
      assert.ok(e instanceof FlashUserError, e.stack);
      assert.match(e.message, /layer 'Conv1' weight 0 has shape \[3,3,3,32\], the backbone needs \[3,3,3,24\]/);
      return true;
    });
    backbone.dispose();
  });

  describe('from a model.json URL on a loopback server', () => {
    let server: Server;
    let url: string;
    const hits: string[] = [];
    before(async () => {
      server = createServer((req, res) => {
        hits.push(req.url ?? '');
        const name = (req.url ?? '').split('/').pop() ?? '';
        readFile(join(folder, name)).then(
          (b) => res.writeHead(200, { 'content-length': b.length }).end(b),
          () => res.writeHead(404, 'Not Found').end(),
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nsfwjs/mobilenet_v2/model.json`;
    });
    after(async () => {
      if (server?.listening) await new Promise((r) => server.close(r));
    });

    it('downloads once (sha256-verified) into the cache, loads the same weights as the folder, then loads offline', async () => {
      const cacheDir = join(tmp, 'cache');
      const spec = { ...mobilenetV2_100, weights: [{ url, sha256: sha(files.modelJson), shards: { 'group1-shard1of1.bin': sha(files.weights) } }] };
      const log: string[] = [];
      const first = mobilenetV2_100.build({ inputShape: [224, 224, 3] });
      await loadPretrainedWeights(first, spec, true, { cacheDir, log: (l) => log.push(l) });
      assert.deepEqual(hits, ['/nsfwjs/mobilenet_v2/model.json', '/nsfwjs/mobilenet_v2/group1-shard1of1.bin']);
      assert.ok(await isCached(url, cacheDir));
      assert.ok(!log.some((l) => /not verified/.test(l)), log.join('\n'));
      assert.ok(log.includes(`pretrained weights: loaded 104 layers from ${url}`), log.join('\n'));

      // Offline: the server is gone, the cache serves the same weights.
      await new Promise((r) => server.close(r));
      log.length = 0;
      const second = mobilenetV2_100.build({ inputShape: [224, 224, 3] });
      await loadPretrainedWeights(second, spec, url, { cacheDir, log: (l) => log.push(l) });
      assert.ok(log.some((l) => /using the cached copy/.test(l)), log.join('\n'));
      const fromFolder = mobilenetV2_100.build({ inputShape: [224, 224, 3] });
      await loadPretrainedWeights(fromFolder, mobilenetV2_100, folder);
      const b = fromFolder.getWeights();
      for (const m of [first, second]) {
        const a = m.getWeights();
        assert.equal(a.length, b.length);
        a.forEach((w, i) => assert.deepEqual(w.dataSync(), b[i].dataSync(), `weight ${i}`));
      }
      first.dispose();
      second.dispose();
      fromFolder.dispose();
      assert.equal(hits.length, 2, 'no request after the first download');
    });
  });
});
