/**
 * bench/tabular: flash's tabular models (the default and the other backbones, trained through the real CLI with
 * its defaults) against gradient-boosted trees (Google YDF as wasm, the devDependency `ydf-training`, default
 * hyper-parameters) and a linear model (scikit-learn logistic / ridge regression, bench/tabular_linear.py), on the
 * same train/test split per (table, seed). One JSON line per (table, learner, seed) on stdout, then one summary
 * line per (table, learner) with the seed means.
 *
 *   npm run build && node dist/bench/tabular.js [--seeds 3] [--tables penguins,diabetes] [--learners mlp,gbt]
 *       [--flash_args="--model.dropout 0.2"] [--keep]   (--keep: leave each split's CSVs and runs in its temp folder)
 *
 * Not part of `npm test`. The tables are public and already on the machine (see TABLES); each seed shuffles the
 * rows and holds out 25 % as the test split, written once as CSVs that every learner reads (missing cells
 * empty). flash holds 20 % of its train split out for validation (its default); YDF holds out 10 % for early
 * stopping (its default); the linear model uses all of it. The linear baseline is skipped (said) when
 * /usr/bin/python3 cannot import scikit-learn.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { runCli } from '../src/cli/index.js';
import { computeMetrics } from '../src/core/metrics/index.js';
import { mulberry32 } from '../src/core/random.js';
import { depsFor } from '../src/main.js';
import { tasks } from '../tasks/index.js';
import { readTable } from '../tasks/tabular/table.js';
import { cpuJiffies, CONTENDED_CORES, HZ, intArg, log, round, runBench } from './common.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    tables: { type: 'string' },
    learners: { type: 'string' },
    flash_args: { type: 'string', default: '' },
    python: { type: 'string', default: '/usr/bin/python3' },
    keep: { type: 'boolean', default: false },
  },
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKLEARN = '/usr/lib/python3/dist-packages/sklearn/datasets/data';

type Kind = 'classification' | 'regression';
interface Rows {
  columns: string[];
  rows: string[][];
}
interface BenchTable {
  name: string;
  kind: Kind;
  target: string;
  /** Where it comes from and what was done to it. */
  note: string;
  load(): Rows;
}

const isMissingCell = (v: string) => v === '' || v === 'NA';

/** A headerless numeric CSV of scikit-learn's (its first line is `n,features,class names…`). */
function sklearnCsv(file: string, features: string[], target: string, classNames?: string[]): Rows {
  const lines = readFileSync(join(SKLEARN, file), 'utf8').trim().split('\n').slice(1);
  return {
    columns: [...features, target],
    rows: lines.map((l) => {
      const cells = l.split(',');
      const y = cells[features.length];
      return [...cells.slice(0, features.length), classNames ? classNames[Number(y)] : y];
    }),
  };
}

const TABLES: BenchTable[] = [
  {
    name: 'penguins',
    kind: 'classification',
    target: 'species',
    note: 'Palmer penguins (the bundled demo, 344 rows): species from island, sex (categoricals) and 5 numbers, NAs',
    load: () => readTable(join(ROOT, 'data/demo/penguins/penguins.csv')),
  },
  {
    name: 'penguins_mass',
    kind: 'regression',
    target: 'body_mass_g',
    note: 'Palmer penguins body_mass_g from species, island, sex and 4 numbers (the 2 rows without a mass dropped), NAs',
    load: () => {
      const t = readTable(join(ROOT, 'data/demo/penguins/penguins.csv'));
      const c = t.columns.indexOf('body_mass_g');
      return { columns: t.columns, rows: t.rows.filter((r) => !isMissingCell(r[c])) };
    },
  },
  {
    name: 'wine',
    kind: 'classification',
    target: 'cultivar',
    note: 'UCI wine (scikit-learn copy, 178 rows, 13 numbers, 3 classes)',
    load: () =>
      sklearnCsv(
        'wine_data.csv',
        ['alcohol', 'malic_acid', 'ash', 'alcalinity', 'magnesium', 'phenols', 'flavanoids', 'nonflavanoid', 'proanthocyanins', 'color', 'hue', 'od280', 'proline'],
        'cultivar',
        ['class_0', 'class_1', 'class_2'],
      ),
  },
  {
    name: 'breast_cancer_imb',
    kind: 'classification',
    target: 'diagnosis',
    note: 'UCI breast cancer (scikit-learn copy, 30 numbers) made imbalanced: every 5th malignant row kept (43 malignant vs 357 benign, 1:8.3)',
    load: () => {
      const feats = Array.from({ length: 30 }, (_, i) => `f${i + 1}`);
      const t = sklearnCsv('breast_cancer.csv', feats, 'diagnosis', ['malignant', 'benign']);
      let m = 0;
      return { columns: t.columns, rows: t.rows.filter((r) => r[30] !== 'malignant' || m++ % 5 === 0) };
    },
  },
  {
    name: 'digits',
    kind: 'classification',
    target: 'digit',
    note: 'UCI optical digits (scikit-learn copy, 1797 rows): the digit from 64 pixel counts 0-16, 10 classes',
    load: () => {
      const lines = gunzipSync(readFileSync(join(SKLEARN, 'digits.csv.gz'))).toString('utf8').trim().split('\n');
      return {
        columns: [...Array.from({ length: 64 }, (_, i) => `p${i}`), 'digit'],
        rows: lines.map((l) => {
          const c = l.split(',');
          return [...c.slice(0, 64), `d${c[64]}`];
        }),
      };
    },
  },
  {
    name: 'diabetes',
    kind: 'regression',
    target: 'progression',
    note: 'Efron et al. diabetes (scikit-learn raw copy, 442 rows): disease progression from age, sex and 8 measurements',
    load: () => {
      const x = gunzipSync(readFileSync(join(SKLEARN, 'diabetes_data_raw.csv.gz'))).toString('utf8').trim().split('\n');
      const y = gunzipSync(readFileSync(join(SKLEARN, 'diabetes_target.csv.gz'))).toString('utf8').trim().split('\n');
      return {
        columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6', 'progression'],
        rows: x.map((l, i) => [...l.trim().split(/\s+/), String(Number(y[i]))]),
      };
    },
  },
];

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function writeCsv(path: string, t: Rows, rows: string[][]): void {
  writeFileSync(path, [t.columns, ...rows].map((r) => r.map((v) => csvCell(isMissingCell(v) ? '' : v)).join(',')).join('\n') + '\n');
}

/** A seeded shuffle, 25 % test. */
function split(rows: string[][], seed: number): { train: string[][]; test: string[][] } {
  const r = mulberry32(seed * 7919 + 1);
  const idx = rows.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const nTest = Math.round(rows.length * 0.25);
  return { test: idx.slice(0, nTest).map((i) => rows[i]), train: idx.slice(nTest).map((i) => rows[i]) };
}

interface Scored {
  [metric: string]: number;
}

function scoreClasses(probs: number[][], classes: string[], truth: string[]): Scored {
  const labels = Int32Array.from(truth.map((t) => classes.indexOf(t)));
  if (labels.some((l) => l < 0)) throw new Error(`a test class is not among the learner's classes ${classes.join(', ')}`);
  const m = computeMetrics({ probs: Float32Array.from(probs.flat()), labels, numClasses: classes.length }, ['accuracy', 'f1_macro']);
  return { accuracy: round(m.accuracy * 100, 2), f1_macro: round(m.f1_macro * 100, 2) };
}

function scoreValues(pred: number[], truth: number[]): Scored {
  const n = truth.length;
  const mean = truth.reduce((s, v) => s + v, 0) / n;
  let se = 0;
  let ae = 0;
  let st = 0;
  truth.forEach((t, i) => {
    se += (pred[i] - t) ** 2;
    ae += Math.abs(pred[i] - t);
    st += (t - mean) ** 2;
  });
  return { rmse: round(Math.sqrt(se / n), 3), mae: round(ae / n, 3), r2: round(1 - se / st, 4) };
}

interface Split {
  dir: string;
  trainFile: string;
  testFile: string;
  table: BenchTable;
  truth: string[];
  seed: number;
}

async function cli(argv: string[], cwd: string): Promise<void> {
  const err: string[] = [];
  const io = { out: () => undefined, err: (t: string) => void err.push(t), isTTY: false, cwd, env: { FLASH_CACHE_DIR: join(cwd, '.cache') } };
  const code = await runCli(argv, depsFor(tasks, io));
  if (code !== 0) throw new Error(`flash ${argv.join(' ')} failed (${code}):\n${err.join('')}`);
}

/** A flash backbone through the CLI with its defaults: train on the train CSV, then `flash predict` the test CSV. */
async function flashLearner(backbone: string, s: Split, options: string[] = []): Promise<Scored> {
  const task = s.table.kind === 'classification' ? 'tabular_classification' : 'tabular_regression';
  const targetKey = s.table.kind === 'classification' ? '--target_fields' : '--target_field';
  const run = join(s.dir, `run-${backbone}${options.length ? '-alt' : ''}`);
  const extra = [...options, ...values.flash_args!.split(/\s+/).filter(Boolean)];
  const t0 = performance.now();
  await cli([task, 'from_csv', '--train_file', s.trainFile, targetKey, s.table.target, '--model.backbone', backbone, '--trainer.seed', String(s.seed), '--output_dir', run, '--trainer.quiet', 'true', ...extra], s.dir);
  const trainS = (performance.now() - t0) / 1000;
  const out = join(s.dir, `preds-${backbone}${options.length ? '-alt' : ''}.json`);
  await cli(['predict', '--model', run, '--csv', s.testFile, '--output', out], s.dir);
  const preds = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number | string>[];
  const meta = JSON.parse(readFileSync(join(run, 'flash.json'), 'utf8')) as { labels?: string[]; stopped_epoch?: number };
  const score =
    s.table.kind === 'classification'
      ? scoreClasses(preds.map((p) => meta.labels!.map((l) => Number(p[l]))), meta.labels!, s.truth)
      : scoreValues(preds.map((p) => Number(p.prediction)), s.truth.map(Number));
  return { ...score, train_s: round(trainS, 2) };
}

type Ydf = { GradientBoostedTreesLearner: new (label: string, task: string) => { train(csv: string): YdfModel } };
type YdfModel = { predict(csv: string): number[]; getLabelClasses(): string[]; unload(): void };
let ydf: Ydf | undefined;

/** YDF gradient-boosted trees with its defaults (300 trees, depth 6, 10 % early-stopping holdout). */
async function gbtLearner(s: Split): Promise<Scored> {
  if (!ydf) {
    const load = createRequire(import.meta.url)('ydf-training') as () => Promise<Ydf>;
    ydf = await load();
  }
  const train = readFileSync(s.trainFile, 'utf8');
  const test = readFileSync(s.testFile, 'utf8');
  const t0 = performance.now();
  // YDF prints 'Model trained in …' with console.log: routed to stderr so stdout stays JSON lines.
  const print = console.log;
  console.log = (...a: unknown[]) => log(a.map(String).join(' '));
  let model: YdfModel;
  try {
    model = new ydf.GradientBoostedTreesLearner(s.table.target, s.table.kind === 'classification' ? 'CLASSIFICATION' : 'REGRESSION').train(train);
  } finally {
    console.log = print;
  }
  const trainS = (performance.now() - t0) / 1000;
  const flat = model.predict(test);
  let score: Scored;
  if (s.table.kind === 'classification') {
    // YDF orders the classes by train frequency, not alphabetically: the rows are read with its own class list.
    const classes = model.getLabelClasses();
    if (s.seed === 1) log(`ydf class order on ${s.table.name}: ${classes.join(', ')}`);
    const k = classes.length;
    // Binary: one number per row, the probability of the second class in that list (checked on a toy table).
    const probs = s.truth.map((_, i) => (k === 2 && flat.length === s.truth.length ? [1 - flat[i], flat[i]] : Array.from(flat.slice(i * k, (i + 1) * k))));
    score = scoreClasses(probs, classes, s.truth);
  } else score = scoreValues(Array.from(flat), s.truth.map(Number));
  model.unload();
  return { ...score, train_s: round(trainS, 2) };
}

let sklearnOk: boolean | undefined;

/** scikit-learn logistic / ridge regression in a subprocess (its own timing of fit). */
function linearLearner(s: Split): Scored | string {
  sklearnOk ??= spawnSync(values.python!, ['-c', 'import sklearn, numpy'], { stdio: 'ignore' }).status === 0;
  if (!sklearnOk) return `${values.python} cannot import scikit-learn`;
  const script = join(ROOT, 'bench/tabular_linear.py');
  const r = spawnSync(values.python!, [script, s.trainFile, s.testFile, s.table.target, s.table.kind], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tabular_linear.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { train_s: number; classes?: string[]; predictions: number[][] | number[] };
  const score = s.table.kind === 'classification' ? scoreClasses(out.predictions as number[][], out.classes!, s.truth) : scoreValues(out.predictions as number[], s.truth.map(Number));
  return { ...score, train_s: round(out.train_s, 2) };
}

const LEARNERS: Record<string, (s: Split) => Promise<Scored | string> | Scored | string> = {
  mlp: (s) => flashLearner('mlp', s),
  // The default with one-hot blocks instead of embeddings (the A/B of the categorical encoding).
  mlp_onehot: (s) => flashLearner('mlp', s, ['--data.categorical_encoding', 'onehot']),
  resmlp: (s) => flashLearner('resmlp', s),
  linear: (s) => flashLearner('linear', s),
  gbt: gbtLearner,
  sklearn_linear: linearLearner,
};

runBench(async () => {
  const seeds = intArg('seeds', values.seeds, 3);
  const wanted = values.tables?.split(',') ?? TABLES.map((t) => t.name);
  const learners = values.learners?.split(',') ?? Object.keys(LEARNERS);
  for (const l of learners) if (!LEARNERS[l]) throw new Error(`unknown learner '${l}'; learners: ${Object.keys(LEARNERS).join(', ')}`);
  const results = new Map<string, Scored[]>();
  for (const table of TABLES.filter((t) => wanted.includes(t.name))) {
    const rows = table.load();
    log(`${table.name}: ${table.note}`);
    for (let seed = 1; seed <= seeds; seed++) {
      const dir = mkdtempSync(join(tmpdir(), `flash-bench-tabular-${table.name}-`));
      try {
        const { train, test } = split(rows.rows, seed);
        const s: Split = { dir, table, seed, trainFile: join(dir, 'train.csv'), testFile: join(dir, 'test.csv'), truth: test.map((r) => r[rows.columns.indexOf(table.target)]) };
        writeCsv(s.trainFile, rows, train);
        writeCsv(s.testFile, rows, test);
        for (const learner of learners) {
          const [busy0, self0] = cpuJiffies();
          const t0 = performance.now();
          const r = await LEARNERS[learner](s);
          const wall = (performance.now() - t0) / 1000;
          const [busy1, self1] = cpuJiffies();
          if (typeof r === 'string') {
            log(`${learner}: skipped (${r})`);
            continue;
          }
          // Other processes' CPU over this learner's run (the linear one runs in a child: counted as other).
          const others = Math.max(0, (busy1 - busy0 - (self1 - self0)) / HZ / wall);
          const line = { bench: 'tabular', table: table.name, kind: table.kind, learner, seed, train_rows: train.length, test_rows: test.length, ...r, contended: others > CONTENDED_CORES };
          process.stdout.write(`${JSON.stringify(line)}\n`);
          const key = `${table.name}\t${learner}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      } finally {
        if (values.keep) log(`kept ${dir} (--keep)`);
        else rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  for (const [key, rs] of results) {
    const [table, learner] = key.split('\t');
    const mean: Scored = {};
    for (const k of Object.keys(rs[0])) mean[k] = round(rs.reduce((s, r) => s + r[k], 0) / rs.length, 3);
    const sd: Scored = {};
    const main = 'accuracy' in rs[0] ? 'accuracy' : 'rmse';
    sd[`${main}_sd`] = round(Math.sqrt(rs.reduce((s, r) => s + (r[main] - mean[main]) ** 2, 0) / Math.max(1, rs.length - 1)), 3);
    process.stdout.write(`${JSON.stringify({ bench: 'tabular', summary: true, table, learner, seeds: rs.length, ...mean, ...sd })}\n`);
  }
});
