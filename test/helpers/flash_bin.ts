import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
/** The real `flash` binary: dist/bin/flash.js when tests run compiled, bin/flash.ts (through tsx) from source. */
const binArgs = fromSource ? ['--import', import.meta.resolve('tsx'), join(here, '..', '..', 'bin', 'flash.ts')] : [join(here, '..', '..', 'bin', 'flash.js')];

export interface FlashRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface FlashRunOptions {
  cwd: string;
  /** Called with each chunk of stdout; may kill the child (to test Ctrl-C). */
  onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
}

/** Runs `flash …args` in `cwd` as a user would (no TTY, so plain one-line-per-epoch logs). */
export function runFlash(args: string[], options: FlashRunOptions): Promise<FlashRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...binArgs, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      options.onStdout?.(c, child);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
