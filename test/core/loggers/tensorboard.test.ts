/**
 * TensorBoard event files read back with an independent reader: a bitwise CRC32C written here (not the library the
 * logger uses), TFRecord framing parsed by hand, and protobufjs decoding against a JSON descriptor of TensorBoard's
 * event.proto / summary.proto typed in separately from the logger's schema (same field numbers as upstream).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import { StepMetricsCallback, TensorBoardLogger, loggers } from '../../../src/core/loggers/index.js';
import type { FitContext } from '../../../src/core/trainer/types.js';
import { selectBackend } from '../../../src/core/backend.js';
import { Trainer } from '../../../src/core/trainer/trainer.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { makeToyData } from '../../helpers/toy_data.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flash-tb-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const lenBytes = buf.subarray(at, at + 8);
    assert.equal(buf.readUInt32LE(at + 8), mask(crc32cBitwise(lenBytes)), `length CRC of record at ${at}`);
    const n = Number(buf.readBigUInt64LE(at));
    const data = buf.subarray(at + 12, at + 12 + n);
    assert.equal(data.length, n, 'truncated record');
    assert.equal(buf.readUInt32LE(at + 12 + n), mask(crc32cBitwise(data)), `data CRC of record at ${at}`);
    out.push(data);
    at += 12 + n + 4;
  }
  return out;
}

const schema = protobuf.Root.fromJSON(({
  nested: {
    Event: {
      fields: { wall_time: { type: 'double', id: 1 }, step: { type: 'int64', id: 2 }, file_version: { type: 'string', id: 3 }, summary: { type: 'Summary', id: 5 } },
    },
    Summary: {
      fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
      nested: {
        Image: { fields: { height: { type: 'int32', id: 1 }, width: { type: 'int32', id: 2 }, colorspace: { type: 'int32', id: 3 }, encoded_image_string: { type: 'bytes', id: 4 } } },
        Value: {
          fields: {
            tag: { type: 'string', id: 1 },
            simple_value: { type: 'float', id: 2 },
            image: { type: 'Image', id: 4 },
            tensor: { type: 'Tensor', id: 8 },
            metadata: { type: 'Metadata', id: 9 },
          },
        },
        Metadata: { fields: { plugin_data: { type: 'PluginData', id: 1 } } },
        PluginData: { fields: { plugin_name: { type: 'string', id: 1 }, content: { type: 'bytes', id: 2 } } },
        Tensor: { fields: { dtype: { type: 'int32', id: 1 }, string_val: { rule: 'repeated', type: 'bytes', id: 8 } } },
      },
    },
    HParamsPluginData: { fields: { version: { type: 'int32', id: 1 }, session_start_info: { type: 'SessionStartInfo', id: 3 }, session_end_info: { type: 'SessionEndInfo', id: 4 } } },
    SessionStartInfo: { fields: { hparams: { keyType: 'string', type: 'PbValue', id: 1 } } },
    SessionEndInfo: { fields: { status: { type: 'int32', id: 1 } } },
    PbValue: { fields: { number_value: { type: 'double', id: 2 }, string_value: { type: 'string', id: 3 }, bool_value: { type: 'bool', id: 4 } } },
  },
}) as unknown as protobuf.INamespace);

interface Decoded {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: {
    value: {
      tag: string;
      simple_value?: number;
      image?: { height: number; width: number; colorspace: number; encoded_image_string: Buffer };
      tensor?: { dtype: number; string_val?: Buffer[] };
      metadata?: { plugin_data?: { plugin_name: string; content?: Buffer } };
    }[];
  };
}

test('tensorboard logger writes CRC-checked TFRecord event files with scalars, an image and hyperparameters', async () => {
  const logger = loggers.get('tensorboard').create(dir) as TensorBoardLogger;
  await logger.logHyperparams!({ trainer: { max_epochs: 2, logger: ['csv', 'tensorboard'] }, model: { backbone: 'simple_cnn', learning_rate: null }, data: { augment: true } });
  await logger.logMetrics({ train_loss: 1.5, val_accuracy: 0.5 }, { epoch: 1 });
  await logger.logMetrics({ train_loss: 0.75, val_accuracy: 0.875 }, { epoch: 2 });
  const png = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#ff0000' } }).png().toBuffer();
  await logger.logImage!('confusion_matrix', png, 2);
  await logger.finalize!('success');

  const files = await readdir(dir);
  assert.equal(files.length, 1, files.join(','));
  assert.match(files[0], new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/[.]/g, '\\.')}$`));
  assert.equal(join(dir, files[0]), logger.path);

  const Event = schema.lookupType('Event');
  const events = records(await readFile(join(dir, files[0]))).map(
    (r) => Event.toObject(Event.decode(r), { longs: Number, defaults: false }) as Decoded,
  );
  assert.equal(events[0].file_version, 'brain.Event:2');
  assert.ok(Math.abs(events[0].wall_time - Date.now() / 1000) < 60);

  const scalars = events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.simple_value !== undefined).map((v) => [e.step, v.tag, v.simple_value]));
  assert.deepEqual(scalars, [
    [1, 'train_loss', 1.5],
    [1, 'val_accuracy', 0.5],
    [2, 'train_loss', 0.75],
    [2, 'val_accuracy', 0.875],
  ]);

  const images = events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.image).map((v) => ({ step: e.step, tag: v.tag, ...v.image! })));
  assert.equal(images.length, 1);
  assert.equal(images[0].tag, 'confusion_matrix');
  assert.equal(images[0].step, 2);
  assert.deepEqual([images[0].width, images[0].height, images[0].colorspace], [20, 10, 3]);
  assert.deepEqual(Buffer.from(images[0].encoded_image_string), png);

  const values = events.flatMap((e) => e.summary?.value ?? []);
  const text = values.find((v) => v.metadata?.plugin_data?.plugin_name === 'text');
  assert.ok(text, 'hyperparameter text summary');
  assert.equal(text.tensor?.dtype, 7, 'DT_STRING');
  const markdown = Buffer.from(text.tensor!.string_val![0]).toString('utf8');
  assert.match(markdown, /\| trainer\.max_epochs \| 2 \|/);
  assert.match(markdown, /\| model\.backbone \| simple_cnn \|/);

  const HParams = schema.lookupType('HParamsPluginData');
  const hp = values.filter((v) => v.metadata?.plugin_data?.plugin_name === 'hparams');
  assert.deepEqual(hp.map((v) => v.tag), ['_hparams_/session_start_info', '_hparams_/session_end_info']);
  const start = HParams.toObject(HParams.decode(hp[0].metadata!.plugin_data!.content!)) as {
    session_start_info: { hparams: Record<string, { number_value?: number; string_value?: string; bool_value?: boolean }> };
  };
  assert.deepEqual(start.session_start_info.hparams['trainer.max_epochs'], { number_value: 2 });
  assert.deepEqual(start.session_start_info.hparams['model.backbone'], { string_value: 'simple_cnn' });
  assert.deepEqual(start.session_start_info.hparams['data.augment'], { bool_value: true });
  assert.deepEqual(start.session_start_info.hparams['trainer.logger'], { string_value: '["csv","tensorboard"]' });
  // An unset value is left out, not stored as the string "null".
  assert.equal(start.session_start_info.hparams['model.learning_rate'], undefined);
  const end = HParams.toObject(HParams.decode(hp[1].metadata!.plugin_data!.content!)) as { session_end_info: { status: number } };
  assert.equal(end.session_end_info.status, 1, 'STATUS_SUCCESS');
});

test('a second logger in the same folder (resume) starts its own event file', async () => {
  const sub = join(dir, 'resume');
  const a = new TensorBoardLogger(sub);
  await a.logMetrics({ train_loss: 1 }, { epoch: 1 });
  const b = new TensorBoardLogger(sub);
  await b.logMetrics({ train_loss: 0.5 }, { epoch: 2 });
  const files = (await readdir(sub)).sort();
  assert.equal(files.length, 2);
  for (const f of files) assert.ok(records(await readFile(join(sub, f))).length === 2);
});

test('a corrupted byte is caught by the CRC check', async () => {
  const sub = join(dir, 'corrupt');
  const a = new TensorBoardLogger(sub);
  await a.logMetrics({ train_loss: 1 }, { epoch: 1 });
  const buf = await readFile(a.path!);
  buf[buf.length - 6] ^= 0xff;
  assert.throws(() => records(buf), /data CRC/);
});

test('StepMetricsCallback sends batch losses at the global step to loggers that take steps', async () => {
  const sub = join(dir, 'steps');
  const tb = new TensorBoardLogger(sub);
  const csvLike = { name: 'csv', logMetrics: () => undefined };
  const cb = new StepMetricsCallback([tb, csvLike], 2);
  const ctx = { epoch: 1, batchesPerEpoch: 4 } as unknown as FitContext;
  for (let b = 0; b < 4; b++) await cb.onBatchEnd(ctx, b, { loss: b / 4, size: 8 });
  const Event = schema.lookupType('Event');
  const events = records(await readFile(tb.path!)).map((r) => Event.toObject(Event.decode(r), { longs: Number }) as Decoded);
  const scalars = events.flatMap((e) => (e.summary?.value ?? []).map((v) => [e.step, v.tag, v.simple_value]));
  assert.deepEqual(scalars, [
    [6, 'train_loss_step', 0.25],
    [8, 'train_loss_step', 0.75],
  ]);
});

test('a real fit: epoch scalars sit at the global step of their last batch (as Lightning logs them), images too', async () => {
  await selectBackend('wasm');
  const sub = join(dir, 'fit');
  const data = makeToyData({ perClass: 12, batchSize: 8 });
  const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: data.numClasses, learningRate: 0.003 });
  const tb = new TensorBoardLogger(sub);
  const trainer = new Trainer({ maxEpochs: 2, seed: 1, loggers: [tb], callbacks: [new StepMetricsCallback([tb])] });
  await trainer.fit(model, data);
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer();
  await tb.logImage('confusion_matrix', png, 2);
  model.network().dispose();
  const Event = schema.lookupType('Event');
  const events = records(await readFile(tb.path!)).map((r) => Event.toObject(Event.decode(r), { longs: Number }) as Decoded);
  const at = (tag: string) => events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.tag === tag).map(() => e.step));
  const batches = Math.ceil(data.train.size / data.batchSize);
  assert.ok(batches > 1);
  const steps = at('train_loss_step');
  assert.deepEqual(steps, Array.from({ length: 2 * batches }, (_, i) => i + 1));
  // Epoch n's values at n × batches: the step of that epoch's last train_loss_step.
  for (const tag of ['train_loss', 'val_loss', 'val_accuracy']) assert.deepEqual(at(tag), [batches, 2 * batches], tag);
  assert.deepEqual(at('confusion_matrix'), [2 * batches]);
});

test('null metric values are skipped, never stored', async () => {
  const sub = join(dir, 'nulls');
  const tb = new TensorBoardLogger(sub);
  await tb.logMetrics({ train_loss: 0.5, val_loss: null as unknown as number, val_accuracy: 0.75 }, { epoch: 1 });
  await tb.logStep({ train_loss_step: null as unknown as number }, 3);
  const Event = schema.lookupType('Event');
  const events = records(await readFile(tb.path!)).map((r) => Event.toObject(Event.decode(r), { longs: Number }) as Decoded);
  const values = events.flatMap((e) => (e.summary?.value ?? []).map((v) => [e.step, v.tag, v.simple_value]));
  assert.deepEqual(values, [
    [1, 'train_loss', 0.5],
    [1, 'val_accuracy', 0.75],
  ]);
  assert.ok(!(await readFile(tb.path!)).includes('null'));
});
