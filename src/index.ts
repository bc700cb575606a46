/**
 * flash's programmatic API: the same functions the `flash` CLI calls.
 *
 *   const datamodule = await ImageClassificationData.fromFolders({ trainFolder, valFolder, batchSize: 32 });
 *   const model = new ImageClassifier({ backbone: 'simple_cnn', numClasses: datamodule.numClasses });
 *   const trainer = new Trainer({ maxEpochs: 3, callbacks: [new EarlyStopping({ patience: 3 })] });
 *   await trainer.fit(model, datamodule);
 *   const preds = await trainer.predict(model, ['a.jpg']);
 */
export { Trainer, type TrainerOptions, type FitResult, type Phase, type ResumeState } from './core/trainer/trainer.js';
export type { Callback, Logger, FitContext, EpochLogs, DataSplit, Batch, DataModuleLike, TaskModule } from './core/trainer/types.js';
export { EarlyStopping, ModelCheckpoint, ProgressCallback, Monitor, callbacks } from './core/callbacks/index.js';
export { CsvLogger, loggers } from './core/loggers/index.js';
export { metrics, computeMetrics, confusionMatrix, perClassReport } from './core/metrics/index.js';
export { optimizers, createOptimizer } from './core/optimizers/index.js';
export { strategies } from './core/finetuning/index.js';
export { backends, selectBackend, describeBackend, type BackendChoice, type BackendOptions } from './core/backend.js';
export { Registry } from './core/registry.js';
export { FlashUserError } from './core/errors.js';
export { saveLayersModel, loadLayersModel } from './core/io/layers_model.js';
export { resolveRecipe, defaultRecipe, mergeSchemas, CORE_SCHEMA, loadRecipeFile, recipeToYaml, type Recipe, type Schema } from './core/config/index.js';
export { runCli } from './cli/index.js';
export { train, predict, evaluate, serve, report, compare, exportModel } from './main.js';
export { commandsFor } from './commands/index.js';
export { trainRun, type TrainRunHooks, type RunContext, type TrainRunResult } from './core/run/train_run.js';
export { readRunMeta, taskOfRun, type RunMeta } from './core/run/run_folder.js';
export type { TaskPlugin, TaskCommand, TrainArgs } from '../tasks/types.js';
export { backbones, type BackboneSpec } from '../backbones/index.js';
export { loadBackbone, backboneFromModel, type LoadedBackbone, type UserBackbone } from '../backbones/saved.js';
export { tasks } from '../tasks/index.js';
export { ImageClassifier, type ImageClassifierOptions } from '../tasks/image_classification/model.js';
export { binaryCrossEntropyWithLogits, DEFAULT_METRICS, DEFAULT_MULTI_LABEL_METRICS } from '../tasks/classification/objective.js';
export { ImageClassificationData } from '../tasks/image_classification/data/index.js';
export { trainImageClassifier } from '../tasks/image_classification/train.js';
export { predictFiles, formatPredictions, type Prediction } from '../tasks/image_classification/predict.js';
export { evaluateFolder } from '../tasks/image_classification/evaluate.js';
export { predictCommand, evaluateCommand } from '../tasks/image_classification/commands.js';
export { IMAGE_SCHEMA, defaultImageRecipe, resolveImageRecipe, type ImageRecipe } from '../tasks/image_classification/schema.js';
export { createImageServer, serveCommand, type ImageServerOptions } from '../tasks/image_classification/serve.js';
export { JsonlLogger, TensorBoardLogger, StepMetricsCallback } from './core/loggers/index.js';
export { writeRunReport, reportCommand, compareRuns, compareCommand } from '../tasks/image_classification/report/index.js';
export { checkDataset, checkCommand, checkReportText, type CheckReport } from '../tasks/image_classification/check.js';
export { exportCommand } from '../tasks/image_classification/export/index.js';
export { TextClassificationData, type TextDataOptions, type TextList } from '../tasks/text_classification/api.js';
export { TextClassifier, textModels, type TextClassifierOptions, type TextPrediction } from '../tasks/text_classification/model.js';
export { trainTextClassifier } from '../tasks/text_classification/train.js';
export { predictTexts, evaluateRows, formatTextPredictions } from '../tasks/text_classification/commands.js';
export { fitTokenizer, encode as encodeText, featureCount, type TokenizerConfig, type TokenizerState } from '../tasks/text_classification/tokenizer.js';
