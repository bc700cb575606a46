import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlLogger, flattenParams, loggers, parseJsonl } from '../../../src/core/loggers/index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flash-jsonl-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('jsonl logger writes one line per logged value: kind, step, epoch, name, value, time', async () => {
  const logger = loggers.get('jsonl').create(dir) as JsonlLogger;
  await logger.logHyperparams({ trainer: { max_epochs: 2 }, model: { learning_rate: null } });
  await logger.logMetrics({ train_loss: 0.5, val_accuracy: 0.75 }, { epoch: 1 });
  await logger.logMetrics({ train_loss: 0.25, val_accuracy: NaN }, { epoch: 2, step: 20 });
  await logger.logImage('cm', Buffer.from([0x89, 0x50]), 2);
  await logger.logArtifact('report', 'report.html');
  await logger.finalize('success');
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  const lines = text.trimEnd().split('\n');
  const events = lines.map((l) => JSON.parse(l));
  assert.equal(events.length, 9);
  for (const e of events) {
    assert.deepEqual(Object.keys(e).sort(), ['epoch', 'kind', 'name', 'step', 'time', 'value']);
    assert.ok(!Number.isNaN(Date.parse(e.time)));
  }
  const strip = ({ time: _t, ...rest }: Record<string, unknown>) => rest;
  assert.deepEqual(events.map(strip), [
    { kind: 'hparam', step: null, epoch: null, name: 'trainer.max_epochs', value: 2 },
    { kind: 'hparam', step: null, epoch: null, name: 'model.learning_rate', value: null },
    { kind: 'metric', step: 1, epoch: 1, name: 'train_loss', value: 0.5 },
    { kind: 'metric', step: 1, epoch: 1, name: 'val_accuracy', value: 0.75 },
    { kind: 'metric', step: 20, epoch: 2, name: 'train_loss', value: 0.25 },
    { kind: 'metric', step: 20, epoch: 2, name: 'val_accuracy', value: null },
    { kind: 'image', step: 2, epoch: 2, name: 'cm', value: 'images/cm-2.png' },
    { kind: 'artifact', step: null, epoch: 2, name: 'report', value: 'report.html' },
    { kind: 'status', step: null, epoch: 2, name: 'status', value: 'success' },
  ]);
  assert.deepEqual(await readFile(join(dir, 'images', 'cm-2.png')), Buffer.from([0x89, 0x50]));
  assert.equal(parseJsonl(`${text}{"kind":"met`).length, 9, 'a torn last line is skipped');
});

test('a resumed run appends to the same file', async () => {
  const sub = join(dir, 'resume');
  await new JsonlLogger(sub).logMetrics({ train_loss: 1 }, { epoch: 1 });
  await new JsonlLogger(sub).logMetrics({ train_loss: 0.5 }, { epoch: 2 });
  const events = parseJsonl(await readFile(join(sub, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(events.map((e) => [e.epoch, e.value]), [[1, 1], [2, 0.5]]);
});

test('flattenParams turns nested recipes into dotted keys; arrays become JSON', () => {
  assert.deepEqual(flattenParams({ a: { b: 1, c: { d: 'x' } }, e: [1, 2], f: undefined, g: true }), {
    'a.b': 1,
    'a.c.d': 'x',
    e: '[1,2]',
    f: null,
    g: true,
  });
});

test('per-step scalars carry the global step and their epoch', async () => {
  const sub = join(dir, 'steps');
  const logger = new JsonlLogger(sub);
  await logger.logStep({ train_loss_step: 0.5 }, 7, 2);
  const [e] = parseJsonl(await readFile(join(sub, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual([e.kind, e.step, e.epoch, e.name, e.value], ['metric', 7, 2, 'train_loss_step', 0.5]);
});
