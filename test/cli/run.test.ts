import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli/index.js';
import { defaultRecipe, schemaKeys } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { bareTask, fakeCli } from './helpers.js';
import type { ImageRecipe } from '../../tasks/image_classification/schema.js';
import { defaultImageRecipe, IMAGE_SCHEMA } from '../../tasks/image_classification/schema.js';

const TASK = 'image_classification';

async function train(argv: string[], opts: Parameters<typeof fakeCli>[0] = {}) {
  const cli = fakeCli(opts);
  const code = await runCli([TASK, ...argv], cli.deps);
  assert.equal(code, 0, cli.stderr());
  assert.equal(cli.trained.length, 1);
  return cli.trained[0].recipe as ImageRecipe;
}

async function failing(argv: string[], opts: Parameters<typeof fakeCli>[0] = {}) {
  const cli = fakeCli(opts);
  const code = await runCli(argv, cli.deps);
  assert.equal(cli.trained.length + cli.predicted.length + cli.evaluated.length, 0, 'no command may run');
  return { code, err: cli.stderr(), out: cli.stdout() };
}

test('no flags: task defaults over schema defaults, no data (demo dataset)', async () => {
  const r = await train([]);
  assert.deepEqual(r, defaultImageRecipe({ model: { backbone: 'simple_cnn' } }));
  assert.equal(r.data.folder, null);
  assert.equal(r.data.builder, 'from_folders');
});

test('every recipe key as --section.key, both --flag value and --flag=value', async () => {
  const r = await train(['--trainer.max_epochs', '10', '--model.learning_rate=0.01', '--data.batch_size', '8', '--finetune.milestones=1,3', '--trainer.quiet']);
  assert.equal(r.trainer.max_epochs, 10);
  assert.equal(r.model.learning_rate, 0.01);
  assert.equal(r.data.batch_size, 8);
  assert.deepEqual(r.finetune.milestones, [1, 3]);
  assert.equal(r.trainer.quiet, true);
});

test('every alias sets its key', async () => {
  const values: Record<string, [string, unknown]> = {
    'trainer.max_epochs': ['7', 7],
    'trainer.seed': ['3', 3],
    'trainer.monitor': ['val_loss', 'val_loss'],
    'trainer.early_stopping_patience': ['4', 4],
    'trainer.backend': ['wasm', 'wasm'],
    'trainer.output_dir': ['out/x', 'out/x'],
    'trainer.logger': ['csv,tensorboard', ['csv', 'tensorboard']],
    'trainer.threads': ['2', 2],
    'trainer.quiet': ['true', true],
    'trainer.strict': ['true', true],
    'model.backbone': ['resnet18', 'resnet18'],
    'model.head': ['mlp', 'mlp'],
    'model.cut': ['conv3_block2_out', 'conv3_block2_out'],
    'model.pooling': ['flatten', 'flatten'],
    'model.optimizer': ['sgd', 'sgd'],
    'model.lr_scheduler': ['cosine', 'cosine'],
    'model.warmup_epochs': ['1.5', 1.5],
    'model.learning_rate': ['0.5', 0.5],
    'model.weight_decay': ['0.01', 0.01],
    'model.pretrained': ['true', 'true'],
    'model.dropout': ['0.5', 0.5],
    'model.multi_label': ['true', 'true'],
    'model.threshold': ['0.3', 0.3],
    'data.batch_size': ['4', 4],
    'data.image_size': ['64', 64],
    'data.channels': ['1', 1],
    'data.val_split': ['0.3', 0.3],
    'data.augment': ['false', false],
    'finetune.strategy': ['freeze', 'freeze'],
  };
  let aliases = 0;
  for (const k of schemaKeys(IMAGE_SCHEMA)) {
    for (const alias of k.spec.aliases ?? []) {
      const v = values[k.path];
      assert.ok(v, `test value for ${k.path}`);
      const r = await train([`--${alias}`, v[0]]);
      assert.deepEqual((r[k.section] as unknown as Record<string, unknown>)[k.key], v[1], `--${alias}`);
      aliases++;
    }
  }
  assert.ok(aliases >= 20);
});

test('Flash Zero sub-command syntax, flags before and after the sub-command', async () => {
  const r = await train(['--trainer.max_epochs', '10', '--model.backbone', 'simple_cnn', 'from_folders', '--train_folder', 'data/train', '--val_folder', 'data/val', '--batch_size', '16']);
  assert.equal(r.trainer.max_epochs, 10);
  assert.equal(r.data.builder, 'from_folders');
  assert.equal(r.data.train_folder, 'data/train');
  assert.equal(r.data.val_folder, 'data/val');
  assert.equal(r.data.batch_size, 16);
  const v = await train(['from_folders', '--folder', 'd', '--val_split', '0.1']);
  assert.equal(v.data.val_split, 0.1);

  const f = await train(['--logger', 'csv', 'from_files', '--train_files', 'a.jpg', 'b c.jpg', '--train_targets', 'cat', 'dog', '--max_epochs=2']);
  assert.equal(f.data.builder, 'from_files');
  assert.deepEqual(f.data.train_files, ['a.jpg', 'b c.jpg']);
  assert.deepEqual(f.data.train_targets, ['cat', 'dog']);
  assert.equal(f.trainer.max_epochs, 2);

  // The full data.* spelling works before the sub-command too.
  const g = await train(['--data.train_files', 'a.jpg', '--data.train_targets', 'cat', 'from_files']);
  assert.deepEqual(g.data.train_files, ['a.jpg']);
});

test('--from_folders DIR is the from_folders builder with data.folder', async () => {
  const r = await train(['--from_folders', './data']);
  assert.equal(r.data.builder, 'from_folders');
  assert.equal(r.data.folder, './data');
  const { code, err } = await failing([TASK, '--from_folders', './data', 'from_files', '--train_files', 'a', '--train_targets', 'b']);
  assert.equal(code, 2);
  assert.match(err, /sub-command from_files and --from_folders both set data\.builder/);
});

test('builder options belong after their sub-command', async () => {
  const { code, err } = await failing([TASK, '--train_folder', 'x']);
  assert.equal(code, 2);
  assert.equal(err, "error: unknown option '--train_folder' (did you mean '--data.train_folder'?)\n");
  const other = await failing([TASK, 'from_folders', '--train_files', 'a.jpg']);
  assert.match(other.err, /unknown option '--train_files' \(did you mean '--data\.train_files'\?\)/);
});

test('precedence: defaults < recipe file < flags (file found in cwd or given by --config)', async () => {
  const cli = fakeCli();
  const cwd = cli.deps.io.cwd;
  writeFileSync(path.join(cwd, 'flash.config.yaml'), 'trainer:\n  max_epochs: 3\n  seed: 9\ndata:\n  batch_size: 4\n');
  writeFileSync(path.join(cwd, 'other.json'), JSON.stringify({ trainer: { seed: 1 } }));
  const r1 = await train(['--max_epochs', '12'], { cwd });
  assert.equal(r1.trainer.max_epochs, 12);
  assert.equal(r1.trainer.seed, 9);
  assert.equal(r1.data.batch_size, 4);
  assert.equal(r1.trainer.monitor, 'val_accuracy');
  const r2 = await train(['--config', 'other.json'], { cwd });
  assert.equal(r2.trainer.seed, 1);
  assert.equal(r2.trainer.max_epochs, 5); // --config replaces the found file
});

test('--print_config prints YAML that loads back via --config to the identical recipe', async () => {
  const cli = fakeCli();
  const argv = [TASK, '--max_epochs', '3', '--lr', '0.001', '--patience', '2', '--logger', 'csv,tensorboard', 'from_files', '--train_files', 'a b.jpg', 'ü.png', '--train_targets', 'true', '007', '--print_config'];
  assert.equal(await runCli(argv, cli.deps), 0, cli.stderr());
  assert.equal(cli.trained.length, 0);
  const yamlText = cli.stdout();
  assert.match(yamlText, /^# /);
  const file = path.join(cli.deps.io.cwd, 'printed.yaml');
  writeFileSync(file, yamlText);
  const direct = fakeCli({ cwd: cli.deps.io.cwd });
  await runCli(argv.filter((a) => a !== '--print_config'), direct.deps);
  const back = await train(['--config', file], { cwd: cli.deps.io.cwd });
  assert.deepEqual(back, direct.trained[0].recipe);
  assert.deepEqual(back.data.train_targets, ['true', '007']);
});

test('unknown flag: names it and suggests the closest', async () => {
  const { code, err } = await failing([TASK, '--trainer.max_epoch', '10']);
  assert.equal(code, 2);
  assert.equal(err, "error: unknown option '--trainer.max_epoch' (did you mean '--trainer.max_epochs'?)\n");
  const alias = await failing([TASK, '--max_epoch=3']);
  assert.match(alias.err, /unknown option '--max_epoch' \(did you mean '--max_epochs'\?\)/);
  const negated = await failing([TASK, '--no-augment']);
  assert.equal(negated.err, "error: unknown option '--no-augment' (write '--augment false')\n");
  const nosection = await failing([TASK, '--unfreeze_epoch', '3']);
  assert.match(nosection.err, /did you mean '--finetune\.unfreeze_epoch'\?/);
});

test('typo in a recipe file: names file, key and suggestion; all problems at once', async () => {
  const cli = fakeCli();
  writeFileSync(path.join(cli.deps.io.cwd, 'flash.yaml'), 'trainer:\n  max_epoch: 3\nmodel:\n  backbone: resnt18\n');
  const code = await runCli([TASK, '--config', 'flash.yaml', '--batch_size', 'abc', '--bogus'], cli.deps);
  assert.equal(code, 2);
  const lines = cli.stderr().trimEnd().split('\n');
  assert.equal(lines[0], 'error: 4 problems with the settings:');
  assert.deepEqual(lines.slice(1).map((l) => l.trim()).sort(), [
    "--batch_size: expected an integer, got 'abc'",
    "recipe flash.yaml: model.backbone: unknown backbone 'resnt18' (did you mean 'resnet18'?); available: simple_cnn, resnet18, mobilenet_v2",
    "recipe flash.yaml: unknown key 'trainer.max_epoch' (did you mean 'trainer.max_epochs'?)",
    "unknown option '--bogus'",
  ]);
  assert.ok(!cli.stderr().includes('    at '), 'no stack trace for a user error');
});

test('wrong value types name the flag', async () => {
  for (const [argv, message] of [
    [['--data.batch_size', 'abc'], "--data.batch_size: expected an integer, got 'abc'"],
    [['--batch_size=2.5'], "--batch_size: expected an integer, got '2.5'"],
    [['--val_split', '1.5'], '--val_split: must be less than 1, got 1.5'],
    [['--channels', '2'], "--channels: expected one of auto, 1, 3, got '2'"],
    [['--quiet', 'maybe'], "--quiet: expected true or false, got 'maybe'"],
    [['--max_epochs'], '--max_epochs: expected an integer, got nothing'],
    [['--optimizer', 'adamm'], "--optimizer: unknown optimizer 'adamm' (did you mean 'adam'?); available: adam, adamw, sgd, rmsprop"],
    [['--backbone', 'resnet19'], "--backbone: unknown backbone 'resnet19' (did you mean 'resnet18'?); available: simple_cnn, resnet18, mobilenet_v2"],
    [['--backend', 'wasmm'], "--backend: unknown backend 'wasmm' (did you mean 'wasm'?); available: auto, tensorflow-gpu, tensorflow, wasm, cpu"],
    [['--strategy', 'freze'], "--strategy: unknown strategy 'freze' (did you mean 'freeze'?); available: no_freeze, freeze, freeze_unfreeze, unfreeze_milestones"],
    [['--logger', 'tensorbord'], "--logger: unknown logger 'tensorbord' (did you mean 'tensorboard'?); available: csv, tensorboard"],
    [['--lr', '1', '--model.learning_rate', '2'], '--lr and --model.learning_rate both set model.learning_rate to different values; give one'],
  ] as [string[], string][]) {
    const { code, err } = await failing([TASK, ...argv]);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(err, `error: ${message}\n`, argv.join(' '));
  }
});

test('missing required: from_files without --train_files; sub-command typos', async () => {
  const a = await failing([TASK, 'from_files']);
  assert.equal(a.code, 2);
  assert.match(a.err, /missing required option '--train_files'/);
  const b = await failing([TASK, 'from_folder', '--train_folder', 'x']);
  assert.match(b.err, /unknown sub-command 'from_folder' for image_classification \(did you mean 'from_folders'\?\)/);
  const c = await failing([TASK, 'from_files', '--train_files', 'a', '--train_targets', 'x', 'y']);
  assert.match(c.err, /2 labels for 1 files/);
});

test('unknown task or command: did-you-mean', async () => {
  const { code, err } = await failing(['image_clasification']);
  assert.equal(code, 2);
  assert.match(err, /^error: unknown command 'image_clasification' \(did you mean 'image_classification'\?\)/);
  const p = await failing(['predcit']);
  assert.match(p.err, /did you mean 'predict'\?/);
  const none = await failing([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /error: missing command/);
});

test("--resume is passed to train; the run's recipe.yaml is the recipe, flags override it", async () => {
  const cli = fakeCli();
  assert.equal(await runCli([TASK, '--resume', 'runs/x'], cli.deps), 0);
  assert.equal(cli.trained[0].resume, 'runs/x');
  assert.equal(cli.trained[0].io, cli.deps.io);
  assert.equal(cli.trained[0].recipe.trainer.max_epochs, 5);

  const first = fakeCli({ cwd: cli.deps.io.cwd });
  assert.equal(await runCli([TASK, '--max_epochs', '8', '--seed', '3', '--from_folders', 'data', '--print_config'], first.deps), 0);
  mkdirSync(path.join(cli.deps.io.cwd, 'runs', 'y'), { recursive: true });
  writeFileSync(path.join(cli.deps.io.cwd, 'runs', 'y', 'recipe.yaml'), first.stdout());
  const r = await train(['--resume', 'runs/y', '--max_epochs', '12'], { cwd: cli.deps.io.cwd });
  assert.equal(r.trainer.max_epochs, 12);
  assert.equal(r.trainer.seed, 3);
  assert.equal(r.data.folder, 'data');
});

test('predict: flags mapped to the command; errors name the flag', async () => {
  const cli = fakeCli();
  assert.equal(await runCli(['predict', '--model', 'runs/x', '--files', 'a.jpg', 'b.png', '--top_k', '2', '--output=preds.csv'], cli.deps), 0, cli.stderr());
  assert.deepEqual({ ...cli.predicted[0], io: undefined }, { model: 'runs/x', files: ['a.jpg', 'b.png'], topK: 2, output: 'preds.csv', backend: 'auto', batchSize: 32, io: undefined });
  const cli2 = fakeCli();
  assert.equal(await runCli(['predict', '--model', 'runs/x', '--folder', 'imgs', '--backend', 'wasm', '--batch_size', '8'], cli2.deps), 0);
  assert.deepEqual({ ...cli2.predicted[0], io: undefined }, { model: 'runs/x', folder: 'imgs', topK: 3, backend: 'wasm', batchSize: 8, io: undefined });

  const missing = await failing(['predict', '--files', 'a.jpg']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing required option '--model'/);
  const nothing = await failing(['predict', '--model', 'm']);
  assert.match(nothing.err, /missing required option '--files' or '--folder'/);
  const bad = await failing(['predict', '--model', 'm', '--files', 'a.jpg', '--top_k', 'x', '--output', 'p.txt', '--topk', '3']);
  assert.match(bad.err, /^error: 3 problems/);
  assert.match(bad.err, /unknown option '--topk' \(did you mean '--top_k'\?\)/);
  assert.match(bad.err, /--top_k: expected an integer of at least 1, got 'x'/);
  assert.match(bad.err, /--output: expected a \.json, \.jsonl or \.csv file, got 'p\.txt'/);
});

test('evaluate: flags mapped to the command; --folder and --model are required', async () => {
  const cli = fakeCli();
  assert.equal(await runCli(['evaluate', '--model', 'runs/x', '--folder', 'data/test', '--output', 'm.json'], cli.deps), 0);
  assert.deepEqual({ ...cli.evaluated[0], io: undefined }, { model: 'runs/x', folder: 'data/test', backend: 'auto', batchSize: 32, output: 'm.json', io: undefined });
  const { code, err } = await failing(['evaluate', '--model', 'runs/x']);
  assert.equal(code, 2);
  assert.equal(err, "error: missing required option '--folder' (a folder of class sub-folders) or '--csv' (a labelled CSV)\n");
  // --csv with its column flags (a multi-label model is scored on a CSV).
  assert.equal(await runCli(['evaluate', '--model', 'runs/x', '--csv', 't.csv', '--target_fields', 'a', 'b', '--input_field', 'img'], cli.deps), 0);
  assert.deepEqual({ ...cli.evaluated[1], io: undefined }, { model: 'runs/x', csv: 't.csv', inputField: 'img', targetFields: ['a', 'b'], backend: 'auto', batchSize: 32, io: undefined });
  const both = await failing(['evaluate', '--model', 'runs/x', '--csv', 't.csv', '--folder', 'd']);
  assert.match(both.err, /give --folder or --csv, not both/);
  const stray = await failing(['evaluate', '--model', 'runs/x', '--folder', 'd', '--input_field', 'img']);
  assert.match(stray.err, /--input_field, --target_fields and --images_root go with --csv/);
});

test('list: generated from the registries', async () => {
  const cli = fakeCli();
  cli.taskRegistries.backbones.register('my_test_backbone', {}, 'a backbone registered by this test');
  cli.deps.tasks.register('fake_task', bareTask('fake_task', 'a task registered by this test'), 'a task registered by this test');
  assert.equal(await runCli(['list'], cli.deps), 0);
  const out = cli.stdout();
  for (const group of ['tasks:', 'backbones:', 'optimizers:', 'metrics:', 'loggers:', 'backends:', 'strategies:']) assert.ok(out.includes(group), group);
  assert.match(out, /my_test_backbone +a backbone registered by this test/);
  assert.match(out, /fake_task +a task registered by this test/);
  const one = fakeCli();
  assert.equal(await runCli(['list', 'optimizers'], one.deps), 0);
  assert.equal(one.stdout(), ['adam     the adam optimizer', 'adamw    the adamw optimizer', 'sgd      the sgd optimizer', 'rmsprop  the rmsprop optimizer', ''].join('\n'));
  const bad = await failing(['list', 'backbone']);
  assert.match(bad.err, /unknown list 'backbone' \(did you mean 'backbones'\?\)/);
});

test('--help, <task> --help, --version', async () => {
  const cli = fakeCli();
  assert.equal(await runCli(['--help'], cli.deps), 0);
  assert.match(cli.stdout(), /image_classification +classify images/);
  assert.match(cli.stdout(), /predict/);

  const t = fakeCli();
  t.deps.registries.optimizers.register('lamb_test', {}, 'x');
  assert.equal(await runCli([TASK, '--help'], t.deps), 0);
  const help = t.stdout();
  for (const k of schemaKeys(IMAGE_SCHEMA)) {
    assert.ok(help.includes(`--${k.path}`), k.path);
    for (const a of k.spec.aliases ?? []) assert.ok(help.includes(`--${a}`), a);
    assert.ok(help.includes(k.spec.description), k.spec.description);
  }
  for (const s of ['trainer:', 'model:', 'data:', 'finetune:', 'from_folders', 'from_files', '--config', '--print_config', '--resume', '--from_folders']) assert.ok(help.includes(s), s);
  assert.match(help, /lamb_test/); // choices come from the registries
  assert.match(help, /default: 5/);

  const plain = fakeCli();
  assert.equal(await runCli([TASK, '--help'], plain.deps), 0);
  const h2 = fakeCli();
  assert.equal(await runCli([TASK, 'from_folders', '--train_folder', 'x', '-h'], h2.deps), 0);
  assert.equal(h2.trained.length, 0);
  assert.equal(h2.stdout(), plain.stdout());

  const v = fakeCli();
  assert.equal(await runCli(['--version'], v.deps), 0);
  assert.equal(v.stdout(), '0.1.0-test\n');
  for (const cmd of ['predict', 'evaluate', 'list']) {
    const c = fakeCli();
    assert.equal(await runCli([cmd, '--help'], c.deps), 0);
    assert.match(c.stdout(), new RegExp(`^flash ${cmd}`));
  }
});

test('user errors thrown by commands exit with their code; other errors print the stack and exit 1', async () => {
  const user = fakeCli({ commands: { train: async () => { throw new FlashUserError('data folder ./nope does not exist', 3); } } });
  assert.equal(await runCli([TASK], user.deps), 3);
  assert.equal(user.stderr(), 'error: data folder ./nope does not exist\n');
  const bug = fakeCli({ commands: { predict: async () => { throw new TypeError('cannot read x of undefined'); } } });
  assert.equal(await runCli(['predict', '--model', 'm', '--files', 'a.jpg'], bug.deps), 1);
  assert.match(bug.stderr(), /TypeError: cannot read x of undefined\n\s+at /);
  assert.match(bug.stderr(), /this is a bug in flash; please report it/);
});

test('lists: space- or comma-separated, null; booleans take an optional true/false', async () => {
  const r = await train(['--logger', 'csv', 'tensorboard', '--finetune.milestones', '1', '3,5', '--quiet', 'false', '--augment=false', '--strict']);
  assert.deepEqual(r.trainer.logger, ['csv', 'tensorboard']);
  assert.deepEqual(r.finetune.milestones, [1, 3, 5]);
  assert.equal(r.trainer.quiet, false);
  assert.equal(r.data.augment, false);
  assert.equal(r.trainer.strict, true);
  const n = await train(['--data.predict_files', 'null', '--lr', 'null', '--logger', '[]']);
  assert.equal(n.data.predict_files, null);
  assert.equal(n.model.learning_rate, null);
  assert.deepEqual(n.trainer.logger, []);
  // A list flag before the sub-command does not swallow it.
  const s = await train(['--logger', 'csv', 'from_folders', '--folder', 'd']);
  assert.deepEqual(s.trainer.logger, ['csv']);
  assert.equal(s.data.folder, 'd');
});

test('flash --config recipe.yaml runs the task the recipe names', async () => {
  const cli = fakeCli();
  assert.equal(await runCli([TASK, '--max_epochs', '2', '--print_config'], cli.deps), 0);
  writeFileSync(path.join(cli.deps.io.cwd, 'r.yaml'), cli.stdout());
  const run = fakeCli({ cwd: cli.deps.io.cwd });
  assert.equal(await runCli(['--config', 'r.yaml', '--seed', '5'], run.deps), 0, run.stderr());
  assert.equal(run.trained[0].recipe.trainer.max_epochs, 2);
  assert.equal(run.trained[0].recipe.trainer.seed, 5);
  writeFileSync(path.join(cli.deps.io.cwd, 'notask.yaml'), 'trainer:\n  seed: 1\n');
  const bad = await failing(['--config', 'notask.yaml'], { cwd: cli.deps.io.cwd });
  assert.match(bad.err, /names no task/);
  const missing = await failing(['--config', 'nope.yaml'], { cwd: cli.deps.io.cwd });
  assert.equal(missing.err, 'error: recipe nope.yaml: no such file\n');
  const flag = await failing(['--max_epochs', '3']);
  assert.match(flag.err, /the command comes first/);
});
