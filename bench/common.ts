import { readFileSync } from 'node:fs';
import { FlashUserError } from '../src/core/errors.js';

/** Benchmarks print their JSON lines on stdout; everything else goes to stderr. */
export const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Rounds to `digits` decimals for the JSON lines. */
export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Runs a benchmark's main: a user error is one line and its exit code, anything else the stack and exit 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown })?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      log(`error: ${(err as Error).message}`);
      process.exit(2);
    }
    log(err instanceof FlashUserError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(err instanceof FlashUserError ? err.exitCode : 1);
  });
}

/** Other processes' average CPU use above this many cores marks a benchmark line as contended. */
export const CONTENDED_CORES = 0.2;
/** USER_HZ on Linux: jiffies per second in /proc/stat and /proc/self/stat. */
export const HZ = 100;

/**
 * [busy jiffies of the whole machine, this process's user+system jiffies (all its threads)]: the difference over
 * a timed loop is the CPU other processes used meanwhile.
 */
export function cpuJiffies(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
  // /proc/self/stat: fields after the ")" of the command name; utime and stime are fields 14 and 15.
  const s = readFileSync('/proc/self/stat', 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [busy, Number(rest[11]) + Number(rest[12])];
}

/** An integer flag value ≥ `min` (`fallback` when absent); anything else is a one-line error and exit 2. */
export function intArg(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    log(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
    process.exit(2);
  }
  return n;
}
