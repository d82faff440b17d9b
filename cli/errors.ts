// Exit codes of the admin command (those of FreeIPA's own tools) and the one error type that
// carries an exit code, a message saying what failed and a hint saying how to fix it.

export const ExitCode = {
  OK: 0,
  FAILED: 1,
  NOT_CONFIGURED: 2,
  ALREADY_DONE: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the admin can act on. `message` says what failed, `hint` how to fix it. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string;

  constructor(exitCode: ExitCode, message: string, hint: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = hint;
  }
}
