import type { CliCommands, CliTask } from '../src/cli/types.js';

/**
 * A task plugin: its data builders and defaults (for the CLI) and the functions behind its commands — the CLI's
 * command table itself; a task leaves out the optional commands it can't offer (serve, report, export, compare).
 */
export interface TaskEntry extends CliTask, CliCommands {}
