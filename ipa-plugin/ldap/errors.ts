// Directory failures mapped to a small set of stable codes the rest of the product branches on.
import * as ldapts from 'ldapts';

export type DirectoryErrorCode =
  | 'not-found'
  | 'already-exists'
  | 'invalid-credentials'
  | 'insufficient-access'
  | 'constraint-violation'
  | 'schema-violation'
  | 'value-exists'
  | 'no-such-attribute'
  | 'unwilling'
  | 'unavailable'
  | 'timeout'
  | 'tls'
  | 'insecure'
  | 'invalid-url'
  | 'other';

/** An LDAP failure with a stable code, the DN it concerns and the library's error as `cause`. */
export class DirectoryError extends Error {
  readonly code: DirectoryErrorCode;
  readonly dn: string | undefined;
  readonly ldapResultCode: number | undefined;
  /** The directory the failure came from, set by the connection that saw it. */
  url: string | undefined;
  /** Set when the connection broke during the operation (it was dropped and will be reopened). */
  connectionLost = false;

  constructor(
    code: DirectoryErrorCode,
    message: string,
    options: { dn?: string; cause?: unknown; ldapResultCode?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DirectoryError';
    this.code = code;
    this.dn = options.dn;
    this.ldapResultCode = options.ldapResultCode;
  }

  /** True when the directory could not be reached or did not answer in time. */
  get transient(): boolean {
    return this.code === 'unavailable' || this.code === 'timeout';
  }
}

const RESULT_CODES: ReadonlyArray<[abstract new (...a: never[]) => Error, DirectoryErrorCode]> = [
  [ldapts.NoSuchObjectError, 'not-found'],
  [ldapts.AlreadyExistsError, 'already-exists'],
  [ldapts.InvalidCredentialsError, 'invalid-credentials'],
  [ldapts.InappropriateAuthError, 'invalid-credentials'],
  [ldapts.InsufficientAccessError, 'insufficient-access'],
  [ldapts.StrongAuthRequiredError, 'insufficient-access'],
  [ldapts.ConfidentialityRequiredError, 'insufficient-access'],
  [ldapts.ConstraintViolationError, 'constraint-violation'],
  [ldapts.ObjectClassViolationError, 'schema-violation'],
  [ldapts.UndefinedTypeError, 'schema-violation'],
  [ldapts.InvalidSyntaxError, 'schema-violation'],
  [ldapts.InvalidDNSyntaxError, 'schema-violation'],
  [ldapts.NamingViolationError, 'schema-violation'],
  [ldapts.TypeOrValueExistsError, 'value-exists'],
  [ldapts.NoSuchAttributeError, 'no-such-attribute'],
  [ldapts.UnwillingToPerformError, 'unwilling'],
  [ldapts.BusyError, 'unavailable'],
  [ldapts.UnavailableError, 'unavailable'],
  [ldapts.TimeLimitExceededError, 'timeout'],
];

const MESSAGES: Record<DirectoryErrorCode, string> = {
  'not-found': 'no such entry',
  'already-exists': 'entry already exists',
  'invalid-credentials': 'invalid credentials',
  'insufficient-access': 'insufficient access rights',
  'constraint-violation': 'constraint violation',
  'schema-violation': 'entry does not match the directory schema',
  'value-exists': 'attribute value already exists',
  'no-such-attribute': 'no such attribute value',
  unwilling: 'directory server is unwilling to perform the operation',
  unavailable: 'directory server is unavailable',
  timeout: 'directory operation timed out',
  tls: 'TLS negotiation with the directory server failed',
  insecure: 'refusing to send a password over an unencrypted connection',
  'invalid-url': 'not a usable LDAP URL',
  other: 'directory operation failed',
};

/** Translates anything thrown by the LDAP library or the socket into a DirectoryError. */
export function toDirectoryError(err: unknown, dn?: string): DirectoryError {
  if (err instanceof DirectoryError) {
    return err;
  }

  const code = classify(err);
  const ldapResultCode = err instanceof ldapts.ResultCodeError ? err.code : undefined;
  const opts = { cause: err, ...(dn === undefined ? {} : { dn }) };
  return new DirectoryError(code, MESSAGES[code], { ...opts, ldapResultCode });
}

function classify(err: unknown): DirectoryErrorCode {
  for (const [cls, code] of RESULT_CODES) {
    if (err instanceof cls) {
      return code;
    }
  }

  if (err instanceof ldapts.ResultCodeError) {
    return 'other';
  }

  const text =
    err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` : '';
  if (/timeout|timed out/i.test(text)) {
    return 'timeout';
  }

  if (/CERT|certificate|self[- ]signed|TLS|SSL|altname/i.test(text)) {
    return 'tls';
  }

  if (
    /ECONNREFUSED|ECONNRESET|ENOENT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket|not connected|closed/i.test(
      text,
    )
  ) {
    return 'unavailable';
  }

  return 'other';
}

/** Message of a DirectoryError's cause chain, for admin-facing diagnostics (never secrets). */
export function describeCause(err: DirectoryError): string {
  const cause = err.cause;
  return cause instanceof Error ? (cause.message.split('\n')[0] ?? '') : '';
}
