/**
 * A toy non-image task, `vector_classification`, defined only in the tests: rows of numbers in a CSV → a small MLP
 * → classes. It exists to prove the plugin seam: it is one folder and one `register` line, uses the core's run
 * lifecycle (`trainRun`), the shared classification layer and the core schema, and passes the same conformance
 * suite as image_classification — without any edit to the core.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CORE_SCHEMA, fixedLearningRate, mergeSchemas, type Recipe, type RecipeOf, type SchemaFor } from '../../../src/core/config/index.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { loadLayersModel } from '../../../src/core/io/layers_model.js';
import { createOptimizer } from '../../../src/core/optimizers/index.js';
import { readRunMeta, type RunMeta } from '../../../src/core/run/run_folder.js';
import { trainRun, type RunModule, type TrainRunHooks } from '../../../src/core/run/train_run.js';
import { lrFindRun } from '../../../src/core/run/lr_find.js';
import type { Batch, BatchOptions, DataModuleLike, DataSplit } from '../../../src/core/trainer/types.js';
import { writeJsonAtomic } from '../../../src/core/io/atomic.js';
import { commandHint } from '../../../src/core/hints.js';
import { classificationActivation, classificationLoss, classificationTrainStat, DEFAULT_METRICS } from '../../../tasks/classification/objective.js';
import type { RunCommandArgs, TaskPlugin } from '../../../tasks/types.js';

interface VectorModelKeys {
  hidden_units: number;
}
interface VectorDataKeys {
  train_file: string | null;
  val_file: string | null;
  test_file: string | null;
  feature_fields: string[] | null;
  target_field: string | null;
}
type VectorRecipe = RecipeOf<VectorModelKeys, VectorDataKeys>;

const KEYS: { model: SchemaFor<VectorModelKeys>; data: SchemaFor<VectorDataKeys> } = {
  model: { hidden_units: { type: 'integer', default: 16, min: 1, description: 'units of the hidden layer' } },
  data: {
    train_file: { type: 'string', nullable: true, default: null, description: 'CSV of numeric features and a label to train on' },
    val_file: { type: 'string', nullable: true, default: null, description: 'CSV to validate on' },
    test_file: { type: 'string', nullable: true, default: null, description: 'CSV to test the best model on' },
    feature_fields: { type: 'string[]', nullable: true, default: null, description: 'the numeric feature columns' },
    target_field: { type: 'string', nullable: true, default: null, description: 'the label column' },
  },
};
const DEFAULTS = { trainer: { monitor: 'val_accuracy' }, data: { builder: 'from_csv' } };

/** A split of feature rows and class indices. */
export class VectorSplit implements DataSplit {
  constructor(readonly rows: number[][], readonly labels: number[]) {}
  get size(): number {
    return this.rows.length;
  }
  async *batches(opts: BatchOptions): AsyncIterable<Batch> {
    const order = this.rows.map((_, i) => i);
    if (opts.shuffle) {
      // A seeded shuffle per epoch: an LCG is enough for a toy.
      let s = ((opts.seed ?? 1) * 7919 + (opts.epoch ?? 0) * 104729) >>> 0;
      for (let i = order.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const j = s % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    for (let i = 0; i < order.length; i += opts.batchSize) {
      const idx = order.slice(i, i + opts.batchSize);
      yield { x: tf.tensor2d(idx.map((k) => this.rows[k])), y: tf.tensor1d(idx.map((k) => this.labels[k]), 'int32'), ids: idx.map(String) };
    }
  }
}

interface VectorData extends DataModuleLike {
  readonly train: VectorSplit;
  readonly val?: VectorSplit;
  readonly test?: VectorSplit;
  labels: string[];
  features: string[];
}

/** Reads a CSV's feature and label columns; a missing column is one line naming the file and the column. */
function readVectors(file: string, features: string[], target: string | null, labels?: string[]): { rows: number[][]; targets: string[] } {
  const records = parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  for (const col of [...features, ...(target ? [target] : [])]) {
    if (records.length && !(col in records[0])) throw new FlashUserError(`${file}: no column '${col}'`);
  }
  const rows = records.map((r, i) =>
    features.map((f) => {
      const v = Number(r[f]);
      if (!Number.isFinite(v)) throw new FlashUserError(`${file}: row ${i + 2}, column '${f}': not a number ('${r[f]}')`);
      return v;
    }),
  );
  const targets = target ? records.map((r) => r[target]) : [];
  if (labels) for (const t of targets) if (!labels.includes(t)) throw new FlashUserError(`${file}: label '${t}' was not in the training data`);
  return { rows, targets };
}

function buildVectorData(recipe: VectorRecipe, cwd: string): VectorData {
  const d = recipe.data;
  const features = d.feature_fields!;
  const train = readVectors(resolve(cwd, d.train_file!), features, d.target_field);
  const labels = [...new Set(train.targets)].sort();
  const split = (f: string | null) => {
    if (f === null) return undefined;
    const v = readVectors(resolve(cwd, f), features, d.target_field, labels);
    return new VectorSplit(v.rows, v.targets.map((t) => labels.indexOf(t)));
  };
  return {
    train: new VectorSplit(train.rows, train.targets.map((t) => labels.indexOf(t))),
    val: split(d.val_file),
    test: split(d.test_file),
    batchSize: d.batch_size,
    labels,
    features,
  };
}

/** An MLP over feature vectors, built on the shared classification layer. */
export class VectorClassifier implements RunModule {
  private net?: tf.LayersModel;
  private logits?: tf.LayersModel;
  classWeights: number[] | null = null;
  readonly metricNames = DEFAULT_METRICS;
  constructor(readonly labels: string[], readonly features: string[], private readonly options: { hidden: number; optimizer: string; lr: number | null; wd: number }) {}

  get built(): boolean {
    return this.net !== undefined;
  }
  get numOutputs(): number {
    return this.labels.length;
  }
  setup(): void {
    const input = tf.input({ shape: [this.features.length], name: 'features' });
    const hidden = tf.layers.dense({ units: this.options.hidden, activation: 'relu', name: 'hidden' }).apply(input) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: this.labels.length, name: 'logits' }).apply(hidden) as tf.SymbolicTensor;
    const probs = tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(logits) as tf.SymbolicTensor;
    this.adopt(tf.model({ inputs: input, outputs: probs }));
  }
  adopt(net: tf.LayersModel): void {
    this.net?.dispose();
    this.net = net;
    this.logits = tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor });
  }
  network(): tf.LayersModel {
    if (!this.net) throw new Error('not built');
    return this.net;
  }
  trainingNetwork(): tf.LayersModel {
    this.network();
    return this.logits!;
  }
  loss(y: tf.Tensor, out: tf.Tensor): tf.Scalar {
    return classificationLoss({ numClasses: this.labels.length, multiLabel: false, threshold: 0.5, classWeights: this.classWeights }, y, out);
  }
  activate(out: tf.Tensor): tf.Tensor {
    return classificationActivation(false, out);
  }
  get trainStat() {
    return classificationTrainStat(false, 0.5);
  }
  createOptimizer(): tf.Optimizer {
    return createOptimizer(this.options.optimizer, this.options.lr, this.options.wd);
  }
  loadWeightsFrom(other: tf.LayersModel): void {
    this.network().setWeights(other.getWeights());
  }
}

interface VectorMeta extends RunMeta {
  labels: string[];
  features: string[];
}

async function loadVectorClassifier(runDir: string): Promise<VectorClassifier> {
  const meta = await readRunMeta<VectorMeta>(runDir);
  const r = meta.recipe as VectorRecipe;
  const clf = new VectorClassifier(meta.labels, meta.features, { hidden: r.model.hidden_units, optimizer: r.model.optimizer, lr: fixedLearningRate(r.model.learning_rate), wd: r.model.weight_decay });
  clf.adopt(await loadLayersModel(runDir));
  return clf;
}

const SCHEMA = mergeSchemas(CORE_SCHEMA, KEYS, 'vector_classification', DEFAULTS);

const hooks: TrainRunHooks<VectorRecipe, VectorData, VectorClassifier> = {
  async buildData(ctx) {
    const data = buildVectorData(ctx.recipe, ctx.io.cwd);
    ctx.say(`data: ${data.train.size} train rows, ${data.features.length} features, classes ${data.labels.join(', ')}`);
    return data;
  },
  async buildModule(data, ctx) {
    const m = ctx.recipe.model;
    const clf = new VectorClassifier(data.labels, data.features, { hidden: m.hidden_units, optimizer: m.optimizer, lr: fixedLearningRate(m.learning_rate), wd: m.weight_decay });
    clf.setup();
    return clf;
  },
  metadata: (clf) => ({ labels: clf.labels, features: clf.features }),
  load: loadVectorClassifier,
  hints: (ctx) => [`predict with: ${commandHint(['predict', '--model', { path: ctx.runDir }, '--csv', 'rows.csv'], { cwd: ctx.io.cwd, env: ctx.io.env })}`],
  dispose: (clf) => clf.network().dispose(),
};

interface VectorPredictArgs extends RunCommandArgs {
  model: string;
  csv: string;
  output?: string;
}

/** `flash predict --model RUN --csv rows.csv [--output p.json]`: probabilities per row. */
async function predictVectors(args: VectorPredictArgs): Promise<void> {
  const runDir = resolve(args.io.cwd, args.model);
  const clf = await loadVectorClassifier(runDir);
  try {
    const { rows } = readVectors(resolve(args.io.cwd, args.csv), clf.features, null);
    const probs = tf.tidy(() => (clf.network().predict(tf.tensor2d(rows)) as tf.Tensor).arraySync() as number[][]);
    const preds = probs.map((p, row) => ({ row, label: clf.labels[p.indexOf(Math.max(...p))], probs: p }));
    if (args.output) await writeJsonAtomic(resolve(args.io.cwd, args.output), preds);
    else args.io.out(preds.map((p) => `${p.row}\t${p.label}`).join('\n') + '\n');
  } finally {
    clf.network().dispose();
  }
}

export const vectorClassification: TaskPlugin = {
  name: 'vector_classification',
  description: 'classify rows of numbers (a test-only toy task)',
  keys: KEYS,
  schema: SCHEMA,
  defaults: DEFAULTS,
  registries: {},
  builders: [{ name: 'from_csv', description: 'CSV files of feature columns and a label column', options: ['train_file', 'val_file', 'test_file', 'feature_fields', 'target_field', 'val_split'] }],
  checkRecipe(recipe: Recipe, { at }) {
    const d = (recipe as VectorRecipe).data;
    const problems: string[] = [];
    for (const key of ['train_file', 'feature_fields', 'target_field'] as const) {
      if (d[key] === null) problems.push(`${at(`data.${key}`)}: missing required option '--${key}' for from_csv`);
    }
    return problems;
  },
  train: async (args) => void (await trainRun(hooks, { ...args, recipe: args.recipe as VectorRecipe, schema: SCHEMA })),
  // (A task's train may take extra callbacks from its caller: TrainRunArgs.callbacks.)
  lrFind: async (args) => void (await lrFindRun(hooks, { recipe: args.recipe as VectorRecipe, io: args.io, options: { steps: 100 } })),
  commands: {
    predict: {
      summary: 'probabilities for each row of a CSV',
      usage: ['flash predict --model RUN_DIR --csv rows.csv [--output preds.json]'],
      options: [
        { name: 'model', kind: 'string', description: 'run folder (required)' },
        { name: 'csv', kind: 'string', description: 'CSV with the feature columns (required)' },
        { name: 'output', kind: 'string', description: 'write the predictions to this .json file' },
      ],
      parse(p, ctx) {
        const model = p.str('model');
        const csv = p.str('csv');
        if (model === undefined) p.problems.push("missing required option '--model'");
        if (csv === undefined) p.problems.push("missing required option '--csv'");
        return { model: model!, csv: csv!, output: p.str('output'), io: ctx.io };
      },
      run: (args) => predictVectors(args as VectorPredictArgs),
    },
  },
};
