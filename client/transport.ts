// One JSON POST to an enrollment server over mutual TLS: the machine's certificate and key on
// our side, only the IPA CA trusted on theirs. Quiet: callers decide what to report.
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { hostOf } from './server-url.js';

/** Largest answer read; host-conf answers are a few KiB. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** Longest Retry-After honoured, so a confused server cannot park the client for hours. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

export interface TlsIdentity {
  /** PEM of the IPA CA: the only certificates trusted for the server. */
  ca: string;
  cert: string;
  key: string;
}

export interface PostOptions {
  tls: TlsIdentity;
  timeoutMs: number;
  /** Address lookup to use instead of the system's. */
  lookup?: LookupFunction;
}

/** An HTTP answer: status, JSON body (undefined when not JSON) and Retry-After if any. */
export interface Answer {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

/** No HTTP answer: the server could not be reached, or did not finish in time. */
export class TransportError extends Error {
  /** errno-style code: ECONNREFUSED, ETIMEDOUT, ENOTFOUND, a TLS code, ... */
  readonly code: string;

  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.code = code;
  }
}

/** POSTs `body` as JSON to `path` on the server at `base` and reads the JSON answer. */
export function postJson(
  base: string,
  path: string,
  body: unknown,
  opts: PostOptions,
): Promise<Answer> {
  const url = new URL(path, base);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostOf(base),
        port: url.port === '' ? 443 : Number(url.port),
        path: url.pathname,
        method: 'POST',
        ca: opts.tls.ca,
        cert: opts.tls.cert,
        key: opts.tls.key,
        minVersion: 'TLSv1.2',
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new TransportError('EMSGSIZE', 'answer too large'));
            return;
          }

          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve(answerOf(res.statusCode ?? 0, Buffer.concat(chunks), res.headers)),
        );
        res.on('error', (err) => reject(toTransportError(err, opts.timeoutMs)));
      },
    );
    const timer = setTimeout(
      () => req.destroy(new TransportError('ETIMEDOUT', 'timed out')),
      opts.timeoutMs,
    );
    req.on('error', (err) => reject(toTransportError(err, opts.timeoutMs)));
    req.on('close', () => clearTimeout(timer));
    req.end(payload);
  });
}

function answerOf(
  status: number,
  raw: Buffer,
  headers: Record<string, string | string[] | undefined>,
): Answer {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = undefined;
  }

  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  return retryAfterMs === undefined ? { status, body } : { status, body, retryAfterMs };
}

/** Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP date, as milliseconds from now. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') {
    return undefined;
  }

  const ms = /^\d+$/.test(text.trim()) ? Number(text) * 1000 : Date.parse(text) - nowMs;
  if (Number.isNaN(ms)) {
    return undefined;
  }

  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

function toTransportError(err: unknown, timeoutMs: number): TransportError {
  if (err instanceof TransportError) {
    return err.code === 'ETIMEDOUT'
      ? new TransportError('ETIMEDOUT', `no answer within ${timeoutMs / 1000} s`)
      : err;
  }

  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'EUNKNOWN';
  return new TransportError(code, describe(code, e), err);
}

const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'name not found in DNS',
  EAI_AGAIN: 'DNS not answering',
};

function describe(code: string, e: NodeJS.ErrnoException): string {
  if (WORDS[code]) {
    return WORDS[code];
  }

  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    return `server certificate not trusted (${code})`;
  }

  // Resolver errors (queryA, queryAaaa) and getaddrinfo failures.
  if (e.syscall?.startsWith('query') || e.syscall === 'getaddrinfo') {
    return `DNS lookup failed (${code})`;
  }

  return `${code}: ${e.message.split('\n')[0]}`;
}
