/**
 * A tabular task's run: the core lifecycle (`trainRun`) with the hooks that build the table data and the tabular
 * module, save the transform in flash.json and load it back. The two tabular tasks differ only in a `TabularKind`.
 */
import { fixedLearningRate, monitorDirection, type Recipe, type RecipeOf } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { loadLayersModel } from '../../src/core/io/layers_model.js';
import { metrics } from '../../src/core/metrics/index.js';
import { readRunMeta, type RunMeta } from '../../src/core/run/run_folder.js';
import { trainRun, type RunContext, type TrainRunHooks } from '../../src/core/run/train_run.js';
import { lrFindRun } from '../../src/core/run/lr_find.js';
import { chooseClassWeights, IMBALANCE_RATIO } from '../classification/class_weights.js';
import type { TrainArgs } from '../types.js';
import { buildTabularData, classCodec, shown, valueCodec, type TabularData, type TabularDataKeys, type TargetCodec } from './data.js';
import type { FieldChoice } from './infer.js';
import { inputLayout } from './encode.js';
import { checkPreprocessing, type Preprocessing } from './preprocess.js';
import { classificationHead, regressionHead, TabularModule, type TabularHead } from './model.js';
import type { TabularModelRecipe } from './schema.js';

/** A tabular recipe as the shared code reads it (each task adds its target key and maybe class_weights). */
export type TabularRecipe = RecipeOf<TabularModelRecipe, TabularDataKeys & { target_fields?: string[] | null; target_field?: string | null; class_weights?: 'auto' | 'none' }>;

/** What flash.json keeps for a tabular run (beside the core's part). */
export interface TabularMeta extends RunMeta {
  target: string;
  preprocessing: Preprocessing;
  fields: FieldChoice;
  /** Classification. */
  labels?: string[];
  /** Regression: the train target's mean and std. */
  target_mean?: number;
  target_std?: number;
}

/** How the two tabular tasks differ. */
export interface TabularKind {
  task: 'tabular_classification' | 'tabular_regression';
  /** The demo's target when no train_file is given. */
  demoTarget: string;
  /** The recipe's target column, or null. */
  target(recipe: TabularRecipe): string | null;
  codec(): TargetCodec;
  /** The head, from a fitted codec's metadata (train) or flash.json (load). */
  head(meta: Record<string, unknown>, classWeights: () => number[] | null): TabularHead;
}

export const CLASSIFICATION_KIND: TabularKind = {
  task: 'tabular_classification',
  demoTarget: 'species',
  target: (r) => r.data.target_fields?.[0] ?? null,
  codec: classCodec,
  head: (m, w) => classificationHead(m.labels as string[], w),
};

export const REGRESSION_KIND: TabularKind = {
  task: 'tabular_regression',
  demoTarget: 'body_mass_g',
  target: (r) => r.data.target_field ?? null,
  codec: valueCodec,
  head: (m) => regressionHead(m.target_mean as number, m.target_std as number),
};

function moduleFor(kind: TabularKind, recipe: TabularRecipe, p: Preprocessing, meta: Record<string, unknown>): TabularModule {
  const m = recipe.model;
  const module = new TabularModule((self) => kind.head(meta, () => self.classWeights), {
    backbone: m.backbone,
    hidden: m.hidden_units,
    dropout: m.dropout,
    batchNorm: m.batch_norm,
    width: p.width,
    layout: inputLayout(p),
    optimizer: m.optimizer,
    learningRate: fixedLearningRate(m.learning_rate),
    weightDecay: m.weight_decay,
  });
  module.meta = kind.task === 'tabular_classification' ? { labels: meta.labels } : { target_mean: meta.target_mean, target_std: meta.target_std };
  return module;
}

/** Loads a tabular run's model and its saved transform. */
export async function loadTabular(runDir: string, kind?: TabularKind): Promise<{ module: TabularModule; meta: TabularMeta }> {
  const meta = await readRunMeta<TabularMeta>(runDir);
  const k = kind ?? (meta.task === REGRESSION_KIND.task ? REGRESSION_KIND : CLASSIFICATION_KIND);
  const prep = checkPreprocessing(meta.preprocessing, runDir);
  const module = moduleFor(k, meta.recipe as TabularRecipe, prep, meta as unknown as Record<string, unknown>);
  module.adopt(await loadLayersModel(runDir));
  return { module, meta };
}

function hooksFor(kind: TabularKind): TrainRunHooks<TabularRecipe, TabularData & { codecMeta: Record<string, unknown> }, TabularModule> {
  return {
    async buildData(ctx) {
      const { recipe, io } = ctx;
      const d = recipe.data;
      const target = kind.target(recipe) ?? kind.demoTarget;
      if (d.train_file === null) ctx.say(`no data given: the bundled Palmer penguins table (data/demo/penguins, CC0), predicting '${target}'`);
      let saved: { preprocessing: Preprocessing; fields: FieldChoice } | undefined;
      let savedMeta: TabularMeta | undefined;
      if (ctx.resuming) {
        // Resume continues with the transform the run was trained with, not one refitted on today's file.
        savedMeta = await readRunMeta<TabularMeta>(ctx.runDir);
        saved = { preprocessing: checkPreprocessing(savedMeta.preprocessing, ctx.runDir), fields: savedMeta.fields };
      }
      const codec = kind.codec();
      const data = buildTabularData(d, { target, codec, cwd: io.cwd, seed: recipe.trainer.seed, strict: recipe.trainer.strict, say: ctx.say, saved });
      const codecMeta = codec.meta();
      if (savedMeta) for (const k of Object.keys(codecMeta)) codecMeta[k] = (savedMeta as unknown as Record<string, unknown>)[k];
      const p = data.preprocessing;
      ctx.say(
        `data: ${data.train.size} train, ${data.val?.size ?? 0} val, ${data.test?.size ?? 0} test rows; ${p.numerical.length} numerical + ${p.categorical.length} categorical columns → ${p.width} features` +
          ('labels' in codecMeta ? `; classes ${(codecMeta.labels as string[]).join(', ')}` : `; target '${target}' mean ${(codecMeta.target_mean as number).toPrecision(5)}, std ${(codecMeta.target_std as number).toPrecision(5)}`),
      );
      return { ...data, codecMeta };
    },
    async buildModule(data, ctx) {
      const module = moduleFor(kind, ctx.recipe, data.preprocessing, data.codecMeta);
      module.setup();
      if (kind.task === 'tabular_classification') {
        const labels = data.codecMeta.labels as string[];
        const counts = labels.map(() => 0);
        for (const y of data.train.y) counts[y]++;
        const choice = chooseClassWeights(ctx.recipe.data.class_weights ?? 'auto', counts, labels, 'rows');
        module.classWeights = choice.weights;
        if (choice.weights || choice.ratio > IMBALANCE_RATIO) ctx.say(choice.message);
      }
      return module;
    },
    monitor(_data, ctx) {
      const { monitor, monitor_mode: mode } = ctx.recipe.trainer;
      // The core's 'auto' reads only the name (min for *loss); a regression error like val_rmse must go down.
      const name = monitor.replace(/^(train|val)_/, '');
      if (mode === 'auto' && metrics.has(name)) return { monitor, mode: metrics.get(name).higherIsBetter ? 'max' : 'min' };
      return { monitor, mode: monitorDirection(monitor, mode) };
    },
    metadata: (module, data) => ({ target: data.target, preprocessing: data.preprocessing, fields: data.fields, ...module.meta }),
    load: async (runDir) => (await loadTabular(runDir, kind)).module,
    async afterRun(ctx, data) {
      // The report reads the saved best model, the one a user will load.
      const { writeTabularReport } = await import('./report.js');
      const best = (await loadTabular(ctx.runDir, kind)).module;
      try {
        const { lines } = await writeTabularReport(ctx.runDir, best, data.preprocessing, { val: data.val, test: data.test }, data.target, ctx.recipe.trainer.seed);
        lines.forEach(ctx.say);
      } finally {
        best.dispose();
      }
    },
    hints: (ctx) => {
      const run = shown(ctx.runDir, ctx.io.cwd);
      return [`predict with: flash predict --model ${run} --csv rows.csv [--output preds.csv]`, `evaluate with: flash evaluate --model ${run} --csv test.csv`];
    },
    dispose: (module) => module.dispose(),
    dataFolders: () => [],
  };
}

/** `flash tabular_classification` / `flash tabular_regression`. */
export async function trainTabular(kind: TabularKind, args: TrainArgs, schema: import('../../src/core/config/index.js').Schema): Promise<void> {
  const recipe = args.recipe as Recipe as TabularRecipe;
  if (recipe.data.builder !== 'from_csv') throw new FlashUserError(`unknown builder '${recipe.data.builder}' for ${kind.task}; use from_csv`);
  await trainRun(hooksFor(kind), { ...args, recipe, schema });
}

/** `flash lr_find tabular_*`: the LR finder on the table and a throwaway model. */
export async function findTabularLearningRate(kind: TabularKind, args: TrainArgs): Promise<void> {
  await lrFindRun(hooksFor(kind), { recipe: args.recipe as Recipe as TabularRecipe, io: args.io });
}

export type { RunContext };
