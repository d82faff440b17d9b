// Benchmarks of the enrollment path against the real directory (npm run bench). Vitest prints
// each group's results as ratios to the fastest member, measured in the same run.
import { randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, bench, describe } from 'vitest';
import { toPublicSigningJwk } from '../protocol/jwk.js';
import type { HostConfResponse } from '../protocol/messages.js';
import {
  loadSigningKey,
  signHostToken,
  type SigningKey,
  type TokenSubject,
  type VerificationKey,
  verifyHostToken,
} from '../ipa-plugin/daemon/host-token.js';
import { directory, resetDirectory } from '../test/harness/directory.js';
import { adminEnv } from '../test/support/admin.js';
import { call, clientCert, makePki, startTestDaemon } from '../test/support/daemon.js';

const ORG = '31337';
const subject: TokenSubject = {
  sub: randomUUID(),
  rhorg: ORG,
  rhinvid: randomUUID(),
  rhfqdn: 'b.ipa.test',
  rhdomid: randomUUID(),
};
let signing: SigningKey;
let verification: VerificationKey[];
let token: string;

describe('host token', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await toPublicSigningJwk(await exportJWK(publicKey), Date.now() / 1000 + 3600);
  signing = await loadSigningKey(await exportPKCS8(privateKey), jwk.kid);
  verification = [{ jwk, enabled: true, notAfter: new Date(Date.now() + 3_600_000) }];
  token = (await signHostToken(subject, [signing], new Date())).token;

  bench('sign', async () => {
    await signHostToken(subject, [signing], new Date());
  });

  bench('verify', async () => {
    await verifyHostToken(token, verification, subject, new Date());
  });
});

describe('enrollment over mutual TLS against 389-ds', async () => {
  await resetDirectory();
  const env = await adminEnv();
  await env.cli(['install']);
  await env.cli(['register', '-U', '--org-id', ORG]);
  const pki = makePki();
  const unlimited = { rateLimitPerAddress: 1_000_000, rateLimitPerSubject: 1_000_000 };
  const daemon = await startTestDaemon(env, pki, unlimited);
  const cert = clientCert(pki.clientCa, ORG, randomUUID());
  // One certificate owns one host: make them before timing (RSA key generation is slow).
  const REGISTRATIONS = 40;
  const certs = Array.from({ length: REGISTRATIONS + 10 }, () =>
    clientCert(pki.clientCa, ORG, randomUUID()),
  );
  let n = 0;

  afterAll(async () => {
    await daemon.stop();
    await env.cleanup();
  });

  bench('GET /health (TLS handshake, no directory write)', async () => {
    await call(daemon.port, pki, '/health');
  });

  bench('host-conf', async () => {
    await call(daemon.port, pki, `/hcc/host-conf/${randomUUID()}/h${n++}.${directory().domain}`, {
      body: {},
      client: cert,
    });
  });

  bench(
    'host-conf + register (new host entry)',
    async () => {
      const c = certs.pop()!;
      const fqdn = `r${n++}.${directory().domain}`;
      const inv = randomUUID();
      const conf = await call(daemon.port, pki, `/hcc/host-conf/${inv}/${fqdn}`, {
        body: {},
        client: c,
      });
      const { domain_id } = conf.body as HostConfResponse;
      const res = await call(daemon.port, pki, `/hcc/${inv}/${fqdn}`, {
        body: {
          domain_type: 'rhel-idm',
          domain_name: directory().domain,
          domain_id,
          token: (conf.body as HostConfResponse).token,
        },
        client: c,
      });
      if (res.status !== 200) {
        throw new Error(`register answered ${res.status}`);
      }
    },
    { iterations: REGISTRATIONS, warmupIterations: 2, time: 0 },
  );
});
