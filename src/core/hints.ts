/**
 * Commands flash prints for the user to paste (`predict with: …`, `resume with: …`): they must run as printed —
 * the right program name, paths quoted for the shell, and paths the way the user gave them.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot } from './package_root.js';

/** A path argument of a hint: where it is, and (when the user typed it) how they wrote it. */
export interface HintPath {
  path: string;
  /** The user's own spelling (a flag value, a config entry); printed unchanged when given. */
  given?: string;
}

export interface HintOptions {
  /** Folder relative paths are shown from; default process.cwd(). */
  cwd?: string;
  /** Environment (FLASH_BIN, PATH); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const realpath = (p: string): string | undefined => {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
};

/**
 * How to start flash in a pasted command: $FLASH_BIN when set; `flash` when the `flash` found on PATH is this very
 * package's binary (a global or linked install); otherwise `npx flash` (a clone or a local install, where a bare
 * `flash` is "command not found" or another program).
 */
export function flashCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLASH_BIN) return env.FLASH_BIN;
  let ours: string | undefined;
  try {
    ours = realpath(join(packageRoot(), 'dist', 'bin', 'flash.js'));
  } catch {
    ours = undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'flash');
    // The first `flash` on PATH is the one the shell runs: ours (npm links it executable), or someone else's.
    if (ours !== undefined && realpath(candidate) === ours) return 'flash';
    try {
      accessSync(candidate, constants.X_OK);
      return 'npx flash';
    } catch {
      continue;
    }
  }
  return 'npx flash';
}

/** One shell word: unchanged when it holds only safe characters, else single-quoted (POSIX sh, bash, zsh). */
export function shellQuote(word: string): string {
  if (word !== '' && /^[\p{L}\p{N}_./:=@%+,-]+$/u.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A path as a hint shows it: the user's own spelling when known; else relative to `cwd` when inside it ('.' for
 * cwd itself); else absolute (never '../../…', which breaks when pasted elsewhere and hides where it is).
 */
export function shownPath(p: HintPath | string, cwd: string = process.cwd()): string {
  const { path, given } = typeof p === 'string' ? { path: p, given: undefined } : p;
  if (given !== undefined && given !== '') return given;
  const full = resolve(cwd, path);
  const rel = relative(cwd, full);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? full : rel;
}

/**
 * A pasteable command: `commandHint(['predict', '--model', { path: runDir, given: '--output_dir value' },
 * '--folder', '<images>'])` → `npx flash predict --model 'my runs/a' --folder <images>`. Plain strings are
 * quoted as needed, except placeholders in angle brackets (`<images>`), which the user replaces.
 */
export function commandHint(args: (string | HintPath)[], options: HintOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const words = args.map((a) => {
    if (typeof a !== 'string') return shellQuote(shownPath(a, cwd));
    return /^<[\w -]+>$/.test(a) ? a : shellQuote(a);
  });
  return [flashCommand(options.env), ...words].join(' ');
}
