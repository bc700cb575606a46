import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Registry } from '../../../src/core/registry.js';
import { FlashUserError } from '../../../src/core/errors.js';
import {
  coerceValue,
  defaultRecipe,
  monitorDirection,
  RecipeError,
  resolveRecipe,
  schemaKeys,
  SECTIONS,
} from '../../../src/core/config/index.js';
import { defaultImageRecipe, resolveImageRecipe, IMAGE_SCHEMA } from '../../../tasks/image_classification/schema.js';

const task = 'image_classification';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RecipeError, `expected RecipeError, got ${String(err)}`);
    assert.ok(err instanceof FlashUserError);
    return err.problems;
  }
  assert.fail('expected a RecipeError');
}

test('defaultRecipe has every schema key with its default, and task defaults on top', () => {
  const r = defaultImageRecipe();
  assert.equal(r.task, task);
  for (const k of schemaKeys(IMAGE_SCHEMA)) {
    assert.deepEqual((r[k.section] as unknown as Record<string, unknown>)[k.key], k.spec.default, k.path);
  }
  assert.equal(r.trainer.max_epochs, 5);
  assert.equal(r.data.batch_size, 32);
  assert.deepEqual(r.finetune.milestones, [2, 4]);
  const t = defaultImageRecipe({ trainer: { max_epochs: 9 }, data: { image_size: 28 } });
  assert.equal(t.trainer.max_epochs, 9);
  assert.equal(t.data.image_size, 28);
  assert.equal(t.trainer.seed, 42);
  // defaults are copies: mutating one recipe does not touch the schema
  t.finetune.milestones.push(9);
  assert.deepEqual(defaultImageRecipe().finetune.milestones, [2, 4]);
});

test('schema: every key has a description, sections are the four of Flash', () => {
  assert.deepEqual([...SECTIONS], ['trainer', 'model', 'data', 'finetune']);
  for (const k of schemaKeys(IMAGE_SCHEMA)) assert.ok(k.spec.description.length > 5, k.path);
  assert.ok(IMAGE_SCHEMA.model.learning_rate.aliases?.includes('lr'));
});

test('precedence: schema defaults < task defaults < file < flags', () => {
  const r = resolveImageRecipe({
    task,
    taskDefaults: { trainer: { max_epochs: 7, seed: 1 }, data: { batch_size: 16 }, model: { dropout: 0.1 } },
    file: { trainer: { max_epochs: 8, seed: 2 }, data: { batch_size: 8 } },
    filePath: 'flash.yaml',
    overrides: { trainer: { max_epochs: '10' } },
  });
  assert.equal(r.trainer.max_epochs, 10); // flag
  assert.equal(r.trainer.seed, 2); // file
  assert.equal(r.data.batch_size, 8); // file over task
  assert.equal(r.model.dropout, 0.1); // task
  assert.equal(r.model.optimizer, 'adam'); // schema
});

test('flag strings are coerced to the key types', () => {
  const r = resolveImageRecipe({
    task,
    overrides: {
      trainer: { max_epochs: '10', quiet: 'true', early_stopping_patience: '3', threads: 'null', logger: 'csv,tensorboard' },
      model: { learning_rate: '1e-3', pretrained: 'true' },
      data: { channels: '1', val_split: '0.25', augment: 'false', train_files: ['a.jpg', 'b.jpg'], train_targets: ['cat', 'dog'], builder: 'from_files' },
      finetune: { milestones: '2,4,6', train_bn: false },
    },
  });
  assert.equal(r.trainer.max_epochs, 10);
  assert.equal(r.trainer.quiet, true);
  assert.equal(r.trainer.early_stopping_patience, 3);
  assert.equal(r.trainer.threads, null);
  assert.deepEqual(r.trainer.logger, ['csv', 'tensorboard']);
  assert.equal(r.model.learning_rate, 0.001);
  assert.equal(r.model.pretrained, 'true');
  assert.equal(r.data.channels, 1);
  assert.equal(r.data.val_split, 0.25);
  assert.equal(r.data.augment, false);
  assert.deepEqual(r.data.train_files, ['a.jpg', 'b.jpg']);
  assert.deepEqual(r.finetune.milestones, [2, 4, 6]);
  assert.equal(r.finetune.train_bn, false);
});

test('file values: YAML types, booleans for pretrained, numbers in target lists, lists as [a, b]', () => {
  const r = resolveImageRecipe({
    task,
    file: { model: { pretrained: true, learning_rate: null }, data: { builder: 'from_files', train_files: ['a', 'b'], train_targets: [0, 1], channels: 3 }, finetune: { milestones: '[1, 3]' } },
    filePath: 'r.yaml',
  });
  assert.equal(r.model.pretrained, 'true');
  assert.deepEqual(r.data.train_targets, ['0', '1']);
  assert.equal(r.data.channels, 3);
  assert.deepEqual(r.finetune.milestones, [1, 3]);
});

test('coerceValue: types, null, bounds, lists', () => {
  const ok = (spec: Parameters<typeof coerceValue>[0], raw: unknown) => {
    const c = coerceValue(spec, raw);
    assert.ok(c.ok, JSON.stringify(c));
    return c.value;
  };
  const bad = (spec: Parameters<typeof coerceValue>[0], raw: unknown) => {
    const c = coerceValue(spec, raw);
    assert.ok(!c.ok, `expected failure for ${JSON.stringify(raw)}`);
    return c.error;
  };
  assert.equal(ok(IMAGE_SCHEMA.trainer.max_epochs, '10'), 10);
  assert.equal(bad(IMAGE_SCHEMA.trainer.max_epochs, 'abc'), "expected an integer, got 'abc'");
  assert.equal(bad(IMAGE_SCHEMA.trainer.max_epochs, '2.5'), "expected an integer, got '2.5'");
  assert.equal(bad(IMAGE_SCHEMA.trainer.max_epochs, '0'), 'must be at least 1, got 0');
  assert.equal(bad(IMAGE_SCHEMA.trainer.max_epochs, null), 'expected an integer, got null');
  assert.equal(bad(IMAGE_SCHEMA.trainer.max_epochs, ''), 'expected an integer, got nothing');
  assert.equal(ok(IMAGE_SCHEMA.trainer.early_stopping_patience, 'None'), null);
  assert.equal(ok(IMAGE_SCHEMA.trainer.max_epochs, ['3', '4']), 4); // repeated flag: last wins
  assert.equal(bad(IMAGE_SCHEMA.data.val_split, '1'), 'must be less than 1, got 1');
  assert.equal(bad(IMAGE_SCHEMA.model.learning_rate, '0'), 'must be greater than 0, got 0');
  assert.equal(bad(IMAGE_SCHEMA.trainer.quiet, 'maybe'), "expected true or false, got 'maybe'");
  assert.equal(ok(IMAGE_SCHEMA.trainer.quiet, 'yes'), true);
  assert.equal(bad(IMAGE_SCHEMA.model.backbone, 3), 'expected a string, got 3');
  assert.equal(bad(IMAGE_SCHEMA.data.channels, 2), 'expected one of auto, 1, 3, got 2');
  assert.equal(bad(IMAGE_SCHEMA.data.cache, 'dsk'), "expected one of memory, none, disk, auto, got 'dsk' (did you mean 'disk'?)");
  assert.equal(bad(IMAGE_SCHEMA.data.channels, 'rgb'), "expected one of auto, 1, 3, got 'rgb'");
  assert.deepEqual(ok(IMAGE_SCHEMA.finetune.milestones, '[]'), []);
  assert.equal(bad(IMAGE_SCHEMA.finetune.milestones, '2,x'), "expected a list of numbers, got '2,x'");
  assert.deepEqual(ok(IMAGE_SCHEMA.data.train_files, ['a,b.jpg']), ['a,b.jpg']); // file names are not split on commas
  assert.deepEqual(ok(IMAGE_SCHEMA.trainer.logger, '[csv, tensorboard]'), ['csv', 'tensorboard']);
  assert.equal(ok(IMAGE_SCHEMA.data.folder, 'null'), null);
});

test('every problem is reported at once, naming key and source, with suggestions', () => {
  const problems = problemsOf(() =>
    resolveImageRecipe({
      task,
      file: { trainer: { max_epoch: 3 }, max_epochs: 2, modle: {}, data: { batch_size: 'many' } },
      filePath: 'flash.yaml',
      overrides: { data: { batch_size: 'abc' }, model: { learning_rate: 'fast' } },
      overrideNames: { 'model.learning_rate': '--lr' },
    }),
  );
  assert.deepEqual(problems, [
    "recipe flash.yaml: unknown key 'trainer.max_epoch' (did you mean 'trainer.max_epochs'?)",
    "recipe flash.yaml: unknown key 'max_epochs' (did you mean 'trainer.max_epochs'?)",
    "recipe flash.yaml: unknown section 'modle' (did you mean 'model'?)",
    "recipe flash.yaml: data.batch_size: expected an integer, got 'many'",
    "--data.batch_size: expected an integer, got 'abc'",
    "--lr: expected a number, auto or null, got 'fast'",
  ]);
  try {
    resolveImageRecipe({ task, overrides: { data: { batch_size: 'abc' }, trainer: { seed: 'x' } } });
  } catch (err) {
    const lines = (err as Error).message.split('\n');
    assert.equal(lines[0], '2 problems with the settings:');
    assert.equal(lines.length, 3);
  }
  // one problem is one line
  assert.throws(() => resolveImageRecipe({ task, overrides: { data: { batch_size: 'abc' } } }), {
    message: "--data.batch_size: expected an integer, got 'abc'",
  });
});

test('a file that is not a mapping, a wrong task, a section that is not a mapping', () => {
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, file: ['a'], filePath: 'x.yaml' })), [
    'recipe x.yaml: expected a mapping of sections (trainer, model, data, finetune), got ["a"]',
  ]);
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, file: { task: 'object_detection', trainer: 3 }, filePath: 'x.yaml' })), [
    "recipe x.yaml: task is 'object_detection' but the command runs 'image_classification'",
    'recipe x.yaml: trainer: expected a mapping of keys, got 3',
  ]);
});

test('names are checked against the registries and the task builders', () => {
  const backbones = new Registry<unknown>('backbone').register('simple_cnn', {}).register('resnet18', {});
  const optimizers = new Registry<unknown>('optimizer').register('adam', {}).register('sgd', {});
  const loggers = new Registry<unknown>('logger').register('csv', {});
  const backends = new Registry<unknown>('backend').register('wasm', {}).register('cpu', {});
  const strategies = new Registry<unknown>('strategy').register('no_freeze', {}).register('freeze', {});
  const registries = { backbones, optimizers, loggers, backends, strategies };
  const builders = [{ name: 'from_folders', options: ['folder', 'train_folder'] }, { name: 'from_files', options: ['train_files', 'train_targets'] }];
  const ok = resolveImageRecipe({ task, registries, builders, overrides: { trainer: { backend: 'auto' } } });
  assert.equal(ok.trainer.backend, 'auto');
  const problems = problemsOf(() =>
    resolveImageRecipe({
      task,
      registries,
      builders,
      file: { model: { backbone: 'resnt18' } },
      filePath: 'f.yaml',
      overrides: { model: { optimizer: 'adamm' }, trainer: { backend: 'wsm', logger: 'csv,tensorbord' }, finetune: { strategy: 'freez' }, data: { builder: 'from_folder' } },
      overrideNames: { 'model.optimizer': '--optimizer' },
    }),
  );
  assert.deepEqual(problems, [
    "--trainer.backend: unknown backend 'wsm' (did you mean 'wasm'?); available: auto, wasm, cpu",
    "--trainer.logger: unknown logger 'tensorbord'; available: csv",
    "recipe f.yaml: model.backbone: unknown backbone 'resnt18' (did you mean 'resnet18'?); available: simple_cnn, resnet18",
    "--optimizer: unknown optimizer 'adamm' (did you mean 'adam'?); available: adam, sgd",
    "--finetune.strategy: unknown strategy 'freez' (did you mean 'freeze'?); available: no_freeze, freeze",
    "--data.builder: unknown builder 'from_folder' for image_classification (did you mean 'from_folders'?); available: from_folders, from_files",
  ]);
});

test('model.backbone may name a bare folder that exists in cwd (a saved run); an unknown name still gets did-you-mean', () => {
  const backbones = new Registry<unknown>('backbone').register('simple_cnn', {}).register('resnet18', {});
  const cwd = mkdtempSync(join(tmpdir(), 'flash-resolve-'));
  try {
    mkdirSync(join(cwd, 'A'));
    const r = resolveImageRecipe({ task, registries: { backbones }, cwd, overrides: { model: { backbone: 'A' } } });
    assert.equal(r.model.backbone, 'A');
    assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, registries: { backbones }, cwd, overrides: { model: { backbone: 'B' } } })), [
      "--model.backbone: unknown backbone 'B'; available: simple_cnn, resnet18",
    ]);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('trainer.monitor names train_/val_ + loss or a registered metric', () => {
  const metrics = new Registry<unknown>('metric').register('accuracy', {}).register('f1_macro', {});
  assert.equal(resolveImageRecipe({ task, registries: { metrics }, overrides: { trainer: { monitor: 'val_f1_macro' } } }).trainer.monitor, 'val_f1_macro');
  assert.equal(resolveImageRecipe({ task, registries: { metrics }, overrides: { trainer: { monitor: 'val_loss' } } }).trainer.monitor, 'val_loss');
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, registries: { metrics }, overrides: { trainer: { monitor: 'val_acuracy' } } })), [
    "--trainer.monitor: unknown quantity 'val_acuracy' (did you mean 'val_accuracy'?); monitor train_ or val_ followed by loss or a metric (loss, accuracy, f1_macro)",
  ]);
});

test('data rules: files need targets of the same length, builder options, folder xor train_folder', () => {
  const builders = [{ name: 'from_folders', options: ['folder', 'train_folder'] }, { name: 'from_files', options: ['train_files', 'train_targets'] }];
  assert.deepEqual(
    problemsOf(() => resolveImageRecipe({ task, builders, overrides: { data: { builder: 'from_files', train_files: ['a', 'b'], train_targets: ['x'] } } })),
    ['--data.train_targets: 1 labels for 2 files in data.train_files; give one label per file'],
  );
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, builders, overrides: { data: { builder: 'from_files' } } })), [
    "missing required option '--train_files' (data.train_files) for the from_files builder",
  ]);
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, builders, overrides: { data: { train_files: ['a'], train_targets: ['x'] } } })), [
    '--data.train_files: not used by the from_folders builder (it belongs to from_files)',
    '--data.train_targets: not used by the from_folders builder (it belongs to from_files)',
  ]);
  // A builder without val_split is fine while val_split keeps its default; setting it is a problem.
  const noSplit = [{ name: 'from_folders', options: ['folder', 'val_split'] }, { name: 'from_csv', options: ['train_files'] }];
  assert.equal(resolveImageRecipe({ task, builders: noSplit, overrides: { data: { builder: 'from_csv' } } }).data.val_split, 0.2);
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, builders: noSplit, file: { data: { builder: 'from_csv', val_split: 0.3 } }, filePath: 'f.yaml' })), [
    'recipe f.yaml: data.val_split: not used by the from_csv builder (it belongs to from_folders)',
  ]);
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, overrides: { data: { folder: 'a', train_folder: 'b' } } })), [
    '--data.train_folder: give data.folder or data.train_folder, not both',
  ]);
  assert.deepEqual(problemsOf(() => resolveImageRecipe({ task, overrides: { data: { val_targets: ['a'] } } })), [
    '--data.val_targets: missing data.val_files (--val_files) for these labels',
  ]);
});

test('monitorDirection: auto is min for losses, max otherwise', () => {
  assert.equal(monitorDirection('val_loss', 'auto'), 'min');
  assert.equal(monitorDirection('val_accuracy', 'auto'), 'max');
  assert.equal(monitorDirection('val_loss', 'max'), 'max');
});
