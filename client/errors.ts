// Exit codes of ipa-hcc-ts-enroll, the stable codes of every failure it reports, and the one
// error type that carries them with a message saying what failed and a hint saying what to do.

export const ExitCode = {
  /** Enrolled, or already an IPA client. */
  OK: 0,
  /** Unexpected failure. */
  FAILED: 1,
  /** Bad configuration or an unmet precondition (name, certificate, clock). */
  CONFIG: 2,
  /** An enrollment server refused the request (4xx). */
  REFUSED: 3,
  /** No enrollment server answered before the deadline. */
  UNREACHABLE: 4,
  /** ipa-client-install failed. */
  INSTALLER: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every failure the client reports, with the exit code it ends with. */
export const CLIENT_ERRORS = {
  'bad-config': ExitCode.CONFIG,
  'not-fqdn': ExitCode.CONFIG,
  'no-identity': ExitCode.CONFIG,
  'clock-wrong': ExitCode.CONFIG,
  'no-machine-id': ExitCode.CONFIG,
  refused: ExitCode.REFUSED,
  deadline: ExitCode.UNREACHABLE,
  'invalid-response': ExitCode.FAILED,
  'installer-failed': ExitCode.INSTALLER,
  unexpected: ExitCode.FAILED,
} as const satisfies Record<string, ExitCode>;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/** A failure the user can act on: `message` says what failed, `hint` what to do. */
export class EnrollError extends Error {
  readonly code: ClientErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string;

  constructor(code: ClientErrorCode, message: string, hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EnrollError';
    this.code = code;
    this.exitCode = CLIENT_ERRORS[code];
    this.hint = hint;
  }
}

/** Wraps anything that is not an EnrollError as an unexpected failure. */
export function toEnrollError(err: unknown): EnrollError {
  if (err instanceof EnrollError) {
    return err;
  }

  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return new EnrollError(
    'unexpected',
    `Unexpected failure: ${first}`,
    'Run again with --verbose; if it persists, report it with that output.',
    err,
  );
}
