// One request tried on a list of servers: the next server when one cannot be reached or answers
// 429 or 5xx, never after a refusal (any other 4xx). Quiet but for the notes it is handed.
import type { LookupFunction } from 'node:net';
import { type ErrorBody, isErrorCode } from '../protocol/errors.js';
import { EnrollError } from './errors.js';
import type { Deadline } from './retry.js';
import { Retryable } from './retry.js';
import { type Answer, postJson, type TlsIdentity, TransportError } from './transport.js';

export interface ExchangeContext {
  tls: TlsIdentity;
  timeoutMs: number;
  deadline: Deadline;
  lookup?: LookupFunction;
  /** Receives one line per server tried (shown with --verbose). */
  note: (line: string) => void;
  /** The transport; tests replace it. */
  post?: typeof postJson;
}

/** A refusal: an answer with a 4xx status other than 429. */
export class Refusal extends Error {
  constructor(
    readonly server: string,
    readonly status: number,
    readonly code: string,
    readonly requestId: string | undefined,
    readonly detail: string | undefined,
    /** How many servers failed (unreachable, 429, 5xx) before this one refused. */
    readonly failedBefore: number,
  ) {
    super(`${status} ${code}`);
    this.name = 'Refusal';
  }
}

/** A successful (2xx) answer and the server that gave it. */
export interface Served {
  server: string;
  answer: Answer;
}

/** Posts to each server in turn until one answers 2xx; see the file comment for the rules. */
export async function postToFirst(
  phase: string,
  servers: readonly string[],
  path: string,
  body: unknown,
  ctx: ExchangeContext,
): Promise<Served> {
  const failures: string[] = [];
  let retryAfterMs: number | undefined;
  for (const server of servers) {
    const timeoutMs = Math.min(ctx.timeoutMs, ctx.deadline.remaining());
    if (timeoutMs === 0) {
      break;
    }

    const outcome = await tryServer(server, path, body, { ...ctx, timeoutMs });
    if (outcome.kind === 'served') {
      return { server, answer: outcome.answer };
    }

    if (outcome.kind === 'refused') {
      throw refusalOf(server, outcome.answer, failures.length);
    }

    ctx.note(`${phase}: ${server} failed: ${outcome.reason}; trying the next server`);
    failures.push(`${server} ${outcome.reason}`);
    if (outcome.retryAfterMs !== undefined) {
      retryAfterMs = Math.max(retryAfterMs ?? 0, outcome.retryAfterMs);
    }
  }

  if (failures.length === 0) {
    throw new Retryable(`${phase}: no time left to try a server`, undefined, false);
  }

  throw new Retryable(`${phase}: ${failures.join('; ')}`, retryAfterMs);
}

type Outcome =
  | { kind: 'served'; answer: Answer }
  | { kind: 'refused'; answer: Answer }
  | { kind: 'failed'; reason: string; retryAfterMs?: number };

async function tryServer(
  server: string,
  path: string,
  body: unknown,
  ctx: ExchangeContext,
): Promise<Outcome> {
  const post = ctx.post ?? postJson;
  let answer: Answer;
  try {
    answer = await post(server, path, body, {
      tls: ctx.tls,
      timeoutMs: ctx.timeoutMs,
      ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
    });
  } catch (err) {
    if (err instanceof TransportError) {
      return { kind: 'failed', reason: err.message };
    }

    throw err;
  }

  return classify(answer);
}

function classify(answer: Answer): Outcome {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    return { kind: 'served', answer };
  }

  if (status === 429 || status >= 500) {
    const reason = `answered ${status} ${errorOf(answer.body)?.code ?? ''}`.trimEnd();
    return answer.retryAfterMs === undefined
      ? { kind: 'failed', reason }
      : { kind: 'failed', reason, retryAfterMs: answer.retryAfterMs };
  }

  if (status >= 400) {
    return { kind: 'refused', answer };
  }

  return { kind: 'failed', reason: `answered with unexpected status ${status}` };
}

function errorOf(body: unknown): ErrorBody['errors'][number] | undefined {
  const errors = (body as Partial<ErrorBody> | undefined)?.errors;
  return Array.isArray(errors) ? errors[0] : undefined;
}

function refusalOf(server: string, answer: Answer, failedBefore: number): Refusal {
  const e = errorOf(answer.body);
  const code = isErrorCode(e?.code) ? e.code : 'unknown';
  const requestId = typeof e?.id === 'string' ? oneLine(e.id) : undefined;
  const detail = typeof e?.detail === 'string' ? oneLine(e.detail) : undefined;
  return new Refusal(server, answer.status, code, requestId, detail, failedBefore);
}

// Server text goes into a journal line: one line, bounded.
function oneLine(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').slice(0, 200);
}

const REFUSAL_HINTS: Record<string, (fqdn: string) => string> = {
  'host-conflict': (fqdn) =>
    `The name ${fqdn} belongs to another machine, or this machine's certificate is enrolled ` +
    'under another name: choose another host name, or ask an IPA admin to remove the old host ' +
    `entry (ipa host-del ${fqdn}) if that machine is gone.`,
  'not-authorized': () =>
    'Ask an IPA admin to check the enrollment policy (ipa-hcc-ts status: registered, ' +
    "auto-enrollment on, organisation id) and the server's audit line with the request id.",
  'invalid-fqdn': () =>
    'Give the machine a valid fully qualified name inside the IPA domain (hostnamectl ' +
    'set-hostname), then run again.',
  'invalid-token': () =>
    'Run ipa-hcc-ts-enroll again for a fresh token; check that the clocks of this machine ' +
    'and the IPA servers agree (chronyc tracking).',
  'not-found': () =>
    'Check that the server URLs point at ipa-hcc-tsd (port 9443 unless configured otherwise).',
};

/** The user-facing failure for a refusal in `phase` of the enrollment of `fqdn`. */
export function refusalError(refusal: Refusal, phase: string, fqdn: string): EnrollError {
  const detail = refusal.detail ? `: ${refusal.detail}` : '';
  const id = refusal.requestId ? ` (request id ${refusal.requestId})` : '';
  const known = refusal.status === 404 ? 'not-found' : refusal.code;
  const hint =
    (REFUSAL_HINTS[refusal.code] ?? REFUSAL_HINTS[known])?.(fqdn) ??
    'This client and the server disagree on the protocol: update ipa-hcc-ts-enroll or the ' +
      'servers.';
  return new EnrollError(
    'refused',
    `${phase} refused by ${refusal.server}: ${refusal.status} ${refusal.code}${detail}${id}.`,
    hint,
    refusal,
  );
}
