import * as tf from '@tensorflow/tfjs';
import { readFile, rename, rm, mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlashUserError } from '../errors.js';
import type { EpochLogs } from '../trainer/types.js';
import { fsUserError, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { decodeTensors, encodeTensors, loadLayersModel, saveLayersModel, verifyTensorData, type NamedTensor } from './layers_model.js';

/** What a resumable checkpoint records besides weights. */
export interface CheckpointState {
  /** Completed epochs. */
  epoch: number;
  history: EpochLogs[];
  bestEpoch?: number;
}

/**
 * Writes model, optimizer state and trainer state into `dir` as one unit: everything goes to a fresh sibling
 * folder first, which then replaces `dir`, so a crash leaves the previous checkpoint or the new one whole.
 */
export async function saveCheckpoint(
  dir: string,
  parts: { network: tf.LayersModel; optimizer?: tf.Optimizer; state: CheckpointState },
): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const tmp = join(dirname(dir), `.${basename(dir)}.${tag}.tmp`);
  const old = join(dirname(dir), `.${basename(dir)}.${tag}.old`);
  try {
    await mkdir(tmp, { recursive: true });
    await saveLayersModel(parts.network, tmp);
    if (parts.optimizer) {
      const weights = (await parts.optimizer.getWeights()) as NamedTensor[];
      let encoded: Awaited<ReturnType<typeof encodeTensors>>;
      try {
        encoded = await encodeTensors(weights);
      } finally {
        // tfjs optimizers hand out their step count as a fresh scalar ('iter') beside their own variables.
        tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));
      }
      const { specs, data, sha256 } = encoded;
      await writeFileAtomic(join(tmp, 'optimizer.bin'), data);
      // The sha256 lets a resume refuse a corrupted optimizer.bin instead of training on garbage moments.
      await writeJsonAtomic(join(tmp, 'optimizer.json'), { className: parts.optimizer.getClassName(), specs, sha256 });
    }
    await writeJsonAtomic(join(tmp, 'state.json'), parts.state);
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw fsUserError(err, dir, 'write checkpoint');
  }
}

/** A checkpoint read back: the caller owns the network and the optimizer tensors. */
export interface LoadedCheckpoint {
  network: tf.LayersModel;
  optimizerWeights?: NamedTensor[];
  state: CheckpointState;
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CheckpointState;
  } catch {
    throw new FlashUserError(`no resumable checkpoint in '${dir}' (missing or unreadable state.json)`);
  }
  const network = await loadLayersModel(dir);
  let optimizerWeights: NamedTensor[] | undefined;
  const optJson = await readFile(join(dir, 'optimizer.json'), 'utf8').catch(() => undefined);
  if (optJson !== undefined) {
    const optPath = join(dir, 'optimizer.json');
    const binPath = join(dir, 'optimizer.bin');
    let meta: { specs: tf.io.WeightsManifestEntry[]; sha256?: string };
    try {
      meta = JSON.parse(optJson) as typeof meta;
      if (!Array.isArray(meta.specs)) throw new Error('no specs');
    } catch {
      network.dispose();
      throw new FlashUserError(`optimizer state '${optPath}' is corrupt (not the JSON flash writes); restore it or train anew without --resume`);
    }
    let data: Uint8Array;
    try {
      data = await readFile(binPath);
      verifyTensorData(binPath, meta.specs, data, meta.sha256);
    } catch (err) {
      network.dispose();
      if (err instanceof FlashUserError) throw err;
      throw new FlashUserError(`optimizer state '${binPath}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    optimizerWeights = decodeTensors(meta.specs, data);
  }
  return { network, optimizerWeights, state };
}
