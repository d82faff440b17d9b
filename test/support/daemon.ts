// The enrollment daemon in-process, on loopback, against the test directory, bound as the
// enrollment service principal, with a PKI made at test time; and an mTLS client for it.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../common/log.js';
import { listKeys, privateKeyPath } from '../../ipa-plugin/domain/keys.js';
import { DAEMON_DEFAULTS, type DaemonConfig } from '../../ipa-plugin/daemon/config.js';
import type { EnrollmentContext } from '../../ipa-plugin/daemon/enrollment.js';
import { loadSigningKey } from '../../ipa-plugin/daemon/host-token.js';
import { createEnrollmentServer } from '../../ipa-plugin/daemon/server.js';
import { EnrollmentStore } from '../../ipa-plugin/daemon/store.js';
import { servicePrincipal } from '../../ipa-plugin/install/service-step.js';
import { simpleBind } from '../../ipa-plugin/ldap/bind.js';
import { Directory } from '../../ipa-plugin/ldap/directory.js';
import { directory } from '../harness/directory.js';
import type { AdminEnv } from './admin.js';
import { clientCert, type Issued, makeCa, serverCert } from './certs.js';

export interface TestPki {
  serverCa: Issued;
  server: Issued;
  clientCa: Issued;
}

/** A server CA with a localhost certificate and a client CA (the "Candlepin" of the tests). */
export function makePki(): TestPki {
  const serverCa = makeCa('Test IPA CA');
  return { serverCa, server: serverCert(serverCa), clientCa: makeCa('Test Candlepin CA') };
}

export interface RunningTestDaemon {
  app: FastifyInstance;
  port: number;
  ctx: EnrollmentContext;
  /** Everything the daemon logged, one JSON object a line. */
  logLines: string[];
  /** The service's own directory connection. */
  dir: Directory;
  clock: { now: Date | undefined };
  stop(): Promise<void>;
}

/** Test defaults: generous limits unless a test lowers them. */
export function testConfig(overrides: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    listenAddress: '127.0.0.1',
    port: 0,
    tlsCert: '',
    tlsKey: '',
    clientCaDir: '',
    ipaCaFile: '',
    ldapUri: undefined,
    maxConnections: Number(DAEMON_DEFAULTS.max_connections),
    maxConnectionsPerAddress: 1000,
    rateLimitPerSubject: 1000,
    rateLimitPerAddress: 10_000,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    ...overrides,
  };
}

/** The URL the enrollment service binds to in tests. */
export function serviceUrl(): string {
  const d = directory();
  return d.ldapiSocket ? `ldapi://${encodeURIComponent(d.ldapiSocket)}` : d.ldapUrl;
}

/** Starts the daemon for the domain the admin env installed and registered. */
export async function startTestDaemon(
  env: AdminEnv,
  pki: TestPki,
  overrides: Partial<DaemonConfig> = {},
  serverFqdn = directory().serverFqdn,
  directoryUrl = serviceUrl(),
): Promise<RunningTestDaemon> {
  const d = directory();
  const bindDn = env.layout.serviceDn(servicePrincipal(d.serverFqdn, d.realm));
  const bind = simpleBind(bindDn, `${env.confDir}/service.password`);
  const dir = new Directory({ url: directoryUrl, bind, connectTimeoutMs: 2000 });
  const clock: { now: Date | undefined } = { now: undefined };
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const ctx: EnrollmentContext = {
    store: new EnrollmentStore(dir, env.layout),
    serverFqdn,
    realm: d.realm,
    domain: d.domain,
    caBundle: pki.serverCa.certPem,
    signingKeys: await ownKeys(env, serverFqdn),
    now: () => clock.now ?? new Date(),
  };
  const app = await createEnrollmentServer({
    config: testConfig(overrides),
    tls: { cert: pki.server.certPem, key: pki.server.keyPem, clientCas: [pki.clientCa.certPem] },
    ctx,
    audit: createLogger(sink),
    health: () => dir.whoami().then(() => true),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app,
    port,
    ctx,
    logLines,
    dir,
    clock,
    stop: async () => {
      await app.close();
      await dir.close();
    },
  };
}

async function ownKeys(env: AdminEnv, server: string) {
  const keys = (await listKeys(env.dm, env.layout)).filter(
    (k) => k.state === 'active' && k.server === server,
  );
  return Promise.all(
    keys.map(async (k) =>
      loadSigningKey(await readFile(privateKeyPath(env.keyDir, k.kid), 'utf8'), k.kid),
    ),
  );
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT';
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  client?: Issued;
}

/** One HTTPS request to the daemon with an optional client certificate. */
export function call(
  port: number,
  pki: TestPki,
  path: string,
  opts: CallOptions = {},
): Promise<HttpResult> {
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
        ca: pki.serverCa.certPem,
        servername: 'localhost',
        ...(opts.client ? { cert: opts.client.certPem, key: opts.client.keyPem } : {}),
        headers:
          payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON; keep the text
          }

          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export { clientCert };
