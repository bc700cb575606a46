/**
 * Two kinds of failure, as small CLIs do it: a user error (bad path, flag, key or value) is printed as one line
 * and exits non-zero with no stack trace; anything else is an internal bug, printed with its trace.
 */
export class FlashUserError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'FlashUserError';
    this.exitCode = exitCode;
  }
}

/** True for errors meant for the user (printed as one line, no trace). */
export function isUserError(err: unknown): err is FlashUserError {
  return err instanceof FlashUserError;
}
