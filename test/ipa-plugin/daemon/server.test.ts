// The enrollment endpoint end to end in one process: real 389-ds, real mutual TLS with
// certificates from test CAs, real ES256 signatures, one-time passwords proven by LDAP binds.
import { createHmac, randomUUID, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { generateKeyPair, GeneralSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../protocol/errors.js';
import type { HostConfResponse, RegisterResponse } from '../../../protocol/messages.js';
import { simpleBindWithSecret } from '../../../ipa-plugin/ldap/bind.js';
import { Directory } from '../../../ipa-plugin/ldap/directory.js';
import { eq } from '../../../ipa-plugin/ldap/filter.js';
import {
  directory,
  resetDirectory,
  restartDirectory,
  trackEntry,
} from '../../harness/directory.js';
import { addEnrollmentServer } from '../../support/servers.js';
import { adminEnv, type AdminEnv } from '../../support/admin.js';
import { clientCert, type Issued, makeCa } from '../../support/certs.js';
import {
  call,
  type CallOptions,
  makePki,
  type RunningTestDaemon,
  serviceUrl,
  startTestDaemon,
  type TestPki,
} from '../../support/daemon.js';

const ORG = '7654321';
let env: AdminEnv;
let pki: TestPki;
let daemon: RunningTestDaemon;
const secrets: string[] = [];
const bodies: string[] = [];

const d = () => directory();
const host = (name: string) => `${name}.${d().domain}`;
const client = (cn = randomUUID(), org = ORG) => clientCert(pki.clientCa, org, cn);

async function send(path: string, opts: CallOptions) {
  const res = await call(daemon.port, pki, path, opts);
  bodies.push(res.text);
  return res;
}

async function hostConf(
  c: Issued | undefined,
  fqdn: string,
  inv: string = randomUUID(),
  body: unknown = {},
) {
  const res = await send(`/hcc/host-conf/${inv}/${fqdn}`, { body, ...(c ? { client: c } : {}) });
  if (res.status === 200) {
    secrets.push((res.body as HostConfResponse).token);
  }

  return res;
}

async function registration(): Promise<{ domain_id: string }> {
  const run = await env.cli(['status', '--json']);
  return JSON.parse(run.out) as { domain_id: string };
}

async function register(c: Issued, fqdn: string, inv: string, token: string, extra: object = {}) {
  const { domain_id } = await registration();
  const body = { domain_type: 'rhel-idm', domain_name: d().domain, domain_id, token, ...extra };
  const res = await send(`/hcc/${inv}/${fqdn}`, { body, client: c });
  if (res.status === 200) {
    secrets.push((res.body as RegisterResponse).otp);
  }

  return res;
}

/** host-conf then register with the same certificate and inventory id. */
async function enroll(c: Issued, fqdn: string, inv: string = randomUUID()) {
  const conf = await hostConf(c, fqdn, inv);
  expect(conf.status, conf.text).toBe(200);
  trackEntry(env.layout.hostDn(fqdn.toLowerCase()));
  return register(c, fqdn, inv, (conf.body as HostConfResponse).token);
}

/** A raw TLS connection to a daemon with a client certificate (errors are ignored). */
function tlsTo(port: number, c: Issued, extra: { maxVersion?: 'TLSv1.2' } = {}) {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    ca: pki.serverCa.certPem,
    servername: 'localhost',
    cert: c.certPem,
    key: c.keyPem,
    ...extra,
  });
  socket.on('error', () => undefined);
  return socket;
}

function cnOf(c: Issued): string {
  return /CN=(.+)/.exec(new X509Certificate(c.certPem).subject)![1]!;
}

function errorCode(res: { body: unknown }): string | undefined {
  return (res.body as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
}

function auditFor(requestId: string, logLines = daemon.logLines): Record<string, unknown> {
  const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const found = lines.filter((l) => l.request_id === requestId);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function requestId(res: { body: unknown }): string {
  return (res.body as { errors: Array<{ id: string }> }).errors[0]!.id;
}

async function otpBinds(fqdn: string, otp: string): Promise<boolean> {
  const dir = new Directory({
    url: serviceUrl(),
    bind: simpleBindWithSecret(env.layout.hostDn(fqdn), otp),
  });
  try {
    await dir.connect();
    return (await dir.whoami()).toLowerCase() === env.layout.hostDn(fqdn).toLowerCase();
  } catch {
    return false;
  } finally {
    await dir.close();
  }
}

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  expect((await env.cli(['install'])).code).toBe(0);
  await restartDirectory();
  await env.dm.close();
  expect((await env.cli(['register', '-U', '--org-id', ORG])).code).toBe(0);
  pki = makePki();
  daemon = await startTestDaemon(env, pki);
});

afterAll(async () => {
  await daemon.stop();
  await env.cli(['unregister', '-U']);
  await env.cleanup();
});

describe('host-conf', () => {
  it('when a trusted certificate asks for a name in the domain then it gets the configuration and a token', async () => {
    const c = client();
    const inv = randomUUID();
    const res = await hostConf(c, host('conf1'), inv);

    expect(res.status).toBe(200);
    const body = res.body as HostConfResponse;
    const { domain_id } = await registration();
    expect(body).toMatchObject({
      auto_enrollment_enabled: true,
      domain_id,
      domain_name: d().domain,
      domain_type: 'rhel-idm',
      'rhel-idm': {
        realm_name: d().realm,
        cabundle: pki.serverCa.certPem,
        enrollment_servers: [{ fqdn: d().serverFqdn }],
      },
    });
    const jws = JSON.parse(body.token) as {
      payload: string;
      signatures: Array<{ protected: string }>;
    };
    expect(jws.signatures).toHaveLength(1);
    const header = JSON.parse(
      Buffer.from(jws.signatures[0]!.protected, 'base64url').toString(),
    ) as object;
    expect(header).toEqual({ alg: 'ES256', kid: daemon.ctx.signingKeys[0]!.kid });
    const claims = JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const cn = cnOf(c);
    expect(claims).toMatchObject({
      iss: 'idmsvc/v1',
      aud: ['join host'],
      sub: cn,
      rhorg: ORG,
      rhinvid: inv,
      rhfqdn: host('conf1'),
      rhdomid: domain_id,
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
  });

  it('when a location is requested then servers of that location come first', async () => {
    const second = `ipa2.${d().domain}`;
    await addEnrollmentServer(env, second, 'dc2');

    const plain = await hostConf(client(), host('loc1'));
    const located = await hostConf(client(), host('loc2'), randomUUID(), { location: 'dc2' });

    const servers = (r: typeof plain) =>
      (r.body as HostConfResponse)['rhel-idm'].enrollment_servers;
    expect(servers(plain)).toEqual([{ fqdn: d().serverFqdn }, { fqdn: second, location: 'dc2' }]);
    expect(servers(located)).toEqual([{ fqdn: second, location: 'dc2' }, { fqdn: d().serverFqdn }]);
  });

  it.each([
    [
      'a name outside the realm domains that merely ends with its letters',
      `evil${d().domain}`,
      403,
    ],
    ['an IPA server', d().serverFqdn, 403],
    ['localhost', 'localhost.localdomain', 400],
    ['a name that is not fully qualified', 'web01', 400],
    ['a label with an underscore', `web_01.${d().domain}`, 400],
    ["the name of IPA's own CA", `ipa-ca.${d().domain}`, 400],
    ['spelled with a Kelvin sign that lowercases to k', `%E2%84%AAelvin.${d().domain}`, 400],
  ])('when the name is %s then it is refused', async (_what, fqdn, status) => {
    const res = await hostConf(client(), fqdn);

    expect(res.status).toBe(status);
    expect(errorCode(res)).toBe(status === 403 ? 'not-authorized' : 'invalid-fqdn');
  });

  it('when the name has 63 characters then it is accepted, and 64 are refused naming the limit', async () => {
    const pad = (n: number) => `${'a'.repeat(n - d().domain.length - 1)}.${d().domain}`;

    const ok = await hostConf(client(), pad(63));
    const long = await hostConf(client(), pad(64));

    expect(ok.status).toBe(200);
    expect(long.status).toBe(400);
    expect(errorCode(long)).toBe('invalid-fqdn');
    expect((long.body as { errors: Array<{ detail: string }> }).errors[0]!.detail).toContain(
      'at most 63',
    );
  });

  it('when the certificate names another organisation then it gets the plain refusal and the log the reason', async () => {
    const res = await hostConf(client(randomUUID(), '1111111'), host('org1'));

    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      errors: [
        {
          id: requestId(res),
          status: '403',
          title: ERROR_CODES['not-authorized'].title,
          code: 'not-authorized',
        },
      ],
    });
    expect(auditFor(requestId(res))).toMatchObject({
      reason: 'org-mismatch',
      outcome: 'refused',
      fqdn: host('org1'),
    });
  });

  it.each([
    [
      'from an untrusted CA',
      () => clientCert(makeCa('Evil CA'), ORG, randomUUID()),
      'certificate-unable_to_verify_leaf_signature',
    ],
    [
      'expired',
      () =>
        clientCert(pki.clientCa, ORG, randomUUID(), {
          notBefore: new Date(Date.now() - 7200_000),
          notAfter: new Date(Date.now() - 3600_000),
        }),
      'certificate-cert_has_expired',
    ],
    [
      'not yet valid',
      () =>
        clientCert(pki.clientCa, ORG, randomUUID(), { notBefore: new Date(Date.now() + 3600_000) }),
      'certificate-cert_not_yet_valid',
    ],
  ])('when the client certificate is %s then it is refused', async (_what, make, reason) => {
    const res = await hostConf(make(), host('cert1'));

    expect(res.status).toBe(403);
    expect(errorCode(res)).toBe('not-authorized');
    expect(auditFor(requestId(res)).reason).toBe(reason);
  });

  it('when no client certificate is sent then it is refused', async () => {
    const res = await hostConf(undefined, host('nocert'));

    expect(res.status).toBe(403);
    expect(auditFor(requestId(res)).reason).toBe('no-client-certificate');
  });

  it('when the certificate subject has no organisation then it is refused', async () => {
    const { issueCertificate } = await import('../../support/certs.js');
    const c = issueCertificate({
      subject: [{ shortName: 'CN', value: randomUUID() }],
      issuer: pki.clientCa,
      usage: 'client',
    });

    const res = await hostConf(c, host('noorg'));

    expect(res.status).toBe(403);
    expect(auditFor(requestId(res)).reason).toBe('subject-without-single-o-and-cn');
  });

  it('when the client tries to renegotiate TLS then the server refuses', async () => {
    const c = client();
    const socket = tlsTo(daemon.port, c, { maxVersion: 'TLSv1.2' });
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));

    const outcome = await new Promise<string>((r) => {
      // A server that ignores the request never answers it: no answer in 3 s is a refusal.
      setTimeout(() => r('no-answer'), 3000);
      socket.once('close', () => r('closed'));
      const started = socket.renegotiate({}, (err) => r(err ? 'refused' : 'renegotiated'));
      if (!started) {
        r('refused');
      }
    });
    socket.destroy();

    expect(outcome).not.toBe('renegotiated');
  });

  it('when the client certificate is a CA certificate then it is refused', async () => {
    const { issueCertificate } = await import('../../support/certs.js');
    const c = issueCertificate({
      subject: [
        { shortName: 'O', value: ORG },
        { shortName: 'CN', value: randomUUID() },
      ],
      issuer: pki.clientCa,
      ca: true,
      usage: 'client',
    });

    const res = await hostConf(c, host('ca1'));

    expect(res.status).toBe(403);
    expect(auditFor(requestId(res)).reason).toBe('certificate-is-a-ca');
  });

  it('when the subject holds characters outside the identity alphabet then it is refused', async () => {
    const res = await hostConf(clientCert(pki.clientCa, ORG, 'a,b=c'), host('chars'));

    expect(res.status).toBe(403);
    expect(auditFor(requestId(res)).reason).toBe('subject-value-invalid');
  });

  it('when two certificates name the same O and CN then they are one identity', async () => {
    const { issueCertificate } = await import('../../support/certs.js');
    const cn = randomUUID();
    const plain = client(cn);
    const withOu = issueCertificate({
      subject: [
        { shortName: 'OU', value: 'extra' },
        { shortName: 'O', value: ORG },
        { shortName: 'CN', value: cn },
      ],
      issuer: pki.clientCa,
      usage: 'client',
    });
    expect((await enroll(plain, host('same-id-a'))).status).toBe(200);

    const res = await enroll(withOu, host('same-id-b'));

    expect(res.status).toBe(409);
    expect(auditFor(requestId(res)).reason).toBe('certificate-owns-other-host');
  });

  it('when the body has an unknown field then it is refused as malformed', async () => {
    const res = await hostConf(client(), host('unk'), randomUUID(), { location: 'dc2', extra: 1 });

    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('invalid-request');
  });

  it('when the path is not valid percent-encoding then the error has the registry format', async () => {
    const res = await send(`/hcc/host-conf/${randomUUID()}/%zz.${d().domain}?secret=1`, {
      body: {},
      client: client(),
    });

    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('invalid-request');
    expect(res.text).not.toContain('secret');
  });

  it('when the body is 17 KiB then it is refused as too large', async () => {
    const res = await send(`/hcc/host-conf/${randomUUID()}/${host('big')}`, {
      rawBody: JSON.stringify({ location: 'x'.repeat(17 * 1024) }),
      client: client(),
    });

    expect(res.status).toBe(413);
    expect(errorCode(res)).toBe('body-too-large');
  });
});

describe('register', () => {
  it('when a host registers then its entry is what IPA writes, with HCC attributes, and the OTP binds', async () => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host('web01');

    const res = await enroll(c, fqdn, inv);

    expect(res.status, res.text).toBe(200);
    const body = res.body as RegisterResponse;
    expect(body.status).toBe('ok');
    expect(body.enrollment_server).toBe(d().serverFqdn);
    expect(body.kdc_cabundle).toBe(pki.serverCa.certPem);
    expect(body.otp).toMatch(/^[A-Za-z0-9]{32}$/);
    const entry = (await env.dm.get(env.layout.hostDn(fqdn), ['*', 'memberOf']))!;
    // The directory's memberOf plugin adds its class (memberOfAutoAddOC) when the host joins the
    // hcc-enrollment host group through automember.
    const added = ['ipasshgroupofpubkeys', 'nsmemberof'];
    const classes = entry.all('objectClass').map((o) => o.toLowerCase());
    expect(classes.filter((o) => !added.includes(o)).sort()).toEqual(
      [
        'top',
        'ipaobject',
        'nshost',
        'ipahost',
        'pkiuser',
        'ipaservice',
        'ieee802device',
        'ipasshhost',
        'hcchost',
      ].sort(),
    );
    expect(entry.first('fqdn')).toBe(fqdn);
    expect(entry.first('cn')).toBe(fqdn);
    expect(entry.first('serverHostName')).toBe('web01');
    expect(entry.first('managedBy')).toBe(env.layout.hostDn(fqdn));
    expect(entry.first('HCCSubscriptionId')).toBe(cnOf(c));
    expect(entry.first('HCCInventoryId')).toBe(inv);
    expect(entry.first('HCCOrgId')).toBe(ORG);
    expect(entry.first('HCCCertSubject')).toBe(`CN=${cnOf(c)},O=${ORG}`);
    expect(entry.first('ipaUniqueID')).not.toBe('autogenerate');
    expect(entry.has('krbPrincipalName')).toBe(false);
    expect(entry.all('memberOf').map((m) => m.toLowerCase())).toContain(
      env.layout.hostgroup.toLowerCase(),
    );
    expect(await otpBinds(fqdn, body.otp)).toBe(true);
    const wrong = `${body.otp.slice(0, -1)}${body.otp.endsWith('x') ? 'y' : 'x'}`;
    expect(await otpBinds(fqdn, wrong)).toBe(false);
  });

  it('when the name comes in mixed case then it is the same host, never two entries', async () => {
    const c = client();
    const first = await enroll(c, `Mixed01.${d().domain.toUpperCase()}`);
    const second = await enroll(c, host('mixed01'));

    expect([first.status, second.status]).toEqual([200, 200]);
    const found = await env.dm.search({
      base: env.layout.computers,
      filter: eq('fqdn', host('mixed01')),
    });
    expect(found).toHaveLength(1);
    expect(await otpBinds(host('mixed01'), (second.body as RegisterResponse).otp)).toBe(true);
    expect(await otpBinds(host('mixed01'), (first.body as RegisterResponse).otp)).toBe(false);
  });

  it('when the host has already joined then a second registration is a conflict, unless rebuilds are allowed', async () => {
    const c = client();
    const fqdn = host('joined');
    expect((await enroll(c, fqdn)).status).toBe(200);
    await env.dm.modify(env.layout.hostDn(fqdn), [
      { operation: 'add', attribute: 'objectClass', values: ['krbPrincipalAux', 'krbPrincipal'] },
      { operation: 'add', attribute: 'krbPrincipalName', values: [`host/${fqdn}@${d().realm}`] },
      { operation: 'add', attribute: 'krbPrincipalKey', values: ['not-a-real-key'] },
    ]);

    const refused = await enroll(c, fqdn);
    await env.dm.modify(env.layout.hcc, [
      { operation: 'replace', attribute: 'hccTsAllowRebuild', values: ['TRUE'] },
    ]);
    const rebuilt = await enroll(c, fqdn);
    await env.dm.modify(env.layout.hcc, [
      { operation: 'replace', attribute: 'hccTsAllowRebuild', values: ['FALSE'] },
    ]);

    expect(refused.status).toBe(409);
    expect(errorCode(refused)).toBe('host-conflict');
    expect(rebuilt.status).toBe(200);
    const entry = await env.dm.get(env.layout.hostDn(fqdn), ['krbPrincipalKey']);
    expect(entry!.has('krbPrincipalKey')).toBe(false);
    expect(await otpBinds(fqdn, (rebuilt.body as RegisterResponse).otp)).toBe(true);
  });

  it('when another certificate claims an enrolled name then it is a conflict naming nothing private', async () => {
    const fqdn = host('taken');
    const owner = client();
    expect((await enroll(owner, fqdn)).status).toBe(200);

    const res = await enroll(client(), fqdn);

    expect(res.status).toBe(409);
    expect(res.text).not.toContain(ORG);
    expect(res.text).not.toMatch(/CN=/);
    expect(auditFor(requestId(res)).reason).toBe('fqdn-owned-by-other-certificate');
  });

  it('when the same certificate asks for a second name then the conflict names the host it owns', async () => {
    const c = client();
    expect((await enroll(c, host('first'))).status).toBe(200);

    const res = await enroll(c, host('second'));

    expect(res.status).toBe(409);
    expect((res.body as { errors: Array<{ detail: string }> }).errors[0]!.detail).toBe(
      `this certificate is already enrolled as ${host('first')}`,
    );
    expect(await env.dm.exists(env.layout.hostDn(host('second')))).toBe(false);
  });

  it('when two registrations for one name arrive at the same moment then exactly one host entry results', async () => {
    const fqdn = host('race');
    const a = client();
    const b = client();
    const inv = [randomUUID(), randomUUID()];
    const confs = await Promise.all([hostConf(a, fqdn, inv[0]), hostConf(b, fqdn, inv[1])]);
    trackEntry(env.layout.hostDn(fqdn));

    const results = await Promise.all([
      register(a, fqdn, inv[0]!, (confs[0].body as HostConfResponse).token),
      register(b, fqdn, inv[1]!, (confs[1].body as HostConfResponse).token),
    ]);

    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const found = await env.dm.search({ base: env.layout.computers, filter: eq('fqdn', fqdn) });
    expect(found).toHaveLength(1);
    const winner = results.find((r) => r.status === 200)!;
    expect(await otpBinds(fqdn, (winner.body as RegisterResponse).otp)).toBe(true);
  });
});

describe('register: the host token', () => {
  let base: Date;

  beforeAll(() => {
    base = new Date(Math.floor(Date.now() / 1000) * 1000);
  });

  async function tokenAt(c: Issued, fqdn: string, inv: string, at: Date): Promise<string> {
    daemon.clock.now = at;
    try {
      const res = await hostConf(c, fqdn, inv);
      expect(res.status).toBe(200);
      return (res.body as HostConfResponse).token;
    } finally {
      daemon.clock.now = undefined;
    }
  }

  async function registerAt(c: Issued, fqdn: string, inv: string, token: string, at: Date) {
    daemon.clock.now = at;
    try {
      trackEntry(env.layout.hostDn(fqdn));
      return await register(c, fqdn, inv, token);
    } finally {
      daemon.clock.now = undefined;
    }
  }

  it.each([
    [59, 200],
    [61, 401],
  ])('when exp is %i s in the past then the status is %i', async (late, status) => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host(`exp${late}`);
    const token = await tokenAt(c, fqdn, inv, base);

    const res = await registerAt(
      c,
      fqdn,
      inv,
      token,
      new Date(base.getTime() + (600 + late) * 1000),
    );

    expect(res.status).toBe(status);
    if (status === 401) {
      expect(errorCode(res)).toBe('invalid-token');
      expect(auditFor(requestId(res)).reason).toBe('token-expired');
    }
  });

  it.each([
    [30, 200],
    [90, 401],
  ])('when nbf is %i s ahead then the status is %i', async (ahead, status) => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host(`nbf${ahead}`);
    const token = await tokenAt(c, fqdn, inv, new Date(base.getTime() + ahead * 1000));

    const res = await registerAt(c, fqdn, inv, token, base);

    expect(res.status).toBe(status);
  });

  it('when the token was issued for another name then it is refused', async () => {
    const c = client();
    const inv = randomUUID();
    const token = await tokenAt(c, host('tok-a'), inv, new Date());

    const res = await registerAt(c, host('tok-b'), inv, token, new Date());

    expect(res.status).toBe(401);
    expect(auditFor(requestId(res)).reason).toBe('token-claim-mismatch:rhfqdn');
  });

  it('when a token is used twice then the replay is refused, also by a restarted daemon', async () => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host('replay');
    const token = await tokenAt(c, fqdn, inv, new Date());
    expect((await registerAt(c, fqdn, inv, token, new Date())).status).toBe(200);

    const again = await registerAt(c, fqdn, inv, token, new Date());
    const before = daemon.logLines;
    await daemon.stop();
    daemon = await startTestDaemon(env, pki);
    const afterRestart = await registerAt(c, fqdn, inv, token, new Date());

    expect(again.status).toBe(401);
    expect(auditFor(requestId(again), before).reason).toBe('token-replayed');
    expect(afterRestart.status).toBe(401);
    expect(auditFor(requestId(afterRestart)).reason).toBe('token-replayed');
  });

  it('when the signing key is revoked then its tokens are refused at once', async () => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host('revoked');
    const token = await tokenAt(c, fqdn, inv, new Date());
    const kid = daemon.ctx.signingKeys[0]!.kid;
    expect((await env.cli(['keys', 'revoke', kid])).code).toBe(0);

    const res = await registerAt(c, fqdn, inv, token, new Date());

    expect(res.status).toBe(401);
    expect(auditFor(requestId(res)).reason).toBe('token-revoked-key');
    const unsigned = await hostConf(client(), host('after-revoke'));
    expect(unsigned.status).toBe(503);
    expect(auditFor(requestId(unsigned)).reason).toBe('no-signing-key');
    await daemon.stop();
    daemon = await startTestDaemon(env, pki);
  });

  it('when the token is signed by a key of another domain then it is refused', async () => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host('foreign');
    const genuine = JSON.parse(await tokenAt(c, fqdn, inv, new Date())) as { payload: string };
    const { privateKey } = await generateKeyPair('ES256');
    const payload = Buffer.from(genuine.payload, 'base64url');
    const forged = await new GeneralSign(payload)
      .addSignature(privateKey)
      .setProtectedHeader({ alg: 'ES256', kid: 'AAAAAAAA' })
      .sign();

    const res = await registerAt(c, fqdn, inv, JSON.stringify(forged), new Date());

    expect(res.status).toBe(401);
    expect(auditFor(requestId(res)).reason).toBe('token-unknown-kid');
  });

  it.each(['none', 'HS256'])('when the token uses alg %s then it is refused', async (alg) => {
    const c = client();
    const inv = randomUUID();
    const fqdn = host(`alg${alg.toLowerCase()}`);
    const genuine = JSON.parse(await tokenAt(c, fqdn, inv, new Date())) as { payload: string };
    const kid = daemon.ctx.signingKeys[0]!.kid;
    const header = Buffer.from(JSON.stringify({ alg, kid })).toString('base64url');
    const jwk = (await env.dm.get(env.layout.jwkDn(kid)))!.first('HCCPublicJWK')!;
    const signature =
      alg === 'none'
        ? ''
        : createHmac('sha256', jwk).update(`${header}.${genuine.payload}`).digest('base64url');
    const token = JSON.stringify({
      payload: genuine.payload,
      signatures: [{ protected: header, signature }],
    });

    const res = await registerAt(c, fqdn, inv, token, new Date());

    expect(res.status).toBe(401);
    expect(auditFor(requestId(res)).reason).toBe('token-unsupported-alg');
  });
});

describe('limits and availability', () => {
  it('when a client sends its headers one byte a second then the server closes the connection', async () => {
    const c = client();
    const socket = tlsTo(daemon.port, c);
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const request = `POST /hcc/host-conf/${randomUUID()}/${host('slow')} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    let sent = 0;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    const timer = setInterval(() => {
      if (sent < request.length && !socket.destroyed) {
        socket.write(request[sent++]!);
      }
    }, 1000);

    await closed;
    clearInterval(timer);

    expect(sent).toBeLessThan(request.length);
  });

  it('when one certificate exceeds its rate then it gets 429 with Retry-After', async () => {
    const limited = await startTestDaemon(env, pki, { rateLimitPerSubject: 3 });
    try {
      const c = client();
      const results = [];
      for (let i = 0; i < 4; i++) {
        const path = `/hcc/host-conf/${randomUUID()}/${host('rate')}`;
        results.push(await call(limited.port, pki, path, { body: {}, client: c }));
      }

      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      const last = results[3]!;
      expect(last.headers['retry-after']).toMatch(/^\d+$/);
      expect(errorCode(last)).toBe('rate-limited');
      const other = await call(
        limited.port,
        pki,
        `/hcc/host-conf/${randomUUID()}/${host('rate2')}`,
        { body: {}, client: client() },
      );
      expect(other.status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('when one address exceeds its rate then it gets 429, whatever certificates it uses', async () => {
    const limited = await startTestDaemon(env, pki, { rateLimitPerAddress: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const path = `/hcc/host-conf/${randomUUID()}/${host(`addr${i}`)}`;
        statuses.push((await call(limited.port, pki, path, { body: {}, client: client() })).status);
      }

      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limited.stop();
    }
  });

  it('when more connections are open than allowed then the extra one is closed at once', async () => {
    const capped = await startTestDaemon(env, pki, { maxConnections: 2 });
    const c = client();
    const open = () => tlsTo(capped.port, c);
    try {
      const held = [open(), open()];
      await Promise.all(held.map((s) => new Promise((r) => s.once('secureConnect', r))));
      const extra = open();
      const outcome = await new Promise<string>((r) => {
        extra.once('secureConnect', () => r('connected'));
        extra.once('close', () => r('closed'));
      });

      expect(outcome).toBe('closed');
      held.forEach((s) => s.destroy());
    } finally {
      await capped.stop();
    }
  });

  it('when one address holds its share of connections without speaking then its next one is closed', async () => {
    const capped = await startTestDaemon(env, pki, { maxConnectionsPerAddress: 2 });
    const { connect } = await import('node:net');
    const raw = () => {
      const s = connect(capped.port, '127.0.0.1');
      s.on('error', () => undefined);
      return s;
    };
    try {
      const held = [raw(), raw()];
      await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
      const extra = raw();
      const closed = await new Promise<boolean>((r) => {
        extra.once('close', () => r(true));
        setTimeout(() => r(false), 3000);
      });
      held.forEach((s) => s.destroy());
      await new Promise((r) => setTimeout(r, 100));
      const after = await call(capped.port, pki, '/health');

      expect(closed).toBe(true);
      expect(after.status).toBe(200);
      expect(capped.logLines.some((l) => l.includes('too many from one address'))).toBe(true);
    } finally {
      await capped.stop();
    }
  });

  it('when the directory is unreachable then callers get 503 with Retry-After and health says so', async () => {
    const down = await startTestDaemon(env, pki, {}, d().serverFqdn, 'ldap://127.0.0.1:1');
    try {
      const res = await call(down.port, pki, `/hcc/host-conf/${randomUUID()}/${host('down')}`, {
        body: {},
        client: client(),
      });
      const health = await call(down.port, pki, '/health');

      expect(res.status).toBe(503);
      expect(errorCode(res)).toBe('unavailable');
      expect(res.headers['retry-after']).toBe('30');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable', directory: 'unreachable' });
      expect(health.headers['retry-after']).toBe('30');
    } finally {
      await down.stop();
    }
  });

  it('when health is asked without a client certificate then it answers', async () => {
    const res = await call(daemon.port, pki, '/health');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', directory: 'reachable' });
  });

  it('when the signing keys are listed then enabled keys and revoked kids are shown', async () => {
    const res = await send('/hcc/signing_keys', { client: client() });

    expect(res.status).toBe(200);
    const body = res.body as { keys: string[]; revoked_kids: string[] };
    expect(body.keys.map((k) => (JSON.parse(k) as { kid: string }).kid)).toContain(
      daemon.ctx.signingKeys[0]!.kid,
    );
    const jwks = await env.dm.search({
      base: env.layout.jwk,
      scope: 'one',
      filter: eq('ipaEnabledFlag', 'FALSE'),
    });
    const revoked = jwks.map((e) => e.first('cn')!);
    expect(body.revoked_kids.sort()).toEqual(revoked.sort());
    expect(body.keys.some((k) => revoked.includes((JSON.parse(k) as { kid: string }).kid))).toBe(
      false,
    );
  });
});

describe('secrets and audit', () => {
  it('when the run is over then no OTP or token appears in any log line or error body', () => {
    const errorBodies = bodies.filter((b) => b.includes('"errors"'));

    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) {
      const needle = s.length > 40 ? s.slice(20, 60) : s;
      expect(daemon.logLines.join('\n')).not.toContain(needle);
      expect(errorBodies.join('\n')).not.toContain(needle);
    }
  });

  it('when a request is decided then its audit line has every field', async () => {
    const res = await hostConf(client(), host('audited'));

    expect(res.status).toBe(200);
    const line = daemon.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).at(-1)!;
    expect(Object.keys(line).sort()).toEqual(
      [
        'time',
        'level',
        'msg',
        'request_id',
        'remote',
        'endpoint',
        'subject',
        'fqdn',
        'outcome',
        'status',
        'reason',
        'duration_ms',
      ].sort(),
    );
    expect(line).toMatchObject({
      endpoint: 'POST /hcc/host-conf/:inventory_id/:fqdn',
      outcome: 'ok',
      reason: 'token-issued',
      status: 200,
    });
  });

  it('when the README lists the error codes then it lists exactly the registry', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'));
    const listed = [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);

    expect(listed).toEqual(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status]));
  });
});
