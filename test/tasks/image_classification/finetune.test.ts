/**
 * Finetuning through trainImageClassifier (what `flash image_classification` runs): a saved run as
 * `--model.backbone runs/A`, the default strategy, the lines the run prints, `--model.pretrained <path>`,
 * the mlp head and the errors for a mismatched input.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { defaultRecipe, loadRecipeFile, type Recipe } from '../../../src/core/config/index.js';
import { FROZEN_HEAD_LEARNING_RATE } from '../../../src/core/finetuning/index.js';
import { readFile } from 'node:fs/promises';
import { selectBackend } from '../../../src/core/backend.js';
import { FlashUserError } from '../../../src/core/errors.js';
import { loadLayersModel } from '../../../src/core/io/layers_model.js';
import { ImageClassifier } from '../../../tasks/image_classification/model.js';
import { trainImageClassifier } from '../../../tasks/image_classification/train.js';
import { makeShapeDataset, makeTempDir, removeDir, type ShapeDataset } from '../../helpers/images.js';
import { defaultImageRecipe, type ImageRecipe } from '../../../tasks/image_classification/schema.js';

let tmp: string;
let ds: ShapeDataset;
let runA: string;
before(async () => {
  await selectBackend('wasm');
  tmp = await makeTempDir();
  ds = await makeShapeDataset(path.join(tmp, 'shapes'), { perClass: 10, minSize: 16, maxSize: 24, seed: 9 });
  runA = (await train({ output_dir: 'runs/A' }, { image_size: 16 })).runDir;
});
after(async () => {
  await removeDir(tmp);
});

async function train(trainer: Partial<ImageRecipe['trainer']>, data: Partial<ImageRecipe['data']> = {}, model: Partial<ImageRecipe['model']> = {}, finetune: Partial<ImageRecipe['finetune']> = {}, resume?: string) {
  const recipe = defaultImageRecipe();
  Object.assign(recipe.trainer, { max_epochs: 2, backend: 'wasm', quiet: true, ...trainer });
  Object.assign(recipe.data, { folder: ds.root, batch_size: 16, ...data });
  Object.assign(recipe.model, model);
  Object.assign(recipe.finetune, finetune);
  const out: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), isTTY: false, cwd: tmp, env: {} };
  const result = await trainImageClassifier({ recipe, io, resume });
  return { ...result, text: out.join('') };
}

const backboneWeights = async (dir: string) => {
  const net = await loadLayersModel(dir);
  const w = (net.getLayer('backbone') as unknown as tf.LayersModel).getWeights().map((t) => Array.from(t.dataSync()));
  net.dispose();
  return w;
};

test('--model.backbone runs/A: the saved backbone under a new mlp head, frozen by default, weights unchanged', async () => {
  const r = await train({ output_dir: 'runs/B' }, {}, { backbone: 'runs/A', head: 'mlp' });
  assert.match(r.text, /backbone: saved flash backbone from .*runs[\\/]A \(simple_cnn\), 16×16×3, 1024 features/);
  assert.match(r.text, /finetuning: freeze \(default for a pretrained or saved backbone\), 2 backbone layer groups/);
  assert.match(r.text, /trainable: head \+ 0\/2 backbone layer groups/);
  assert.match(r.text, /frozen: 2\/2 backbone layer groups \(conv1, conv2\)/);
  assert.deepEqual(await backboneWeights(r.runDir), await backboneWeights(runA));
  const b = await ImageClassifier.load(r.runDir);
  assert.ok(b.network().getLayer('head_hidden'), 'mlp head');
  assert.deepEqual(b.spec, { height: 16, width: 16, channels: 3 });
  b.network().dispose();
});

test('a frozen saved backbone with train_bn and the learning rate unset: their frozen-backbone defaults, said in one line and recorded', async () => {
  const r = await train({ output_dir: 'runs/frozen_defaults', max_epochs: 1 }, { augment: false }, { backbone: 'runs/A' });
  const lines = r.text.split('\n').filter((l) => l.startsWith('defaults for a frozen pretrained or saved backbone:'));
  assert.equal(lines.length, 1, r.text);
  assert.match(lines[0], new RegExp(`finetune\\.train_bn false .*model\\.learning_rate ${FROZEN_HEAD_LEARNING_RATE} `));
  assert.match(r.text, /feature cache: the backbone is frozen and augmentation is off/);
  const saved = await loadRecipeFile(path.join(r.runDir, 'recipe.yaml'));
  const file = saved.config as { model: Record<string, unknown>; finetune: Record<string, unknown> };
  assert.equal(file.finetune.train_bn, false);
  assert.equal(file.model.learning_rate, FROZEN_HEAD_LEARNING_RATE);
  const meta = JSON.parse(await readFile(path.join(r.runDir, 'flash.json'), 'utf8')) as { recipe: typeof file };
  assert.equal(meta.recipe.finetune.train_bn, false);
  assert.equal(meta.recipe.model.learning_rate, FROZEN_HEAD_LEARNING_RATE);
});

test('frozen-backbone defaults: an explicit value wins; scratch and a backbone that unfreezes keep train_bn true and the optimizer default', async () => {
  const explicit = await train({ output_dir: 'runs/frozen_explicit', max_epochs: 1 }, {}, { backbone: 'runs/A', learning_rate: 0.01 }, { train_bn: true });
  assert.doesNotMatch(explicit.text, /defaults for a frozen/);
  const unfreezes = await train({ output_dir: 'runs/frozen_unfreezes', max_epochs: 2 }, { image_size: 16 }, { pretrained: path.join(runA, 'model.json') }, { strategy: 'freeze_unfreeze', unfreeze_epoch: 1 });
  assert.doesNotMatch(unfreezes.text, /defaults for a frozen/);
  const recorded = async (dir: string) => (await loadRecipeFile(path.join(dir, 'recipe.yaml'))).config as { model: Record<string, unknown>; finetune: Record<string, unknown> };
  for (const [dir, trainBn, lr] of [[explicit.runDir, true, 0.01], [unfreezes.runDir, true, null], [runA, true, null]] as const) {
    const file = await recorded(dir);
    assert.equal(file.finetune.train_bn, trainBn, dir);
    assert.equal(file.model.learning_rate, lr, dir);
  }
});

test('--model.pretrained <model.json>: weights copied by layer name, frozen by default; strategies print their phases', async () => {
  const r = await train(
    { output_dir: 'runs/C', max_epochs: 3 },
    { image_size: 16 },
    { pretrained: path.join(runA, 'model.json') },
    { strategy: 'unfreeze_milestones', milestones: [1, 2], num_layers: 1 },
  );
  assert.match(r.text, /pretrained weights: loaded 2 layers from/);
  assert.match(r.text, /finetuning: unfreeze_milestones, 2 backbone layer groups/);
  assert.match(r.text, /phase 2\/3 from epoch 2: last 1 backbone layer group\(s\) and the head train/);
  assert.match(r.text, /trainable: head \+ 1\/2 backbone layer groups \(conv2\)/);
  assert.match(r.text, /phase 3\/3 from epoch 3: all layers train/);
});

test('a saved backbone fixes the input: another image size is a clear error; a missing run too', async () => {
  await assert.rejects(train({ output_dir: 'runs/D' }, { image_size: 20 }, { backbone: 'runs/A' }), (e: Error) => e instanceof FlashUserError && /takes 16×16×3 images.*--data.image_size 16/.test(e.message));
  await assert.rejects(train({ output_dir: 'runs/E' }, {}, { backbone: 'runs/nope' }), /no such run folder or model.json/);
  await assert.rejects(train({ output_dir: 'runs/F' }, { image_size: 16 }, { pretrained: 'true' }), /has no registered pretrained weights.*--model.pretrained false/);
});

test('--data.augment false with a frozen saved backbone: the head trains from cached features, and the run says so', async () => {
  const r = await train({ output_dir: 'runs/G' }, { augment: false }, { backbone: runA });
  assert.match(r.text, /feature cache: the backbone is frozen and augmentation is off, so it ran once over the \d+ training images; the head trains from their 1024 cached features/);
  assert.equal(r.text.match(/feature cache:/g)?.length, 1, 'computed once for both epochs');
  assert.deepEqual(await backboneWeights(r.runDir), await backboneWeights(runA));
  assert.ok(r.metrics.val_accuracy > 0.3, `${r.metrics.val_accuracy}`);
});

test('--resume of a freeze_unfreeze run at the epoch it unfreezes: the frozen checkpoint loads and every layer then trains', async () => {
  const ft = { strategy: 'freeze_unfreeze', unfreeze_epoch: 1 };
  await train({ output_dir: 'runs/H', max_epochs: 1 }, {}, { backbone: 'runs/A' }, ft);
  const r = await train({ output_dir: 'runs/H', max_epochs: 2 }, {}, { backbone: 'runs/A' }, ft, 'runs/H');
  assert.match(r.text, /resuming runs[\\/]H after epoch 1/);
  assert.match(r.text, /phase 2\/2 from epoch 2: all layers train/);
  assert.equal(r.fit.history.length, 2);
  assert.notDeepEqual(await backboneWeights(path.join(r.runDir, 'last')), await backboneWeights(runA), 'the backbone trained in epoch 2');
});

test('--model.cut pool1 --model.pooling avgmax: the saved backbone cut after its first block, frozen, saved, reloaded and resumed', async () => {
  const model = { backbone: 'runs/A', cut: 'pool1', pooling: 'avgmax' as const };
  const r = await train({ output_dir: 'runs/K', max_epochs: 1 }, {}, model);
  assert.match(r.text, /backbone cut after 'pool1' \(8×8×32, avgmax → 64 features\)/);
  assert.match(r.text, /frozen: 1\/1 backbone layer groups \(conv1\)/, 'conv2, past the cut, is no layer group any more');
  const [conv1Kernel, conv1Bias] = await backboneWeights(runA);
  assert.deepEqual(await backboneWeights(r.runDir), [conv1Kernel, conv1Bias], 'only conv1 is kept, bit-identical');
  const b = await ImageClassifier.load(r.runDir);
  assert.deepEqual(b.backbone().outputs[0].shape, [null, 64]);
  b.network().dispose();
  // Resume rebuilds the same cut network and loads the checkpoint into it.
  const resumed = await train({ output_dir: 'runs/K', max_epochs: 2 }, {}, model, {}, 'runs/K');
  assert.equal(resumed.fit.history.length, 2);
  await assert.rejects(train({ output_dir: 'runs/L' }, {}, { backbone: 'runs/A', cut: 'pool3' }), (e: Error) => e instanceof FlashUserError && /model.cut: the backbone has no layer 'pool3' \(did you mean 'pool[12]'\?\)/.test(e.message));
});
