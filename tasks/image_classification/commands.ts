import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { describeBackend, selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { writeJsonAtomic } from '../../src/core/io/atomic.js';
import type { EvaluateArgs, PredictArgs } from './cli.js';
import { listImageFiles } from './data/index.js';
import { evaluateCsv, evaluateFolder, evaluationText, type EvaluationResult } from './evaluate.js';
import { ImageClassifier, readFlashJson } from './model.js';
import { predictFiles, predictionTable, writePredictions, type Prediction } from './predict.js';
import { rowsOfKept, selectShard } from '../../src/core/shard/shard.js';

/** Each file named on the command line exists and is a file, or a user error naming the first that isn't. */
async function assertFilesExist(given: string[], cwd: string): Promise<void> {
  for (const f of given) {
    const st = await stat(resolve(cwd, f)).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      throw new FlashUserError(`--files: '${f}' ${st.code === 'ENOENT' || st.code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${st.code ?? st.message})`}`);
    }
    if (!st.isFile()) throw new FlashUserError(`--files: '${f}' is not a file${st.isDirectory() ? ' (give a folder with --folder)' : ''}`);
  }
}

/** `flash predict`: loads a run's model and predicts files or a folder; a table, or a file with --output. */
export async function predictCommand(args: PredictArgs): Promise<Prediction[]> {
  const { io } = args;
  const files = [...(args.files ?? []).map((f) => resolve(io.cwd, f))];
  if (args.folder) files.push(...(await listImageFiles(resolve(io.cwd, args.folder))));
  if (files.length === 0) throw new FlashUserError('nothing to predict: give --files a.jpg … or --folder DIR');
  const backend = await selectBackend(args.backend);
  io.err(`${describeBackend(backend)}\n`);
  const model = await ImageClassifier.load(resolve(io.cwd, args.model));
  if (args.threshold !== undefined && !model.multiLabel) {
    io.err(`note: --threshold applies to multi-label models; '${args.model}' predicts one class per image\n`);
  }
  try {
    // A file the user named is expected to be there: a typo is an error, not a skipped line and exit 0.
    await assertFilesExist(args.files ?? [], io.cwd);
    // --shard i/n: a contiguous range of the files in order (the folder's sorted); its rows carry their input row.
    const picked = selectShard(files, args.shard);
    const preds = await predictFiles(model, picked.items, { topK: args.topK, threshold: args.threshold, batchSize: args.batchSize, onWarning: (m) => io.err(`warning: ${m}\n`) });
    const rows = args.shard ? rowsOfKept(picked, preds.map((p) => p.file)) : undefined;
    if (args.output) {
      const path = await writePredictions(args.output, preds, model.labels, io.cwd, rows);
      io.out(`wrote ${preds.length} predictions to ${relative(io.cwd, path)}\n`);
    } else {
      io.out(predictionTable(preds, (f) => relative(io.cwd, f)));
    }
    return preds;
  } finally {
    model.network().dispose();
  }
}

/** `flash evaluate`: accuracy, macro F1, AUROC and a per-class table on a labelled folder. */
export async function evaluateCommand(args: EvaluateArgs): Promise<EvaluationResult> {
  const { io } = args;
  const backend = await selectBackend(args.backend);
  io.err(`${describeBackend(backend)}\n`);
  const model = await ImageClassifier.load(resolve(io.cwd, args.model));
  try {
    const options = { batchSize: args.batchSize, onWarning: (m: string) => io.err(`warning: ${m}\n`) };
    let result: EvaluationResult;
    if (args.csv !== undefined) {
      // The run's own CSV columns unless given: a test CSV usually has the train CSV's layout.
      const data = (await readFlashJson(resolve(io.cwd, args.model))).recipe?.data;
      const inputField = args.inputField ?? data?.input_field ?? undefined;
      const targetFields = args.targetFields ?? data?.target_fields ?? undefined;
      if (!inputField || !targetFields) {
        throw new FlashUserError(`--csv: give --input_field and --target_fields (run '${args.model}' was not trained from a CSV)`);
      }
      result = await evaluateCsv(model, resolve(io.cwd, args.csv), { inputField, targetFields }, { ...options, imagesRoot: args.imagesRoot && resolve(io.cwd, args.imagesRoot) });
    } else {
      result = await evaluateFolder(model, resolve(io.cwd, args.folder!), options);
    }
    io.out(evaluationText(result));
    if (args.output) await writeJsonAtomic(resolve(io.cwd, args.output), result);
    return result;
  } finally {
    model.network().dispose();
  }
}
