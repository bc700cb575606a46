/**
 * The TypeScript API of the tabular tasks (Flash's `TabularClassificationData.from_csv` / `from_dicts` and
 * `TabularClassifier`): data from CSV files or plain objects, a module the core Trainer fits, and `predict(rows)`.
 *
 *   const data = TabularClassificationData.fromCsv({ trainFile: 'train.csv', target: 'species' });
 *   const model = new TabularClassifier(data);
 *   await new Trainer({ maxEpochs: 30 }).fit(model, data);
 *   model.predict([{ island: 'Dream', bill_length_mm: 40 }]);   // [{ label, score, Adelie, … }]
 */
import { buildTabularData, classCodec, valueCodec, type TabularData, type TargetCodec } from './data.js';
import { predictRows, classificationHead, regressionHead, TabularModule, type TabularModuleOptions } from './model.js';
import { inputLayout } from './encode.js';
import { countsLine, transform } from './preprocess.js';
import { tableFromRecords, type Table } from './table.js';

export interface TabularDataOptions {
  /** The column to predict. */
  target: string;
  categoricalFields?: string[];
  numericalFields?: string[];
  /** Held out of the train rows when there is no val data (default 0.2; 0 = none). */
  valSplit?: number;
  batchSize?: number;
  seed?: number;
  minCategoryCount?: number;
  /** Categories as codes for Embedding layers (default) or one-hot blocks. */
  categoricalEncoding?: 'embedding' | 'onehot';
  /** Make a non-number in a numerical field fatal (default: the row is skipped, said). */
  strict?: boolean;
  /** Where relative paths start (default: the process's working folder). */
  cwd?: string;
  /** Receives the data notes (fields inferred, rows dropped); default: none. */
  log?: (line: string) => void;
}

/** A tabular dataset: splits of feature vectors, the fitted transform, and what the target became. */
export type TabularDataset = TabularData & { targetMeta: Record<string, unknown> };

function build(codec: TargetCodec, o: TabularDataOptions, files: { train: string | null; val?: string; test?: string }, tables?: { train: Table; val?: Table; test?: Table }): TabularDataset {
  const data = buildTabularData(
    {
      train_file: files.train,
      val_file: files.val ?? null,
      test_file: files.test ?? null,
      categorical_fields: o.categoricalFields ?? null,
      numerical_fields: o.numericalFields ?? null,
      min_category_count: o.minCategoryCount ?? 2,
      categorical_encoding: o.categoricalEncoding ?? 'embedding',
      batch_size: o.batchSize ?? 32,
      val_split: o.valSplit ?? 0.2,
    },
    { target: o.target, codec, cwd: o.cwd ?? process.cwd(), seed: o.seed ?? 42, strict: o.strict ?? false, say: o.log ?? (() => undefined), tables },
  );
  return { ...data, targetMeta: codec.meta() };
}

type Rows = Record<string, unknown>[];

function dataClass(codec: () => TargetCodec) {
  return {
    /** From CSV files (trainFile required; valFile and testFile optional). */
    fromCsv(o: TabularDataOptions & { trainFile: string; valFile?: string; testFile?: string }): TabularDataset {
      return build(codec(), o, { train: o.trainFile, val: o.valFile, test: o.testFile });
    },
    /** From arrays of plain objects `{column: value}` (Flash's from_dicts / from_data_frame). */
    fromRecords(train: Rows, o: TabularDataOptions & { val?: Rows; test?: Rows }): TabularDataset {
      const tables = { train: tableFromRecords(train, 'train records'), val: o.val && tableFromRecords(o.val, 'val records'), test: o.test && tableFromRecords(o.test, 'test records') };
      return build(codec(), o, { train: 'records' }, tables);
    },
  };
}

export const TabularClassificationData = dataClass(classCodec);
export const TabularRegressionData = dataClass(valueCodec);

export type TabularModelOptions = Partial<Omit<TabularModuleOptions, 'width' | 'layout'>>;

function moduleOptions(data: TabularDataset, o: TabularModelOptions): TabularModuleOptions {
  return { backbone: 'mlp', hidden: [128, 64], dropout: 0.3, batchNorm: true, optimizer: 'adam', learningRate: 0.01, weightDecay: 0, ...o, width: data.preprocessing.width, layout: inputLayout(data.preprocessing) };
}

/** Shared by the two API models: rows → the saved transform → the saved network. */
abstract class TabularApiModel extends TabularModule {
  constructor(
    readonly data: TabularDataset,
    head: ConstructorParameters<typeof TabularModule>[0],
    o: TabularModelOptions,
  ) {
    super(head, moduleOptions(data, o));
    this.meta = data.targetMeta;
  }
  /** The saved network's raw outputs for plain-object rows, and a line on what was filled in (if anything). */
  protected run(rows: Rows): { out: number[][]; filled?: string } {
    if (!this.built) this.setup();
    const { x, n, counts } = transform(this.data.preprocessing, tableFromRecords(rows, 'rows'));
    return { out: predictRows(this, x, n), filled: countsLine(counts) };
  }
}

/** A classifier of table rows. */
export class TabularClassifier extends TabularApiModel {
  constructor(data: TabularDataset, o: TabularModelOptions = {}) {
    super(data, (self) => classificationHead(data.targetMeta.labels as string[], () => self.classWeights), o);
  }
  get labels(): string[] {
    return this.data.targetMeta.labels as string[];
  }
  /** `{label, score, <class>: probability…}` per row, in order. */
  predict(rows: Rows): Record<string, string | number>[] {
    return this.run(rows).out.map((p) => {
      const best = p.indexOf(Math.max(...p));
      return { label: this.labels[best], score: p[best], ...Object.fromEntries(this.labels.map((l, c) => [l, p[c]])) };
    });
  }
}

/** A regressor of table rows: predictions in the target's units. */
export class TabularRegressor extends TabularApiModel {
  constructor(data: TabularDataset, o: TabularModelOptions = {}) {
    super(data, () => regressionHead(data.targetMeta.target_mean as number, data.targetMeta.target_std as number), o);
  }
  /** One number per row, in order. */
  predict(rows: Rows): number[] {
    return this.run(rows).out.map((p) => p[0]);
  }
}
