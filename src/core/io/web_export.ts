/**
 * What every task's `flash export` folder starts from: the run's model.json and weights (checked first, so a
 * damaged file is refused rather than copied into a page that predicts garbage) and the TensorFlow.js bundle that
 * trained it (tf.min.js, no CDN), all written to a temp folder that replaces `out` only when complete.
 */
import { copyFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { FlashUserError } from '../errors.js';
import { writeFileAtomic, writeFolderAtomic } from './atomic.js';
import { verifyLayersModelFiles } from './layers_model.js';

const require = createRequire(import.meta.url);

/**
 * Writes `out` (resolved against `cwd`) from the run folder `model` (as the user gave it): model.json, its weights,
 * tf.min.js, then whatever `fill(tmp)` adds (the task's metadata, JS and page). Returns the resolved `out`.
 */
export async function writeWebExport(args: { model: string; out: string; cwd: string }, fill: (tmp: string) => Promise<void>): Promise<string> {
  const runDir = resolve(args.cwd, args.model);
  const out = resolve(args.cwd, args.out);
  if (out === runDir) throw new FlashUserError(`--out '${args.out}' is the run folder itself; choose another folder`);
  const modelJsonText = await readFile(join(runDir, 'model.json'), 'utf8').catch(() => {
    throw new FlashUserError(`no model.json in '${args.model}'`);
  });
  await verifyLayersModelFiles(runDir);
  const modelJson = JSON.parse(modelJsonText) as { weightsManifest: { paths: string[] }[] };
  await writeFolderAtomic(
    out,
    async (tmp) => {
      await writeFileAtomic(join(tmp, 'model.json'), modelJsonText);
      for (const group of modelJson.weightsManifest) for (const p of group.paths) await copyFile(join(runDir, p), join(tmp, p));
      await copyFile(require.resolve('@tensorflow/tfjs/dist/tf.min.js'), join(tmp, 'tf.min.js'));
      await fill(tmp);
    },
    'write export folder',
  );
  return out;
}
