/**
 * The sweep's report.md: the trials ranked by the sweep metric (best first, failed last) with their parameters,
 * status, time and worker, the best trial's recipe, and the metric-vs-parameter plot (sweep.png) — what a person
 * opens first, where results.csv is for tools.
 */
import type { SweepPlan } from './plan.js';
import type { TrialResult } from './types.js';

const cell = (v: unknown): string => {
  const s = typeof v === 'number' ? String(Number(v.toPrecision(4))) : v === null || v === undefined ? '' : String(v);
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
};

/** Trials best first by the plan's metric and mode; trials without a value after, by trial number. */
export function rankTrials(results: TrialResult[], plan: SweepPlan): TrialResult[] {
  const sign = plan.mode === 'max' ? -1 : 1;
  return [...results].sort((a, b) => {
    if (a.value === null || b.value === null) return a.value === null && b.value === null ? a.trial - b.trial : a.value === null ? 1 : -1;
    return sign * (a.value - b.value) || a.trial - b.trial;
  });
}

/** The markdown of report.md for `results` (any order). */
export function sweepReport(task: string, results: TrialResult[], plan: SweepPlan, opts: { plot: boolean; bestRecipe: boolean }): string {
  const keys = Object.keys(plan.parameters);
  const ranked = rankTrials(results, plan);
  const best = ranked[0]?.value !== null && ranked[0] ? ranked[0] : undefined;
  const counts = (['completed', 'stopped', 'failed'] as const).map((s) => `${results.filter((r) => r.status === s).length} ${s}`).join(', ');
  const lines = [
    `# flash sweep: ${task}`,
    '',
    `${results.length} trials (${plan.method}; ${counts}), judged by \`${plan.metric}\` (${plan.mode}).`,
    '',
  ];
  if (best) {
    lines.push(`**Best: trial ${best.trial}**, ${plan.metric} ${cell(best.value)} — ${keys.map((k) => `\`${k}\` = ${cell(best.params[k])}`).join(', ')}.`);
    if (opts.bestRecipe) lines.push(`Its recipe: [best_recipe.yaml](best_recipe.yaml) (\`flash --config best_recipe.yaml\` trains it again).`);
    lines.push('');
  } else {
    lines.push(`No trial produced \`${plan.metric}\`.`, '');
  }
  lines.push(
    `| rank | trial | status | ${keys.map(cell).join(' | ')} | ${cell(plan.metric)} | best epoch | seconds | worker |`,
    `|---|---|---|${keys.map(() => '---|').join('')}---|---|---|---|`,
  );
  ranked.forEach((r, i) => {
    const status = r.error ? `${r.status}: ${r.error}` : r.status;
    lines.push(`| ${r.value === null ? '' : i + 1} | ${r.trial} | ${cell(status)} | ${keys.map((k) => cell(r.params[k])).join(' | ')} | ${cell(r.value)} | ${cell(r.best_epoch)} | ${r.seconds.toFixed(1)} | ${cell(r.worker)} |`);
  });
  if (opts.plot) lines.push('', `![${plan.metric} against each parameter](sweep.png)`);
  return lines.join('\n') + '\n';
}
