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
