import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fixedLearningRate, monitorDirection } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import { writeJsonAtomic } from '../../src/core/io/atomic.js';
import { perClassReport } from '../../src/core/metrics/index.js';
import { withSeededRandom } from '../../src/core/random.js';
import { trainRun, type TrainRunHooks, type TrainRunResult } from '../../src/core/run/train_run.js';
import { lrFindRun } from '../../src/core/run/lr_find.js';
import { metricInput, runSplit } from '../../src/core/trainer/evaluate.js';
import type { TrainArgs } from '../types.js';
import { multiLabelMode, multiLabelRun, perLabelTable } from '../classification/multi_label.js';
import { textTable } from '../classification/text_table.js';
import { buildTextData, textBuilders, type TextData } from './data.js';
import { readTokenizer, TextClassifier, TOKENIZER_FILE } from './model.js';
import { withDemoData } from './demo.js';
import { recipeHasNoData, TEXT_SCHEMA, type TextRecipe } from './schema.js';
import { confidentlyWrong, topWords, type TextReport } from './report.js';
import { featureCount } from './tokenizer.js';

/** Inverse-frequency class weights (mean 1) when the largest train class has more than 3x the smallest. */
function classWeights(mode: 'auto' | 'none', counts: number[]): number[] | null {
  const present = counts.filter((n) => n > 0);
  if (mode === 'none' || Math.max(...present) <= 3 * Math.min(...present)) return null;
  const inv = counts.map((n) => (n > 0 ? 1 / n : 0));
  const mean = inv.reduce((a, b) => a + b, 0) / present.length;
  return counts.map((n, c) => (n > 0 ? inv[c] / mean : 1));
}

function textHooks(): TrainRunHooks<TextRecipe, TextData, TextClassifier> {
  let multi = { monitor: 'val_loss', monitorMode: 'auto' as 'auto' | 'max' | 'min' };
  return {
    async beforeData(ctx) {
      if (!ctx.resuming && recipeHasNoData(ctx.recipe.data)) ctx.say('no data given: training on the bundled demo corpus (data/demo/text, support messages in 4 intents)');
    },
    async buildData(ctx) {
      const recipe = withDemoData(ctx.recipe);
      // Resuming: the run's own tokenizer, so the features mean what the saved weights learnt.
      const saved = ctx.resuming && existsSync(join(ctx.runDir, TOKENIZER_FILE)) ? await readTokenizer(ctx.runDir) : undefined;
      const data = await buildTextData({
        builder: textBuilders.get(recipe.data.builder),
        data: recipe.data,
        cwd: ctx.io.cwd,
        multiLabel: multiLabelMode(recipe),
        seed: recipe.trainer.seed,
        strict: recipe.trainer.strict,
        tokenizer: saved,
      });
      for (const n of data.notes) (n.startsWith('warning: ') ? (l: string) => ctx.io.err(`${l}\n`) : ctx.say)(n);
      const counts = `${data.train.size} train, ${data.val?.size ?? 0} val, ${data.test?.size ?? 0} test texts`;
      ctx.say(`data: ${counts}; ${data.labels.length} ${data.multiLabel ? 'labels (multi-label)' : 'classes'}: ${data.labels.slice(0, 12).join(', ')}${data.labels.length > 12 ? ', …' : ''}`);
      const t = data.tokenizer;
      ctx.say(`tokenizer: ${t.config.splitter}, ${t.vocab.length} words (with <unk>), ${t.config.subword_buckets} subword and ${t.config.bigram_buckets} bigram buckets → ${featureCount(t)} features`);
      if (recipe.model.multi_label === 'true' && !data.multiLabel) throw new FlashUserError('--model.multi_label true needs multi-label data');
      multi = multiLabelRun(recipe, data.multiLabel, ctx.say);
      return data;
    },
    async buildModule(data, ctx) {
      const m = ctx.recipe.model;
      const clf = new TextClassifier({
        labels: data.labels,
        tokenizer: data.tokenizer,
        multiLabel: data.multiLabel,
        threshold: m.threshold,
        backbone: m.backbone,
        embeddingDim: m.embedding_dim,
        dropout: m.dropout,
        optimizer: m.optimizer,
        learningRate: fixedLearningRate(m.learning_rate),
        weightDecay: m.weight_decay,
      });
      withSeededRandom(ctx.recipe.trainer.seed, () => clf.setup(data));
      if (!data.multiLabel) {
        clf.classWeights = classWeights(ctx.recipe.data.class_weights, data.train.classCounts());
        if (clf.classWeights) ctx.say(`class weights: inverse class frequency (largest train class > 3x the smallest; --data.class_weights none turns this off)`);
      }
      return clf;
    },
    // Saved beside model.json once the run has started (not in buildModule: a start that fails after it would
    // leave the file behind): predict, evaluate and a later export tokenize with exactly this.
    writeRunFiles: (_clf, data, ctx) => writeJsonAtomic(join(ctx.runDir, TOKENIZER_FILE), data.tokenizer),
    monitor: () => ({ monitor: multi.monitor, mode: monitorDirection(multi.monitor, multi.monitorMode) }),
    metadata: (clf, _data, ctx) => ({ ...clf.metadata(), backbone: ctx.recipe.model.backbone, input_field: ctx.recipe.data.input_field, target_fields: ctx.recipe.data.target_fields }),
    load: (runDir) => TextClassifier.load(runDir),
    async afterRun(ctx, data) {
      const evalSplit = data.test ? { name: 'test', split: data.test } : data.val ? { name: 'val', split: data.val } : undefined;
      if (!evalSplit) return;
      const best = await TextClassifier.load(ctx.runDir);
      try {
        if (data.multiLabel) {
          ctx.say(`per-label metrics (best model, ${evalSplit.name} split, threshold ${best.threshold}):\n${await perLabelTable(best, evalSplit.split, data.batchSize, 'texts')}`);
        } else {
          const out = await runSplit(best, evalSplit.split, data.batchSize, false);
          const input = metricInput(best, out);
          const rows = perClassReport(input, best.labels).map((r) => [r.label, r.precision.toFixed(3), r.recall.toFixed(3), r.f1.toFixed(3), String(r.support)]);
          ctx.say(`per-class metrics (best model, ${evalSplit.name} split):\n${textTable(['class', 'precision', 'recall', 'f1', 'support'], rows)}`.trimEnd());
        }
        const report: TextReport = { split: evalSplit.name, top_words: topWords(best, 20), confidently_wrong: await confidentlyWrong(best, evalSplit.split, 20, data.batchSize) };
        await writeJsonAtomic(join(ctx.runDir, 'report.json'), report);
        ctx.say(`words that weigh most per class:\n${textTable(['class', 'words'], Object.entries(report.top_words).map(([c, ws]) => [c, ws.slice(0, 6).map((w) => w.word).join(' ')]))}`.trimEnd());
        const wrong = report.confidently_wrong.slice(0, 3);
        if (wrong.length) {
          const short = (t: string) => ([...t].length > 60 ? `${[...t].slice(0, 59).join('')}…` : t).replace(/\s+/g, ' ');
          ctx.say(`most confidently wrong (${evalSplit.name}):\n${wrong.map((w) => `  ${w.predicted} ${w.score.toFixed(3)} (is ${w.label}): ${short(w.text)}`).join('\n')}`);
        }
        ctx.say(`report: ${relative(ctx.io.cwd, join(ctx.runDir, 'report.json'))} (top words per class, most confidently wrong texts)`);
      } finally {
        best.dispose();
      }
    },
    hints(ctx) {
      const where = relative(ctx.io.cwd, ctx.runDir) || '.';
      return [`predict with: flash predict --model ${where} --text "some text"   (or --csv rows.csv --output preds.csv)`];
    },
    dispose: (clf) => clf.dispose(),
    dataFolders(recipe, cwd) {
      const d = recipe.data;
      return [d.train_folder, d.val_folder, d.test_folder].filter((f): f is string => f !== null).map((f) => resolve(cwd, f));
    },
  };
}

/** `flash lr_find text_classification …`: the LR finder on the texts and a throwaway classifier. */
export async function findTextLearningRate(args: TrainArgs): Promise<void> {
  await lrFindRun(textHooks(), { recipe: args.recipe as TextRecipe, io: args.io });
}

/** `flash text_classification`: trains a text classifier as the recipe says and writes the run folder. */
export async function trainTextClassifier(args: TrainArgs): Promise<TrainRunResult> {
  return trainRun(textHooks(), { ...args, recipe: args.recipe as TextRecipe, schema: TEXT_SCHEMA });
}
