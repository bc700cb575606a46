/**
 * Architecture rules checked in `npm test` (test/architecture.test.ts) over the compiled JavaScript in dist/:
 * no import cycles, and the core (trainer, run lifecycle, recipes, CLI, commands) never imports a task. Only the
 * composition root (src/main.ts) and the programmatic API (src/index.ts) see the registered tasks.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import cycles make module init order fragile', from: {}, to: { circular: true } },
    {
      name: 'core-knows-no-task',
      severity: 'error',
      comment: 'the core, CLI and commands reach tasks only through the TaskPlugin contract they are handed',
      from: { path: '^dist/src/', pathNot: '^dist/src/(main|index)\\.js$' },
      to: { path: '^dist/tasks/' },
    },
    {
      name: 'tasks-know-no-cli',
      severity: 'error',
      comment: 'a task is called by the CLI, never the other way round',
      from: { path: '^dist/(tasks|backbones)/' },
      to: { path: '^dist/src/(cli|commands)/' },
    },
  ],
  options: { doNotFollow: { path: 'node_modules' }, exclude: { path: 'node_modules' } },
};
