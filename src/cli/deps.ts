import { backbones } from '../../backbones/index.js';
import { tasks } from '../../tasks/index.js';
import { backends } from '../core/backend.js';
import { metrics } from '../core/metrics/index.js';
import { loggers } from '../core/loggers/index.js';
import { optimizers } from '../core/optimizers/index.js';
import { strategies } from '../core/finetuning/index.js';
import { createCommands } from '../commands/index.js';
import { flashVersion } from '../../tasks/image_classification/run_metadata.js';
import type { CliDeps, CliIO } from './types.js';

/** The real registries and commands, for the `flash` binary. */
export function realDeps(io: CliIO, signal?: AbortSignal): CliDeps {
  return {
    io,
    tasks,
    registries: { backbones, optimizers, metrics, loggers, backends, strategies },
    commands: createCommands(signal),
    version: flashVersion(),
  };
}
