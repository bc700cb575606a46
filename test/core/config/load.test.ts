import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { defaultRecipe, findRecipeFile, loadRecipeFile, recipeToYaml, resolveRecipe } from '../../../src/core/config/index.js';
import { defaultImageRecipe, resolveImageRecipe, IMAGE_SCHEMA } from '../../../tasks/image_classification/schema.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tmp = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flash-config-'));
  dirs.push(dir);
  return dir;
};

test('loadRecipeFile reads YAML, YML and JSON, empty files as {}', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'a.yaml'), 'trainer:\n  max_epochs: 3\n');
  writeFileSync(path.join(dir, 'b.yml'), '');
  writeFileSync(path.join(dir, 'c.json'), '{"model": {"backbone": "resnet18"}}');
  assert.deepEqual((await loadRecipeFile('a.yaml', dir)).config, { trainer: { max_epochs: 3 } });
  assert.deepEqual((await loadRecipeFile(path.join(dir, 'b.yml'))).config, {});
  const c = await loadRecipeFile('c.json', dir);
  assert.deepEqual(c.config, { model: { backbone: 'resnet18' } });
  assert.equal(c.filepath, path.join(dir, 'c.json'));
});

test('loadRecipeFile: missing file, parse errors and unsupported types name the file', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'bad.yaml'), 'trainer:\n  max_epochs: [3\n');
  writeFileSync(path.join(dir, 'bad.json'), '{"trainer": ');
  writeFileSync(path.join(dir, 'r.toml'), 'x = 1');
  await assert.rejects(loadRecipeFile('nope.yaml', dir), { name: 'FlashUserError', message: 'recipe nope.yaml: no such file' });
  await assert.rejects(loadRecipeFile('bad.yaml', dir), (err: Error) => {
    assert.equal(err.name, 'FlashUserError');
    assert.match(err.message, /^recipe bad\.yaml: invalid YAML \(line \d+, column \d+\)/);
    assert.ok(!err.message.includes('\n'), err.message);
    return true;
  });
  await assert.rejects(loadRecipeFile('bad.json', dir), { message: /^recipe bad\.json: invalid JSON: / });
  await assert.rejects(loadRecipeFile('r.toml', dir), { message: /^recipe r\.toml: unsupported file type '\.toml'/ });
  mkdirSync(path.join(dir, 'folder.yaml'));
  await assert.rejects(loadRecipeFile('folder.yaml', dir), { message: 'recipe folder.yaml: is a folder, not a file' });
});

test('loadRecipeFile loads .mjs and .cjs recipes through cosmiconfig', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'r.mjs'), 'export default { trainer: { seed: 7 } };\n');
  writeFileSync(path.join(dir, 'r.cjs'), 'module.exports = { trainer: { seed: 8 } };\n');
  assert.deepEqual((await loadRecipeFile('r.mjs', dir)).config, { trainer: { seed: 7 } });
  assert.deepEqual((await loadRecipeFile('r.cjs', dir)).config, { trainer: { seed: 8 } });
});

test('findRecipeFile: flash.config.*, .flashrc*, package.json "flash"; only in cwd itself', async () => {
  const cases: [string, string, unknown][] = [
    ['flash.config.yaml', 'trainer:\n  seed: 1\n', { trainer: { seed: 1 } }],
    ['flash.config.yml', 'trainer:\n  seed: 2\n', { trainer: { seed: 2 } }],
    ['flash.config.json', '{"trainer": {"seed": 3}}', { trainer: { seed: 3 } }],
    ['flash.config.cjs', 'module.exports = { trainer: { seed: 4 } };', { trainer: { seed: 4 } }],
    ['flash.config.mjs', 'export default { trainer: { seed: 5 } };', { trainer: { seed: 5 } }],
    ['.flashrc', 'trainer:\n  seed: 6\n', { trainer: { seed: 6 } }],
    ['.flashrc.json', '{"trainer": {"seed": 7}}', { trainer: { seed: 7 } }],
    ['.flashrc.yaml', 'trainer:\n  seed: 8\n', { trainer: { seed: 8 } }],
    ['package.json', '{"name": "x", "flash": {"trainer": {"seed": 9}}}', { trainer: { seed: 9 } }],
  ];
  for (const [name, text, expected] of cases) {
    const dir = tmp();
    writeFileSync(path.join(dir, name), text);
    const found = await findRecipeFile(dir);
    assert.ok(found, name);
    assert.deepEqual(found.config, expected, name);
    assert.equal(path.basename(found.filepath), name);
  }
  const parent = tmp();
  writeFileSync(path.join(parent, 'flash.config.yaml'), 'trainer:\n  seed: 1\n');
  const child = path.join(parent, 'child');
  mkdirSync(child);
  assert.equal(await findRecipeFile(child), null);
  const noFlashKey = tmp();
  writeFileSync(path.join(noFlashKey, 'package.json'), '{"name": "x"}');
  assert.equal(await findRecipeFile(noFlashKey), null);
});

test('recipeToYaml: commented, and loads back to the identical recipe', async () => {
  const recipe = resolveImageRecipe({
    task: 'image_classification',
    overrides: {
      trainer: { max_epochs: '10', output_dir: 'runs/my run', logger: 'csv,tensorboard', early_stopping_patience: '3' },
      model: { learning_rate: '0.0003', pretrained: 'true', backbone: 'null' },
      data: { builder: 'from_files', train_files: ['a b.jpg', 'c:d.png', 'ñ.jpg'], train_targets: ['yes', '1', 'null'], channels: '1' },
      finetune: { milestones: '1,5', unfreeze_epoch: '0' },
    },
  });
  const text = recipeToYaml(recipe, IMAGE_SCHEMA);
  assert.match(text, /^# flash recipe for image_classification/);
  assert.match(text, /# number of training epochs\n {2}max_epochs: 10/);
  const dir = tmp();
  writeFileSync(path.join(dir, 'r.yaml'), text);
  const loaded = await loadRecipeFile('r.yaml', dir);
  const again = resolveImageRecipe({ task: 'image_classification', file: loaded.config, filePath: 'r.yaml' });
  assert.deepEqual(again, recipe);
  // Strings that look like other types stay strings.
  assert.equal(recipe.model.backbone, 'null');
  assert.deepEqual(parse(text).data.train_targets, ['yes', '1', 'null']);
  assert.deepEqual(resolveImageRecipe({ task: 'image_classification', file: parse(recipeToYaml(defaultImageRecipe(), IMAGE_SCHEMA)) }), defaultImageRecipe());
});
