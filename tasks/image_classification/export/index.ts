import { basename, join, resolve } from 'node:path';
import type { TaskIO as CliIO } from '../../../src/core/task_io.js';
import { writeFileAtomic, writeJsonAtomic } from '../../../src/core/io/atomic.js';
import { writeWebExport } from '../../../src/core/io/web_export.js';
import { shownPath } from '../../../src/core/hints.js';
import { readFlashJson } from '../model.js';
import { CLASSIFIER_MODULE, INDEX_HTML } from './web_files.js';
import { DEFAULT_THRESHOLD } from '../../classification/schema.js';

export interface ExportArgs {
  /** Run folder to export. */
  model: string;
  /** Folder to create (replaced as a whole if it exists). */
  out: string;
  io: CliIO;
}


/**
 * `flash export`: a folder a web developer drops into a page — model.json + weights, metadata.json (labels, input
 * size, preprocessing, versions), tf.min.js (the same TensorFlow.js version that trained it), classifier.js (an ES
 * module: `loadClassifier()` → `classify(img)`) and index.html using it. Written to a temp folder, then renamed.
 */
export async function exportCommand(args: ExportArgs): Promise<string> {
  const { io } = args;
  const runDir = resolve(io.cwd, args.model);
  const meta = await readFlashJson(runDir);
  const out = await writeWebExport({ model: args.model, out: args.out, cwd: io.cwd }, async (tmp) => {
    await writeJsonAtomic(join(tmp, 'metadata.json'), {
      task: meta.task,
      labels: meta.labels,
      multi_label: meta.multi_label ?? false,
      ...(meta.multi_label ? { threshold: meta.threshold ?? DEFAULT_THRESHOLD } : {}),
      input: meta.input,
      preprocessing:
        'flatten transparency onto white, resize to input.width × input.height (squash, no crop), ' +
        (meta.input.channels === 1 ? 'grayscale' : 'RGB') +
        ', raw 0–255 pixels as float32 NHWC; scaling and normalisation are layers inside the model; output = ' +
        (meta.multi_label ? 'one independent (sigmoid) probability per label, in label order; a label is predicted at probability >= threshold' : 'class probabilities in label order'),
      backbone: meta.backbone,
      metrics: meta.metrics,
      versions: meta.versions,
    });
    await writeFileAtomic(join(tmp, 'classifier.js'), CLASSIFIER_MODULE);
    await writeFileAtomic(join(tmp, 'index.html'), INDEX_HTML);
  });
  // The folder as the user gave it; the import is relative to a page beside the folder (a path from the cwd,
  // such as './../web/classifier.js', means nothing to a browser).
  const where = shownPath({ path: out, given: args.out }, io.cwd).replace(/\/+$/, '');
  io.out(`exported ${meta.labels.length}-class model to ${where}/ (model.json, metadata.json, classifier.js, index.html, tf.min.js)\n`);
  io.out(`serve that folder over HTTP and open index.html, or from a page next to it: import { loadClassifier } from './${basename(out)}/classifier.js'\n`);
  return out;
}
