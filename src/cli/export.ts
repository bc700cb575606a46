import { formatProblems } from '../core/config/index.js';
import { FlashUserError } from '../core/errors.js';
import { parseCommandFlags, wantsHelp, type FlagKind } from './argv.js';
import { table } from './help.js';
import type { CliDeps } from './types.js';

const EXPORT_OPTIONS: [string, FlagKind, string][] = [
  ['model', 'string', 'run folder of a trained model (required)'],
  ['out', 'string', 'folder to write (required; replaced if it exists)'],
];

export function exportHelp(): string {
  return ['flash export: a folder to drop into a web page (model, metadata.json, classifier.js, index.html, tf.min.js)', '',
    'Usage:', '  flash export --model RUN_DIR --out DIR', '', 'Options:', table(EXPORT_OPTIONS.map(([n, , d]) => [`--${n}`, d])), ''].join('\n');
}

/** `flash export --model RUN --out DIR`. */
export async function exportCli(tokens: string[], deps: CliDeps): Promise<void> {
  if (wantsHelp(tokens)) return deps.io.out(exportHelp());
  const { positionals, problems, str } = parseCommandFlags(tokens, EXPORT_OPTIONS);
  for (const w of positionals) problems.push(`unexpected argument '${w}'`);
  const value = (name: string): string | undefined => {
    const v = str(name);
    if (v === undefined) problems.push(`missing required option '--${name}'`);
    return v;
  };
  const model = value('model');
  const out = value('out');
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  if (!deps.commands.export) throw new FlashUserError('this flash has no export command');
  await deps.commands.export({ model: model!, out: out!, io: deps.io });
}
