#!/usr/bin/env node
import { runCli } from '../src/cli/index.js';
import { realDeps } from '../src/main.js';

// Ctrl-C once: finish the current batch, keep the last checkpoint, exit cleanly. Twice: exit at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  process.stderr.write('\ninterrupt: finishing cleanly (Ctrl-C again to quit now)\n');
  interrupt.abort();
});
const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
  cwd: process.cwd(),
  env: process.env,
};
process.exitCode = await runCli(process.argv.slice(2), realDeps(io, interrupt.signal));
