import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CsvLogger, loggers } from '../../../src/core/loggers/index.js';
import { makeTempDir, removeDir } from '../../helpers/images.js';

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

const read = async (file: string) => (await fs.readFile(file, 'utf8')).trimEnd().split('\n');

test('CsvLogger writes one row per epoch; columns that appear later get a header', async () => {
  const dir = path.join(tmp, 'run1');
  const logger = new CsvLogger(dir);
  assert.equal(logger.path, path.join(dir, 'metrics.csv'));
  await logger.logMetrics({ epoch: 1, train_loss: 0.5 }, { epoch: 1 });
  assert.deepEqual(await read(logger.path), ['epoch,train_loss', '1,0.5']);
  await logger.logMetrics({ epoch: 2, train_loss: 0.25, val_accuracy: 0.75 }, { epoch: 2 });
  assert.deepEqual(await read(logger.path), ['epoch,train_loss,val_accuracy', '1,0.5,', '2,0.25,0.75']);
  // Metrics without an epoch key still get the epoch column from the step.
  await logger.logMetrics({ train_loss: 0.125, val_accuracy: 1 }, { epoch: 3 });
  assert.deepEqual(await read(logger.path), ['epoch,train_loss,val_accuracy', '1,0.5,', '2,0.25,0.75', '3,0.125,1']);
  assert.ok(!(await fs.readdir(dir)).some((f) => f.endsWith('.tmp')));
});

test('CsvLogger.restore continues a file; logging an earlier epoch drops the later rows (resume)', async () => {
  const dir = path.join(tmp, 'run2');
  const first = new CsvLogger(dir);
  for (let e = 1; e <= 4; e++) await first.logMetrics({ train_loss: 1 / e, val_accuracy: e / 10 }, { epoch: e });

  // The run is resumed from the epoch-2 checkpoint: epochs 3 and 4 are trained again.
  const resumed = new CsvLogger(dir);
  await resumed.restore();
  await resumed.logMetrics({ train_loss: 0.3, val_accuracy: 0.35, val_f1_macro: 0.3 }, { epoch: 3 });
  assert.deepEqual(await read(resumed.path), [
    'epoch,train_loss,val_accuracy,val_f1_macro',
    '1,1,0.1,',
    '2,0.5,0.2,',
    '3,0.3,0.35,0.3',
  ]);
});

test('CsvLogger.restore with no file, or only a header, starts empty', async () => {
  const dir = path.join(tmp, 'run3');
  const logger = new CsvLogger(dir, 'm.csv');
  await logger.restore();
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(logger.path, 'epoch,train_loss\n');
  await logger.restore();
  await logger.logMetrics({ train_loss: 2 }, { epoch: 1 });
  assert.deepEqual(await read(logger.path), ['epoch,train_loss', '1,2']);
});

test('the csv logger is registered and creates metrics.csv in the run folder', async () => {
  const logger = loggers.get('csv').create(path.join(tmp, 'run4'));
  assert.equal(logger.name, 'csv');
  await logger.logMetrics({ train_loss: 1 }, { epoch: 1 });
  assert.ok((await fs.stat(path.join(tmp, 'run4', 'metrics.csv'))).isFile());
  assert.throws(() => loggers.get('cvs'), /did you mean 'csv'/);
});
