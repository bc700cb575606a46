import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/core/package_root.js';

const root = packageRoot();

/** The source file a compiled module came from (dist/x/y.js → x/y.ts), so stale files in dist/ are not judged. */
function hasSource(distPath: string): boolean {
  return existsSync(path.join(root, distPath.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
}

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}

test('no import cycles, and the core never imports a task (dependency-cruiser over the compiled modules)', () => {
  const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  let out: string;
  try {
    out = execFileSync(process.execPath, [bin, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'dist/src', 'dist/tasks', 'dist/backbones', 'dist/bin'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    // depcruise exits non-zero when it finds violations; its JSON report is still on stdout.
    out = (err as { stdout?: string }).stdout ?? '';
  }
  const report = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  assert.ok(report.summary.totalCruised > 100, `cruised only ${report.summary.totalCruised} modules`);
  const real = report.summary.violations.filter((v) => hasSource(v.from) && hasSource(v.to) && (v.cycle ?? []).every((c) => hasSource(c.name)));
  const lines = real.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
  assert.deepEqual(lines, []);
});
