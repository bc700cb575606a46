import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from '../../src/core/registry.js';
import type { CliDeps, TrainArgs } from '../../src/cli/index.js';
import type { RunCommandArgs, TaskPlugin } from '../../tasks/types.js';
import { imageClassification } from '../../tasks/image_classification/index.js';
import type { EvaluateArgs, PredictArgs } from '../../tasks/image_classification/cli.js';

export interface FakeCli {
  deps: CliDeps;
  /** The fake image task's own registries (backbones), to register more in a test. */
  taskRegistries: Record<string, Registry<unknown>>;
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

/** The real image_classification plugin (schema, builders, flags, command specs) over small fake registries. */
export function imageClassificationTask(registries: Record<string, Registry<unknown>>): TaskPlugin {
  return { ...imageClassification, registries };
}

/** A task with no keys, builders or commands of its own (for listing). */
export function bareTask(name: string, description: string): TaskPlugin {
  return { ...imageClassification, name, description, keys: {}, registries: {}, builders: [], trainFlags: [], commands: {} };
}

/** CliDeps with fake commands that record their arguments, and IO that records output. */
export function fakeCli(opts: { cwd?: string; commands?: Partial<CliDeps['commands']> } = {}): FakeCli {
  const out: string[] = [];
  const err: string[] = [];
  const trained: TrainArgs[] = [];
  const predicted: PredictArgs[] = [];
  const evaluated: EvaluateArgs[] = [];
  const taskRegistries = { backbones: reg('backbone', ['simple_cnn', 'resnet18', 'mobilenet_v2']) };
  const tasks = new Registry<TaskPlugin>('task');
  tasks.register('image_classification', imageClassificationTask(taskRegistries), 'classify images into classes');
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
      optimizers: reg('optimizer', ['adam', 'adamw', 'sgd', 'rmsprop']),
      metrics: reg('metric', ['accuracy', 'f1', 'auroc']),
      loggers: reg('logger', ['csv', 'tensorboard']),
      backends: reg('backend', ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
      strategies: reg('strategy', ['no_freeze', 'freeze', 'freeze_unfreeze', 'unfreeze_milestones']),
    },
    commands: {
      train: async (a) => void trained.push(a),
      predict: async (a: RunCommandArgs) => void predicted.push(a as PredictArgs),
      evaluate: async (a: RunCommandArgs) => void evaluated.push(a as EvaluateArgs),
      ...opts.commands,
    },
    // Every run folder named in these tests belongs to image_classification (none exists on disk).
    taskOfRun: async () => 'image_classification',
    version: '0.1.0-test',
  };
  return { deps, taskRegistries, out, err, trained, predicted, evaluated, stdout: () => out.join(''), stderr: () => err.join('') };
}
