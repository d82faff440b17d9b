// One mTLS JSON POST: answers, Retry-After, and each way of getting no answer, against servers
// on loopback; names resolved through a real DNS server on loopback when dns_servers is set.
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, resolverLookup } from '../../client/dns.js';
import {
  parseRetryAfter,
  postJson,
  type TlsIdentity,
  TransportError,
} from '../../client/transport.js';
import { freeLoopbackPorts } from '../harness/ports.js';
import { clientCert, issueCertificate, makeCa } from '../support/certs.js';
import { makePki, type TestPki } from '../support/daemon.js';
import { startDns, type TestDns } from '../support/dns.js';
import { type FakeServer, startFakeServer } from './fake-server.js';

let pki: TestPki;
let tls: TlsIdentity;
let busy: FakeServer;
let named: FakeServer;
let dns: TestDns;
let silent: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  pki = makePki();
  const me = clientCert(pki.clientCa, '1', 'me');
  tls = { ca: pki.serverCa.certPem, cert: me.certPem, key: me.keyPem };
  busy = await startFakeServer(pki.server, {
    status: 503,
    body: { errors: [{ id: 'x', status: '503', title: 't', code: 'unavailable' }] },
    headers: { 'retry-after': '30' },
  });
  const svc = issueCertificate({
    subject: [{ shortName: 'CN', value: 'svc.ipa.test' }],
    issuer: pki.serverCa,
    usage: 'server',
    altNames: { dns: ['svc.ipa.test'] },
  });
  named = await startFakeServer(svc, { status: 200, body: { hello: 'world' } });
  dns = await startDns({ addresses: [{ name: 'svc.ipa.test', ip: '127.0.0.1' }] });
  // accepts connections and never says anything
  silent = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await Promise.all([busy.stop(), named.stop(), dns.stop()]);
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => silent.close(r));
});

async function transportFailure(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('postJson', () => {
  it('when the server answers 503 with Retry-After then status, body and the wait come back', async () => {
    const answer = await postJson(busy.url, '/hcc/host-conf/a/b', {}, { tls, timeoutMs: 5000 });

    expect(answer).toEqual({
      status: 503,
      body: { errors: [{ id: 'x', status: '503', title: 't', code: 'unavailable' }] },
      retryAfterMs: 30_000,
    });
    expect(busy.requests.at(-1)).toBe('/hcc/host-conf/a/b');
  });

  it('when the port is closed then it is "connection refused"', async () => {
    const [port] = (await freeLoopbackPorts(1)) as [number];

    const err = await transportFailure(
      postJson(`https://127.0.0.1:${port}`, '/', {}, { tls, timeoutMs: 5000 }),
    );

    expect([err.code, err.message]).toEqual(['ECONNREFUSED', 'connection refused']);
  });

  it('when the server never answers then the request ends at the timeout', async () => {
    const { port } = silent.address() as AddressInfo;

    const err = await transportFailure(
      postJson(`https://127.0.0.1:${port}`, '/', {}, { tls, timeoutMs: 300 }),
    );

    expect([err.code, err.message]).toEqual(['ETIMEDOUT', 'no answer within 0.3 s']);
  });

  it('when the server certificate is from another CA then it is not trusted', async () => {
    const other = { ...tls, ca: makeCa('Other CA').certPem };

    const err = await transportFailure(
      postJson(busy.url, '/', {}, { tls: other, timeoutMs: 5000 }),
    );

    expect(err.message).toBe('server certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
  });

  it('when the URL names the server and dns_servers resolve it then the certificate name matches', async () => {
    const { port } = new URL(named.url);
    const lookup = resolverLookup(createResolver([dns.address]));

    const answer = await postJson(
      `https://svc.ipa.test:${port}`,
      '/x',
      {},
      { tls, timeoutMs: 5000, lookup },
    );

    expect(answer).toEqual({ status: 200, body: { hello: 'world' } });
  });

  it('when the name is unknown to the configured resolver then it is a DNS failure', async () => {
    const lookup = resolverLookup(createResolver([dns.address]));

    const err = await transportFailure(
      postJson('https://nowhere.ipa.test:9443', '/', {}, { tls, timeoutMs: 5000, lookup }),
    );

    expect([err.code, err.message]).toEqual(['EREFUSED', 'DNS lookup failed (EREFUSED)']);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['86400', 900_000],
    ['soon', undefined],
    [undefined, undefined],
  ])('when Retry-After is %j then the wait is %j ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});
