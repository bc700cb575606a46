import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from '../../src/core/registry.js';
import type { CliDeps, CliTask, EvaluateArgs, PredictArgs, TrainArgs } from '../../src/cli/index.js';

export interface FakeCli {
  deps: CliDeps;
  out: string[];
  err: string[];
  trained: TrainArgs[];
  predicted: PredictArgs[];
  evaluated: EvaluateArgs[];
  stdout(): string;
  stderr(): string;
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flash-cli-'));
  tempDirs.push(dir);
  return dir;
}

function reg(kind: string, names: string[]): Registry<unknown> {
  const r = new Registry<unknown>(kind);
  for (const n of names) r.register(n, {}, `the ${n} ${kind}`);
  return r;
}

export function imageClassificationTask(): CliTask {
  return {
    description: 'classify images into classes',
    builders: [
      { name: 'from_folders', description: 'class sub-folders', options: ['folder', 'train_folder', 'val_folder', 'test_folder', 'predict_folder', 'val_split'] },
      {
        name: 'from_files',
        description: 'lists of files and labels',
        options: ['train_files', 'train_targets', 'val_files', 'val_targets', 'test_files', 'test_targets', 'predict_files', 'val_split'],
      },
    ],
    defaults: { model: { backbone: 'simple_cnn' } },
  };
}

/** CliDeps with fake commands that record their arguments, and IO that records output. */
export function fakeCli(opts: { cwd?: string; commands?: Partial<CliDeps['commands']> } = {}): FakeCli {
  const out: string[] = [];
  const err: string[] = [];
  const trained: TrainArgs[] = [];
  const predicted: PredictArgs[] = [];
  const evaluated: EvaluateArgs[] = [];
  const tasks = new Registry<CliTask>('task');
  tasks.register('image_classification', imageClassificationTask(), 'classify images into classes');
  const deps: CliDeps = {
    io: {
      out: (t) => void out.push(t),
      err: (t) => void err.push(t),
      isTTY: false,
      cwd: opts.cwd ?? tempDir(),
      env: {},
    },
    tasks,
    registries: {
      backbones: reg('backbone', ['simple_cnn', 'resnet18', 'mobilenet_v2']),
      optimizers: reg('optimizer', ['adam', 'adamw', 'sgd', 'rmsprop']),
      metrics: reg('metric', ['accuracy', 'f1', 'auroc']),
      loggers: reg('logger', ['csv', 'tensorboard']),
      backends: reg('backend', ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
      strategies: reg('strategy', ['no_freeze', 'freeze', 'freeze_unfreeze', 'unfreeze_milestones']),
    },
    commands: {
      train: async (a) => void trained.push(a),
      predict: async (a) => void predicted.push(a),
      evaluate: async (a) => void evaluated.push(a),
      ...opts.commands,
    },
    version: '0.1.0-test',
  };
  return { deps, out, err, trained, predicted, evaluated, stdout: () => out.join(''), stderr: () => err.join('') };
}
