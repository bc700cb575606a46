import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Trainer } from '../../../../src/core/trainer/trainer.js';
import { ImageClassifier } from '../../../../tasks/image_classification/model.js';
import { ImageClassificationData, isTfDataset, type DataSplit, type DatasetItem, type DatasetOptions } from '../../../../tasks/image_classification/data/index.js';
import { drawShape, makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../../../helpers/images.js';
import { rejectsWith } from '../../../helpers/assertions.js';

let tmp: string;
let shapes: ShapeDataset;
/** 12 small images, 3 classes: coloured blocks of different sizes (some gray, to exercise channel detection). */
let images: tf.Tensor3D[];
const LABELS = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2];

before(async () => {
  await tf.setBackend('cpu');
  tmp = await makeTempDir();
  shapes = await makeShapeDataset(path.join(tmp, 'shapes'), { perClass: 2, seed: 2 });
  images = LABELS.map((l, i) =>
    tf.tidy(() => {
      const base = tf.randomUniform([10 + (i % 3), 9 + l, 3], 0, 255, 'float32', i + 1);
      return tf.add(tf.mul(base, 0.3), tf.tensor1d(l === 0 ? [200, 0, 0] : l === 1 ? [0, 200, 0] : [0, 0, 200])) as tf.Tensor3D;
    }),
  );
});
after(async () => {
  tf.dispose(images);
  await removeDir(tmp);
});

async function epoch(split: DataSplit, e: number): Promise<{ x: number[]; y: number[]; ids: string[] }[]> {
  const out: { x: number[]; y: number[]; ids: string[] }[] = [];
  for await (const b of split.batches({ shuffle: true, epoch: e, augment: true, batchSize: 4 })) {
    out.push({ x: Array.from(await b.x.data()), y: Array.from(await b.y.data()), ids: b.ids });
    tf.dispose([b.x, b.y]);
  }
  return out;
}

const items = (): DatasetItem[] => images.map((image, i) => ({ image, label: LABELS[i] }));
const common = { imageSize: 8, batchSize: 4, seed: 5, valSplit: 0.25, labels: ['r', 'g', 'b'] };

test('a tf.data.Dataset gives the same data as the equivalent arrays, and leaks no tensor', async () => {
  const start = tf.memory().numTensors;
  const fromArray = await ImageClassificationData.fromDatasets({ ...common, trainDataset: items() });
  const ds = tf.data.array(items() as unknown as tf.TensorContainer[]);
  assert.ok(isTfDataset(ds));
  assert.ok(!isTfDataset(items()));
  const fromTf = await ImageClassificationData.fromDatasets({ ...common, trainDataset: ds });
  assert.deepEqual(fromTf.labels, fromArray.labels);
  assert.deepEqual(fromTf.spec, fromArray.spec);
  assert.deepEqual(fromTf.train.ids, fromArray.train.ids);
  assert.deepEqual(Array.from(fromTf.train.labels), Array.from(fromArray.train.labels));
  for (const e of [0, 1]) assert.deepEqual(await epoch(fromTf.train, e), await epoch(fromArray.train, e));
  assert.deepEqual(await epoch(fromTf.val!, 0), await epoch(fromArray.val!, 0));
  assert.equal(fromTf.cache.mode, 'memory');
  // tf.data.array yields clones; they were disposed as read. Only the dataset's own copies remain (none: it keeps ours).
  assert.equal(tf.memory().numTensors, start);
  assert.ok(images.every((t) => !t.isDisposed), "the caller's tensors are untouched");
});

test('a tf.data generator of fresh tensors (scalar tensor labels, gray images) and mixed val/test inputs', async () => {
  const start = tf.memory().numTensors;
  const gray = () =>
    tf.data.generator(function* () {
      for (let i = 0; i < 6; i++) {
        yield { image: tf.fill([6 + i, 7, 1], 40 * (i % 3)) as tf.Tensor3D, label: tf.scalar(i % 3, 'int32') };
      }
    });
  const dm = await ImageClassificationData.fromDatasets({
    trainDataset: gray(),
    valDataset: tf.data.generator(function* () {
      yield { image: tf.fill([5, 5, 1], 0), label: 1 };
      yield { image: tf.fill([5, 5, 1], 80), label: 2 };
    }),
    testDataset: [{ image: shapes.files[0].file, label: 0 }],
    imageSize: 4,
  });
  assert.equal(dm.spec.channels, 1, 'every train image is single-channel');
  assert.deepEqual(dm.labels, ['0', '1', '2']);
  assert.deepEqual(Array.from(dm.train.labels), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(Array.from(await dm.train.pixels(1)), new Array(16).fill(40));
  assert.deepEqual([dm.val?.size, dm.test?.size], [2, 1]);
  assert.deepEqual(dm.test!.ids, [shapes.files[0].file]);
  assert.equal(tf.memory().numTensors, start, 'generated element tensors are disposed once read');
  // String labels from a tf.data.Dataset of paths and Buffers: sorted class names, as the array form.
  const png = await drawShape({ shape: 'circle', format: 'png', width: 12, height: 12 });
  const named = await ImageClassificationData.fromDatasets({
    trainDataset: tf.data.array([
      { image: shapes.files[0].file, label: 'zebra' },
      { image: png, label: 'ant' },
    ] as unknown as tf.TensorContainer[]),
    imageSize: 6,
    valSplit: 0,
  });
  assert.deepEqual(named.labels, ['ant', 'zebra']);
  assert.deepEqual(named.train.ids, [shapes.files[0].file, '#1']);
});

test('bad tf.data elements: one line naming the split and the element index', async () => {
  const start = tf.memory().numTensors;
  const ds = (elements: unknown[]) => tf.data.array(elements as tf.TensorContainer[]);
  const img = () => tf.zeros([4, 4, 3]);
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: ds([{ image: img(), label: 0 }, { image: img(), label: 1 }, { image: img() }]), imageSize: 4 }),
    'trainDataset element 2: missing label',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: ds([{ image: img(), label: 0 }, { image: tf.zeros([4, 4]), label: 1 }]), imageSize: 4 }),
    'trainDataset element 1: image must be a tf.Tensor3D of shape [height, width, 1|3|4], got shape [4, 4]',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: ds([{ image: img(), label: 0 }, { image: tf.zeros([4, 4, 2]), label: 1 }]), imageSize: 4, channels: 3 }),
    'trainDataset element 1: image must be a tf.Tensor3D of shape [height, width, 1|3|4], got shape [4, 4, 2]',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({
      trainDataset: ds([{ image: img(), label: 0 }, { image: img(), label: 1 }]),
      valDataset: ds([{ image: img(), label: 0 }, { label: 1 }]),
      imageSize: 4,
    }),
    'valDataset element 1: missing image',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: ds([{ image: img(), label: 0.5 }]), imageSize: 4 }),
    'trainDataset element 0: label must be a class name or an integer index, got 0.5',
  );
  await rejectsWith(
    ImageClassificationData.fromDatasets({ trainDataset: ds([{ image: img(), label: tf.tensor1d([0, 1]) }]), imageSize: 4 }),
    'trainDataset element 0: label must be a class name or an integer index, got a tensor of shape [2]',
  );
  await rejectsWith(ImageClassificationData.fromDatasets({ trainDataset: ds([img()]), imageSize: 4 }), 'trainDataset element 0 must be an object { image, label }');
  await rejectsWith(ImageClassificationData.fromDatasets({ trainDataset: ds([]), imageSize: 4 }), 'trainDataset is empty');
  // The datasets' own tensors (held by tf.data.array) are all that is left: the clones read were disposed.
  assert.ok(tf.memory().numTensors - start <= 30);
});

test('training on a tf.data.Dataset gives the same result as training on the equivalent arrays', async () => {
  // One shared initialisation (init is unseeded), no dropout (the default), the same trainer seed.
  const init = new ImageClassifier({ backbone: 'simple_cnn', labels: common.labels });
  await init.setup(await ImageClassificationData.fromDatasets({ ...common, trainDataset: items() }));
  const fit = async (trainDataset: DatasetOptions['trainDataset']) => {
    const data = await ImageClassificationData.fromDatasets({ ...common, trainDataset });
    const model = new ImageClassifier({ backbone: 'simple_cnn', labels: data.labels, learningRate: 0.01 });
    await model.setup(data);
    model.loadWeightsFrom(init.network());
    const result = await new Trainer({ maxEpochs: 2, seed: 3 }).fit(model, data);
    return { model, history: result.history };
  };
  const fromArrays = await fit(items());
  const fromTf = await fit(tf.data.array(items() as unknown as tf.TensorContainer[]));
  assert.equal(fromTf.history.length, 2);
  assert.deepEqual(fromTf.history.map((h) => Object.keys(h).sort()), fromArrays.history.map((h) => Object.keys(h).sort()));
  fromTf.history.forEach((h, i) => {
    for (const [k, v] of Object.entries(h)) assert.ok(Math.abs(v - fromArrays.history[i][k]) < 1e-6, `${k} epoch ${i + 1}: ${v} vs ${fromArrays.history[i][k]}`);
  });
  const wa = fromArrays.model.network().getWeights();
  const wt = fromTf.model.network().getWeights();
  wa.forEach((w, i) => assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(w, wt[i]))).dataSync()[0]) < 1e-6, `weight ${i}`));
  for (const m of [init, fromArrays.model, fromTf.model]) m.network().dispose?.();
});
