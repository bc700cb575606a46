import { backbones } from '../../backbones/index.js';
import type { Recipe } from '../../src/core/config/index.js';
import { FlashUserError } from '../../src/core/errors.js';
import type { TaskCommand, TaskPlugin, TrainArgs } from '../types.js';
import { builders } from './builders.js';
import { compareSpec, evaluateSpec, exportSpec, predictSpec, reportSpec, serveSpec } from './cli.js';
import { heads } from './heads.js';
import { checkImageRecipe, IMAGE_DEFAULTS, IMAGE_KEYS, IMAGE_SCHEMA, type ImageRecipe } from './schema.js';

/**
 * The image_classification plugin: its recipe keys and registries, its builders, `flash image_classification`
 * and the commands on its runs. Model code loads on demand, so `--help` and flag errors stay fast.
 */
export const imageClassification: TaskPlugin = {
  name: 'image_classification',
  description: 'classify images into classes (folders, file lists or in-memory datasets)',
  example: 'flash image_classification --trainer.max_epochs 10 --model.backbone simple_cnn from_folders --train_folder data/train --val_folder data/val',
  keys: IMAGE_KEYS,
  schema: IMAGE_SCHEMA,
  defaults: IMAGE_DEFAULTS as TaskPlugin['defaults'],
  registries: { backbones, heads },
  builders: builders.list().map((b) => ({ name: b.name, description: b.description, options: b.item.options })),
  checkRecipe: (recipe, ctx) => checkImageRecipe(recipe as ImageRecipe, ctx),
  trainFlags: [
    {
      name: 'from_folders',
      kind: 'string',
      arg: 'dir',
      description: 'shortcut for `from_folders --folder dir`: class sub-folders, or train/ val/ test/ folders; also a .zip file or an http(s) URL of a zip (extracted into FLASH_CACHE_DIR, default ~/.cache/flash)',
      sets: (dir) => ({ 'data.builder': 'from_folders', 'data.folder': dir }),
    },
    {
      name: 'check',
      kind: 'boolean',
      description: 'check the data and exit (class counts, undecodable and non-image files, duplicates, small classes, sizes, imbalance); exit code 1 when training would be meaningless',
    },
    { name: 'json', kind: 'boolean', description: 'with --check: print the report as JSON' },
  ],
  async train(args: TrainArgs): Promise<void> {
    const recipe = args.recipe as Recipe as ImageRecipe;
    if (args.flags?.json && !args.flags.check) throw new FlashUserError('--json goes with --check (print the dataset check as JSON)');
    if (args.flags?.check) {
      const { checkCommand } = await import('./check.js');
      await checkCommand({ recipe, io: args.io, json: args.flags.json === true });
      return;
    }
    const { trainImageClassifier } = await import('./train.js');
    await trainImageClassifier({ ...args, recipe });
  },
  async lrFind(args: TrainArgs): Promise<void> {
    const { findImageLearningRate } = await import('./train.js');
    await findImageLearningRate({ recipe: args.recipe as Recipe as ImageRecipe, io: args.io });
  },
  commands: {
    predict: withRun(predictSpec, async (a) => (await import('./commands.js')).predictCommand(a)),
    evaluate: withRun(evaluateSpec, async (a) => (await import('./commands.js')).evaluateCommand(a)),
    serve: withRun(serveSpec, async (a) => (await import('./serve.js')).serveCommand(a)),
    report: withRun(reportSpec, async (a) => (await import('./report/index.js')).reportCommand(a)),
    compare: withRun(compareSpec, async (a) => (await import('./report/index.js')).compareCommand(a)),
    export: withRun(exportSpec, async (a) => (await import('./export/index.js')).exportCommand(a)),
  },
};

function withRun<A extends Parameters<TaskCommand['run']>[0]>(spec: Omit<TaskCommand<A>, 'run'>, run: (args: A) => Promise<unknown>): TaskCommand {
  return { ...spec, run } as unknown as TaskCommand;
}
