import { formatProblems } from '../core/config/index.js';
import { FlashUserError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { parseCommandFlags as parse, wantsHelp, type FlagKind } from './argv.js';
import { table } from './help.js';
import type { CliDeps } from './types.js';

const REPORT_OPTIONS: [string, FlagKind, string][] = [
  ['folder', 'string', 'evaluate on this folder of class sub-folders instead of the run\'s test/val split'],
  ['split', 'string', 'which of the run\'s splits to evaluate: test or val (default: test when the run has one)'],
  ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
];
const COMPARE_OPTIONS: [string, FlagKind, string][] = [['out', 'string', 'also write the runs\' curves side by side to this PNG']];

export function reportHelp(): string {
  return ['flash report: (re)write a run\'s report.html and plots (curves, confusion matrix, PR/ROC curves, worst predictions)', '',
    'Usage:', '  flash report RUN_DIR [--folder DIR] [--split test|val] [--backend auto]', '', 'Options:',
    table(REPORT_OPTIONS.map(([n, , d]) => [`--${n}`, d])), ''].join('\n');
}

export function compareHelp(): string {
  return ['flash compare: recipes (only the keys that differ) and final metrics of runs side by side', '',
    'Usage:', '  flash compare RUN_DIR RUN_DIR ... [--out curves.png]', '', 'Options:',
    table(COMPARE_OPTIONS.map(([n, , d]) => [`--${n}`, d])), ''].join('\n');
}

/** `flash report RUN [--folder DIR] [--split test|val]`. */
export async function reportCli(tokens: string[], deps: CliDeps): Promise<void> {
  if (wantsHelp(tokens)) return deps.io.out(reportHelp());
  const { positionals, problems, str } = parse(tokens, REPORT_OPTIONS);
  if (positionals.length !== 1) problems.push(`give exactly one run folder (got ${positionals.length}): flash report runs/X`);
  const split = str('split');
  if (split !== undefined && split !== 'test' && split !== 'val') problems.push(`--split: expected test or val, got '${split}'${didYouMean(split, ['test', 'val'])}`);
  const folder = str('folder');
  const backend = str('backend') ?? 'auto';
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  if (!deps.commands.report) throw new FlashUserError('this flash has no report command');
  await deps.commands.report({ run: positionals[0], folder, split: split as 'test' | 'val' | undefined, backend, io: deps.io });
}

/** `flash compare RUN RUN… [--out curves.png]`. */
export async function compareCli(tokens: string[], deps: CliDeps): Promise<void> {
  if (wantsHelp(tokens)) return deps.io.out(compareHelp());
  const { positionals, problems, str } = parse(tokens, COMPARE_OPTIONS);
  if (positionals.length < 2) problems.push(`give at least two run folders to compare (got ${positionals.length})`);
  const out = str('out');
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  if (!deps.commands.compare) throw new FlashUserError('this flash has no compare command');
  await deps.commands.compare({ runs: positionals, out, io: deps.io });
}
