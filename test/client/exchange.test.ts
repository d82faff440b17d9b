// One request over a list of servers, with a scripted transport: which failures move on to the
// next server, which stop everything, and what the round reports for the retry.
import { describe, expect, it } from 'vitest';
import { EnrollError } from '../../client/errors.js';
import { type ExchangeContext, postToFirst, Refusal, refusalError } from '../../client/exchange.js';
import { Deadline, Retryable } from '../../client/retry.js';
import { type Answer, TransportError } from '../../client/transport.js';

type Script = Record<string, Answer | TransportError>;

function context(script: Script, remainingMs = 60_000) {
  const asked: Array<{ server: string; timeoutMs: number }> = [];
  const notes: string[] = [];
  const ctx: ExchangeContext = {
    tls: { ca: '', cert: '', key: '' },
    timeoutMs: 30_000,
    deadline: new Deadline({ now: () => 0 }, remainingMs),
    note: (l) => notes.push(l),
    post: (server, _path, _body, opts) => {
      asked.push({ server, timeoutMs: opts.timeoutMs });
      const outcome = script[server]!;
      return outcome instanceof TransportError ? Promise.reject(outcome) : Promise.resolve(outcome);
    },
  };
  return { ctx, asked, notes };
}

const refused = new TransportError('ECONNREFUSED', 'connection refused');
const ok: Answer = { status: 200, body: { fine: true } };
const errorAnswer = (status: number, code: string, retryAfterMs?: number): Answer => ({
  status,
  body: { errors: [{ id: 'rid-1', status: String(status), title: 't', code }] },
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

describe('postToFirst', () => {
  it('when the first server refuses connections and the second answers 503 then the third one serves', async () => {
    const { ctx, asked, notes } = context({
      a: refused,
      b: errorAnswer(503, 'unavailable', 30_000),
      c: ok,
    });

    const served = await postToFirst('host-conf', ['a', 'b', 'c'], '/p', {}, ctx);

    expect(served).toEqual({ server: 'c', answer: ok });
    expect(asked.map((a) => a.server)).toEqual(['a', 'b', 'c']);
    expect(notes).toEqual([
      'host-conf: a failed: connection refused; trying the next server',
      'host-conf: b failed: answered 503 unavailable; trying the next server',
    ]);
  });

  it('when the first server answers 409 then it stops there and asks no other server', async () => {
    const { ctx, asked } = context({ a: errorAnswer(409, 'host-conflict'), b: ok });

    const err = await postToFirst('register', ['a', 'b'], '/p', {}, ctx).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Refusal);
    expect(err).toMatchObject({
      server: 'a',
      status: 409,
      code: 'host-conflict',
      requestId: 'rid-1',
      failedBefore: 0,
    });
    expect(asked.map((a) => a.server)).toEqual(['a']);
  });

  it('when a server answers 429 then the next one is asked and Retry-After is kept for the round', async () => {
    const { ctx } = context({ a: errorAnswer(429, 'rate-limited', 12_000), b: refused });

    const err = await postToFirst('host-conf', ['a', 'b'], '/p', {}, ctx).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Retryable);
    expect((err as Retryable).message).toBe(
      'host-conf: a answered 429 rate-limited; b connection refused',
    );
    expect((err as Retryable).retryAfterMs).toBe(12_000);
  });

  it('when little time is left before the deadline then the request timeout shrinks to it', async () => {
    const { ctx, asked } = context({ a: ok }, 1200);

    await postToFirst('host-conf', ['a'], '/p', {}, ctx);

    expect(asked).toEqual([{ server: 'a', timeoutMs: 1200 }]);
  });

  it('when no time is left then no server is asked and the round can only fail', async () => {
    const { ctx, asked } = context({ a: ok }, 0);

    const err = await postToFirst('host-conf', ['a'], '/p', {}, ctx).catch((e: unknown) => e);

    expect((err as Retryable).message).toBe('host-conf: no time left to try a server');
    expect((err as Retryable).attempted).toBe(false);
    expect(asked).toEqual([]);
  });
});

describe('refusalError', () => {
  it('when a refusal carries a detail then the message has code, detail and request id, and exit code 3', () => {
    const err = refusalError(
      new Refusal('https://ipa.ipa.test:9443', 400, 'invalid-fqdn', 'rid-9', 'too long', 0),
      'host-conf',
      'web01.ipa.test',
    );

    expect(err).toBeInstanceOf(EnrollError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      'host-conf refused by https://ipa.ipa.test:9443: 400 invalid-fqdn: too long (request id rid-9).',
    );
    expect(err.hint).toBe(
      'Give the machine a valid fully qualified name inside the IPA domain (hostnamectl ' +
        'set-hostname), then run again.',
    );
  });

  it('when a 404 comes without a known code then the hint is about the server URL', () => {
    const err = refusalError(
      new Refusal('https://web.ipa.test', 404, 'unknown', undefined, undefined, 0),
      'host-conf',
      'web01.ipa.test',
    );

    expect(err.message).toBe('host-conf refused by https://web.ipa.test: 404 unknown.');
    expect(err.hint).toBe(
      'Check that the server URLs point at ipa-hcc-tsd (port 9443 unless configured otherwise).',
    );
  });
});
