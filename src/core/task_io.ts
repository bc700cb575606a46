/** Everything a command touches of the outside world, injected so tests run it in-process. */
export interface TaskIO {
  /** Writes to stdout; `text` carries its own trailing newline. */
  out(text: string): void;
  /** Writes to stderr; `text` carries its own trailing newline. */
  err(text: string): void;
  /** Whether stdout is a terminal (progress bars and tables) or a pipe/file (plain lines). */
  isTTY: boolean;
  /** Working directory: relative paths and the recipe file search start here. */
  cwd: string;
  env: Record<string, string | undefined>;
}
