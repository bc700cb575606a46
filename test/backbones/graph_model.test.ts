/**
 * A tfjs graph model (nsfwjs's mobilenet_v2_mid: a TF Hub MobileNetV2 feature vector under a dense head, the
 * format TF Hub / Kaggle feature-vector models come in) given where flash needs a layers model: refused with one
 * line saying what the file is and what flash reads, never tfjs's deserialiser stack trace.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mobilenetV2_100 } from '../../backbones/mobilenet_v2.js';
import { loadBackbone } from '../../backbones/saved.js';
import { loadPretrainedWeights } from '../../backbones/weights.js';
import { selectBackend } from '../../src/core/backend.js';
import { FlashUserError } from '../../src/core/errors.js';
import { isGraphModelJson } from '../../src/core/io/layers_model.js';
import { makeTempDir, removeDir } from '../helpers/images.js';
import { nsfwjsMissing, nsfwjsMobileNetV2, writeNsfwjsGraphModelFolder } from '../helpers/nsfwjs.js';

const skip = nsfwjsMobileNetV2() ? false : `skipped: ${nsfwjsMissing}`;

describe('a tfjs graph model where a layers model is needed', { skip }, () => {
  let tmp: string;
  let folder: string;
  before(async () => {
    await selectBackend('wasm');
    tmp = await makeTempDir('flash-graph-model-');
    folder = join(tmp, 'mobilenet_v2_mid');
    assert.ok(await writeNsfwjsGraphModelFolder(folder));
  });
  after(async () => {
    if (tmp) await removeDir(tmp);
  });

  const refused = (e: unknown) =>
    e instanceof FlashUserError &&
    e.message.startsWith(`'${join(folder, 'model.json')}' is a tfjs graph model`) &&
    /flash loads, trains and copies weights by layer name only from tfjs layers models/.test(e.message) &&
    !e.message.includes('\n');

  it('is recognised as one by its model.json (a layers model is not)', async () => {
    const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    assert.equal(isGraphModelJson(json), true);
    assert.equal(isGraphModelJson({ ...json, format: undefined } as unknown as tf.io.ModelJSON), true, 'a GraphDef topology without the format field');
    assert.equal(isGraphModelJson({ modelTopology: { class_name: 'Functional', config: {} }, weightsManifest: [] } as unknown as tf.io.ModelJSON), false);
  });

  it('--model.pretrained <graph model>: one line, nothing loaded', async () => {
    const backbone = mobilenetV2_100.build({ inputShape: [32, 32, 3] });
    const before = backbone.getWeights().map((w) => Array.from(w.dataSync().slice(0, 4)));
    await assert.rejects(loadPretrainedWeights(backbone, mobilenetV2_100, folder), refused);
    assert.deepEqual(backbone.getWeights().map((w) => Array.from(w.dataSync().slice(0, 4))), before);
    backbone.dispose();
  });

  it('--model.backbone <graph model>: the same line', async () => {
    await assert.rejects(loadBackbone(folder), refused);
  });
});
