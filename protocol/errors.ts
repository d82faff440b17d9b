// Every error the enrollment endpoint returns: one registry of stable codes with their HTTP
// status and the plain title callers see. The precise reason for a refusal goes to the server's
// audit log only, never to the caller.

export const ERROR_CODES = {
  'invalid-request': { status: 400, title: 'The request is malformed' },
  'invalid-fqdn': { status: 400, title: 'The host name is not acceptable' },
  'not-authorized': { status: 403, title: 'Enrollment is not permitted for this host' },
  'invalid-token': { status: 401, title: 'The host token is not valid' },
  'not-found': { status: 404, title: 'No such resource' },
  'host-conflict': { status: 409, title: 'The host name is taken' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'rate-limited': { status: 429, title: 'Too many requests; retry later' },
  'internal-error': { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'The service is temporarily unavailable; retry later' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One error object of the response body (ipa-hcc / idmsvc format). */
export interface ErrorObject {
  /** Request id, to find the server's audit line. */
  id: string;
  /** HTTP status as a string, e.g. "403". */
  status: string;
  title: string;
  code: ErrorCode;
  detail?: string;
}

/** The body of every error response. */
export interface ErrorBody {
  errors: ErrorObject[];
}

/** Builds the error body for a code; `detail` must hold nothing private. */
export function errorBody(code: ErrorCode, requestId: string, detail?: string): ErrorBody {
  const { status, title } = ERROR_CODES[code];
  const error: ErrorObject = { id: requestId, status: String(status), title, code };
  if (detail !== undefined) {
    error.detail = detail;
  }

  return { errors: [error] };
}

/** True when the value names a registered error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
