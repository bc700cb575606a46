/**
 * The conformance suite every task plugin passes (Lightning Flash's TaskTester, without the metaclass): one call
 * registers the standard tests — the plugin contract, a bad recipe key, fit/validate/test through the CLI, the
 * run's recipe.yaml as a --config, predictions that survive save and reload (and equal plain tf.loadLayersModel),
 * resume, no leaked tensors, and an unreadable run folder. A task supplies a small dataset and how to read its
 * predictions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../src/cli/index.js';
import { CORE_SCHEMA, SECTIONS, schemaKeys } from '../../src/core/config/index.js';
import { Registry } from '../../src/core/registry.js';
import { depsFor } from '../../src/main.js';
import type { TaskPlugin } from '../../tasks/types.js';
import { makeTempDir, removeDir } from './images.js';

export interface ConformanceFixture {
  /** Writes a small dataset under `dir`; returns the words after `flash <task>` that train on it (builder and options). */
  prepare(dir: string): Promise<string[]>;
  /** Epochs that learn the set well above chance. */
  epochs: number;
  /** The monitored val metric and the value the toy set must reach. */
  learns: { metric: string; min: number };
  /** The words after `flash predict --model RUN` that predict the fixture's probe inputs into the JSON file `output`. */
  predictArgv(dir: string, output: string): string[];
  /** The predictions file → one probability row per probe input, in order. */
  readProbabilities(output: string): Promise<number[][]>;
  /** The probe inputs as the run's model.json takes them, for plain tf.loadLayersModel (no flash code). */
  modelInputs(dir: string, runDir: string): Promise<tf.Tensor>;
}

/** model.json and its weight files read into plain tf.loadLayersModel (tfjs alone has no file:// handler). */
async function loadPlain(runDir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(runDir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(join(runDir, p)))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
}

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Registers the conformance tests of `plugin` (the registry also holds `others`, to check foreign keys). */
export function conformance(plugin: TaskPlugin, fixture: ConformanceFixture, others: TaskPlugin[] = []): void {
  const registry = new Registry<TaskPlugin>('task');
  for (const t of [plugin, ...others]) registry.register(t.name, t, t.description);
  let dir: string;
  let trainArgv: string[];
  const cli = async (argv: string[]): Promise<Ran> => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTTY: false, cwd: dir, env: { FLASH_CACHE_DIR: join(dir, '.cache') } };
    const code = await runCli(argv, depsFor(registry, io));
    return { code, out: out.join(''), err: err.join('') };
  };
  const ok = (r: Ran) => assert.equal(r.code, 0, `${r.err}\n${r.out}`);
  const meta = async (run: string) => JSON.parse(await readFile(join(dir, run, 'flash.json'), 'utf8'));

  describe(`conformance: ${plugin.name}`, () => {
    before(async () => {
      dir = await makeTempDir(`flash-conformance-${plugin.name}-`);
      trainArgv = await fixture.prepare(dir);
    });
    after(async () => removeDir(dir));

    test('contract: core keys present, task keys described, builder options are data keys, registries exist', () => {
      const paths = new Set(schemaKeys(plugin.schema).map((k) => k.path));
      for (const k of schemaKeys(CORE_SCHEMA)) assert.ok(paths.has(k.path), `core key ${k.path} missing from ${plugin.name}'s schema`);
      for (const section of SECTIONS) {
        for (const [key, spec] of Object.entries(plugin.keys[section] ?? {})) {
          assert.ok(plugin.schema[section][key], `${section}.${key} not in the merged schema`);
          assert.ok(spec.description.length > 5, `${section}.${key} has no description`);
          if (spec.registry && !['optimizers', 'strategies', 'loggers', 'backends', 'metrics', 'lr_schedulers'].includes(spec.registry)) {
            assert.ok(plugin.registries[spec.registry], `${section}.${key} names registry '${spec.registry}' the task does not have`);
          }
        }
      }
      assert.ok(plugin.builders.length > 0, 'a task has at least one builder');
      for (const b of plugin.builders) for (const o of b.options) assert.ok(paths.has(`data.${o.replace(/^data\./, '')}`), `builder ${b.name} option ${o}`);
      assert.ok(plugin.builders.some((b) => b.name === plugin.schema.data.builder.default), 'the default builder is one of the builders');
    });

    test('a mistyped recipe key is one line with a suggestion; a key of another task says whose it is', async () => {
      const typo = await cli([plugin.name, '--data.batch_sise', '4']);
      assert.equal(typo.code, 2);
      assert.match(typo.err, /^error: /);
      assert.match(typo.err, /unknown option '--data\.batch_sise' \(did you mean '--data\.batch_size'\?\)/);
      assert.doesNotMatch(typo.err, /^\s+at /m);
      for (const other of others) {
        const foreign = schemaKeys(other.schema).find((k) => !schemaKeys(plugin.schema).some((m) => m.path === k.path));
        if (!foreign) continue;
        const r = await cli([plugin.name, `--${foreign.path}`, 'x']);
        assert.equal(r.code, 2);
        // (A key several other tasks declare is named as belonging to all of them.)
        assert.match(r.err, new RegExp(`'--${foreign.path.replace('.', '\\.')}' belongs to (\\S+, )*${other.name}(, \\S+)*, not to ${plugin.name}`));
      }
    });

    test('fit, validate and test through the CLI: the toy set is learned and the run folder is complete', async () => {
      const r = await cli([plugin.name, ...trainArgv, '--trainer.max_epochs', String(fixture.epochs), '--trainer.output_dir', 'run', '--trainer.quiet', 'true']);
      ok(r);
      const m = await meta('run');
      assert.equal(m.task, plugin.name);
      assert.equal(m.status, 'completed');
      assert.ok(m.best_epoch >= 1 && m.best_epoch <= fixture.epochs, `best_epoch ${m.best_epoch}`);
      assert.ok(m.metrics[fixture.learns.metric] >= fixture.learns.min, `${fixture.learns.metric} ${m.metrics[fixture.learns.metric]} < ${fixture.learns.min}`);
      assert.ok(Object.keys(m.metrics).some((k) => k.startsWith('test_')), 'the best model is tested');
      const csv = (await readFile(join(dir, 'run', 'metrics.csv'), 'utf8')).trimEnd().split('\n');
      assert.equal(csv.length, fixture.epochs + 1, 'one metrics.csv row per epoch');
      assert.match(r.out, /^best model \(epoch \d+/m);
    });

    test("the run's recipe.yaml is a --config that resolves to the run's recipe", async () => {
      const r = await cli(['--config', join(dir, 'run', 'recipe.yaml'), '--print_config']);
      ok(r);
      assert.deepEqual(parseYaml(r.out), (await meta('run')).recipe);
    });

    test('predictions survive save and reload, and equal plain tf.loadLayersModel on the same inputs', async () => {
      const before = tf.memory().numTensors;
      const first = await cli(['predict', '--model', 'run', ...fixture.predictArgv(dir, join(dir, 'p1.json'))]);
      ok(first);
      const second = await cli(['predict', '--model', 'run', ...fixture.predictArgv(dir, join(dir, 'p2.json'))]);
      ok(second);
      assert.equal(tf.memory().numTensors, before, 'predict leaves no tensors behind');
      const a = await fixture.readProbabilities(join(dir, 'p1.json'));
      const b = await fixture.readProbabilities(join(dir, 'p2.json'));
      assert.ok(a.length > 0);
      assert.deepEqual(a, b);
      const net = await loadPlain(join(dir, 'run'));
      const x = await fixture.modelInputs(dir, join(dir, 'run'));
      const plain = tf.tidy(() => (net.predict(x) as tf.Tensor).arraySync() as number[][]);
      tf.dispose(x);
      net.dispose();
      assert.equal(plain.length, a.length);
      plain.forEach((row, i) => row.forEach((p, j) => assert.ok(Math.abs(p - a[i][j]) < 1e-5, `row ${i} class ${j}: ${p} vs ${a[i][j]}`)));
    });

    test('a run interrupted after one epoch resumes to the end, and training leaks no tensors', async () => {
      const before = tf.memory().numTensors;
      ok(await cli([plugin.name, ...trainArgv, '--trainer.max_epochs', '1', '--trainer.output_dir', 'resumed', '--trainer.quiet', 'true']));
      assert.equal(tf.memory().numTensors, before, 'a finished run leaves no tensors behind');
      const r = await cli([plugin.name, '--resume', 'resumed', '--trainer.max_epochs', '2']);
      ok(r);
      assert.match(r.out, /resuming resumed after epoch 1/);
      const m = await meta('resumed');
      assert.equal(m.status, 'completed');
      assert.equal(m.recipe.trainer.max_epochs, 2);
      const csv = (await readFile(join(dir, 'resumed', 'metrics.csv'), 'utf8')).trimEnd().split('\n');
      assert.equal(csv.length, 3);
    });

    test('a folder that is not a run is "not a flash run folder", never handed to a guessed task', async () => {
      mkdirSync(join(dir, 'empty'), { recursive: true });
      const r = await cli(['predict', '--model', 'empty']);
      assert.equal(r.code, 2);
      assert.match(r.err, /^error: '.*empty' is not a flash run folder \(no flash\.json\)\n$/);
    });
  });
}
