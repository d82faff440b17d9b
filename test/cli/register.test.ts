// `ipa-hcc-ts register`, `status`, `unregister` and `keys` against the real directory.
import { randomUUID } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePublicSigningJwk } from '../../protocol/jwk.js';
import { lookupUser } from '../../common/users.js';
import { directory, resetDirectory } from '../harness/directory.js';
import { adminEnv, type AdminEnv, TEST_DAEMON_USER } from '../support/admin.js';
import { issueCertificate } from '../support/certs.js';
import { addHost } from '../support/hosts.js';

let env: AdminEnv;

interface StatusJson {
  installed: boolean;
  registered: boolean;
  domain_id: string | null;
  org_id: string | null;
  auto_enrollment: boolean;
  realm_domains: string[];
  servers: Array<{ fqdn: string; roles: string[]; enrollment_server: boolean }>;
  signing_keys: Array<{ kid: string; server: string; state: string; expires: string }>;
  enrolled_hosts: number;
  directory: { reachable: boolean };
}

async function status(): Promise<StatusJson> {
  const run = await env.cli(['status', '--json']);
  expect(run.code, run.err).toBe(0);
  return JSON.parse(run.out) as StatusJson;
}

async function unregisterIfRegistered(): Promise<void> {
  await env.cli(['unregister', '-U']);
}

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  expect((await env.cli(['install'])).code).toBe(0);
});

afterAll(async () => {
  await env.cli(['unregister', '-U']);
  await env.cleanup();
});

describe('register', () => {
  beforeEach(unregisterIfRegistered);

  it('when registered unattended with --org-id then status shows the domain, org and a key', async () => {
    const run = await env.cli(['register', '-U', '--org-id', '7654321']);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const s = await status();
    expect(s.registered).toBe(true);
    expect(s.installed).toBe(true);
    expect(s.org_id).toBe('7654321');
    expect(s.domain_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(s.auto_enrollment).toBe(true);
    expect(s.realm_domains).toEqual([directory().domain]);
    expect(s.signing_keys).toHaveLength(1);
    expect(s.signing_keys[0]!.state).toBe('active');
    expect(s.signing_keys[0]!.server).toBe(directory().serverFqdn);
    const server = s.servers.find((x) => x.fqdn === directory().serverFqdn);
    expect(server!.enrollment_server).toBe(true);
    expect(server!.roles).toContain('HCC');
  });

  it('when registered then ipaConfig carries the ids ipa-hcc uses', async () => {
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const s = await status();

    const config = await env.dm.get(env.layout.ipaConfig, [
      'objectClass',
      'HCCOrgId',
      'HCCDomainId',
    ]);
    expect(config!.hasValue('objectClass', 'HCCConfig')).toBe(true);
    expect(config!.first('HCCOrgId')).toBe('7654321');
    expect(config!.first('HCCDomainId')).toBe(s.domain_id);
  });

  it('when registered then the private key is a 0600 file of the daemon user and the JWK is public', async () => {
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const [key] = (await status()).signing_keys;

    const file = join(env.keyDir, `${key!.kid}.pem`);
    const st = await stat(file);
    const daemon = await lookupUser(TEST_DAEMON_USER);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(daemon!.uid);
    const entry = await env.dm.get(env.layout.jwkDn(key!.kid));
    const jwk = await parsePublicSigningJwk(entry!.first('HCCPublicJWK')!);
    expect(jwk.kid).toBe(key!.kid);
    expect(jwk.exp).toBe(Math.floor(Date.parse(key!.expires) / 1000));
    expect(entry!.first('HCCPublicJWK')).not.toContain('"d"');
    expect(entry!.first('ipaEnabledFlag')).toBe('TRUE');
    expect(entry!.first('algorithmId')).toBe('ES256');
    expect(entry!.first('ipaKeyUsage')).toBe('sig');
  });

  it('when the domain is already registered then register says so, exits 3 and changes nothing', async () => {
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const before = await status();

    const run = await env.cli(['register', '-U', '--org-id', '1111']);

    expect(run.code).toBe(3);
    expect(run.out).toContain(`already registered (domain id ${before.domain_id}`);
    expect(await status()).toEqual(before);
  });

  it('when forced then a new domain id is recorded and the signing key is kept', async () => {
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const before = await status();

    const run = await env.cli(['register', '-U', '--force', '--org-id', '1111']);

    expect(run.code).toBe(0);
    const after = await status();
    expect(after.domain_id).not.toBe(before.domain_id);
    expect(after.org_id).toBe('1111');
    expect(after.signing_keys).toEqual(before.signing_keys);
  });

  it('when no org id is given then it is read from the RHSM certificate subject O', async () => {
    const cert = issueCertificate({
      subject: [
        { shortName: 'O', value: '5550001' },
        { shortName: 'CN', value: randomUUID() },
      ],
    });
    const certFile = join(env.confDir, 'rhsm-cert.pem');
    await writeFile(certFile, cert.certPem);
    const { writeSettings } = await import('../support/admin.js');
    await writeSettings(env.confDir, {
      key_dir: env.keyDir,
      daemon_user: TEST_DAEMON_USER,
      rhsm_cert: certFile,
    });

    const run = await env.cli(['register', '-U']);

    expect(run.code, run.err).toBe(0);
    expect((await status()).org_id).toBe('5550001');
    await writeSettings(env.confDir, { key_dir: env.keyDir, daemon_user: TEST_DAEMON_USER });
  });

  it('when there is no RHSM certificate and no --org-id then it fails saying how to fix it', async () => {
    const run = await env.cli(['register', '-U']);

    expect(run.code).toBe(1);
    expect(run.err).toContain('Cannot read the organisation id from /etc/pki/consumer/cert.pem.');
    expect(run.err).toContain('--org-id');
    expect((await status()).registered).toBe(false);
  });

  it.each([[''], ['org id'], ['-leading'], ['a'.repeat(65)], ['x;y'], ['é1']])(
    'when the org id is %j then it is refused and nothing changes',
    async (orgId) => {
      const run = await env.cli(['register', '-U', '--org-id', orgId]);

      expect(run.code).toBe(1);
      expect(run.err).toContain('Invalid organisation id from --org-id');
      expect(run.err.split('\n')).toHaveLength(2);
      const s = await status();
      expect(s.registered).toBe(false);
      expect(s.signing_keys).toEqual([]);
    },
  );

  it('when the admin does not confirm then nothing is registered', async () => {
    const run = await env.cli(['register', '--org-id', '7654321'], { answer: 'no' });

    expect(run.code).toBe(1);
    expect(run.out).toContain('Organisation id:     7654321');
    expect(run.out).toContain('Register this domain?');
    expect(run.err).toContain('Registration cancelled; nothing was changed.');
    const s = await status();
    expect(s.registered).toBe(false);
    expect(s.signing_keys).toEqual([]);
  });

  it('when the admin confirms then the domain is registered', async () => {
    const run = await env.cli(['register', '--org-id', '7654321'], { answer: 'yes' });

    expect(run.code).toBe(0);
    expect((await status()).registered).toBe(true);
  });

  it('when the daemon user does not exist then register fails before changing anything', async () => {
    const { writeSettings } = await import('../support/admin.js');
    await writeSettings(env.confDir, { key_dir: env.keyDir, daemon_user: 'no-such-user-hcc' });

    const run = await env.cli(['register', '-U', '--org-id', '7654321']);

    await writeSettings(env.confDir, { key_dir: env.keyDir, daemon_user: TEST_DAEMON_USER });
    expect(run.code).toBe(2);
    expect(run.err).toContain('"no-such-user-hcc"');
    expect((await status()).registered).toBe(false);
  });
});

describe('status', () => {
  it('when hosts carry subscription ids then status counts them', async () => {
    await unregisterIfRegistered();
    await env.cli(['register', '-U', '--org-id', '7654321']);
    await addHost(env.dm, env.layout, `count-a.${directory().domain}`, {
      subscriptionId: randomUUID(),
    });
    await addHost(env.dm, env.layout, `count-b.${directory().domain}`, {
      subscriptionId: randomUUID(),
    });
    await addHost(env.dm, env.layout, `count-c.${directory().domain}`);

    const s = await status();
    expect(s.enrolled_hosts).toBe(2);
    expect(s.directory.reachable).toBe(true);
  });

  it('when printed as text then it shows ids, servers and keys', async () => {
    await unregisterIfRegistered();
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const s = await status();
    const run = await env.cli(['status']);

    expect(run.code).toBe(0);
    expect(run.out).toContain(`Domain id:         ${s.domain_id}`);
    expect(run.out).toContain('Organisation id:   7654321');
    expect(run.out).toContain('Auto-enrollment:   enabled');
    expect(run.out).toMatch(
      new RegExp(`${directory().serverFqdn.replace(/\./g, '\\.')}\\s+-\\s+HCC`),
    );
    expect(run.out).toContain(`${s.signing_keys[0]!.kid}  ${directory().serverFqdn}  active`);
  });
});

describe('keys', () => {
  beforeEach(async () => {
    await unregisterIfRegistered();
    await env.cli(['register', '-U', '--org-id', '7654321']);
  });

  it('when rotated then a new active key exists and the old one is retired but valid', async () => {
    const [old] = (await status()).signing_keys;

    const run = await env.cli(['keys', 'rotate']);

    expect(run.code).toBe(0);
    const keys = (await status()).signing_keys;
    expect(keys).toHaveLength(2);
    expect(keys.find((k) => k.kid === old!.kid)!.state).toBe('retired');
    const fresh = keys.find((k) => k.kid !== old!.kid)!;
    expect(fresh.state).toBe('active');
    expect(run.out).toContain(`Created signing key ${fresh.kid}`);
    const entry = await env.dm.get(env.layout.jwkDn(old!.kid));
    expect(entry!.first('ipaEnabledFlag')).toBe('TRUE');
  });

  it('when a retired key is revoked then it is refused at once and its private key is gone', async () => {
    const [old] = (await status()).signing_keys;
    await env.cli(['keys', 'rotate']);

    const run = await env.cli(['keys', 'revoke', old!.kid]);

    expect(run.code, run.err).toBe(0);
    const keys = (await status()).signing_keys;
    expect(keys.find((k) => k.kid === old!.kid)!.state).toBe('revoked');
    expect(keys.filter((k) => k.state === 'active')).toHaveLength(1);
    expect(await readdir(env.keyDir)).not.toContain(`${old!.kid}.pem`);
    const entry = await env.dm.get(env.layout.jwkDn(old!.kid));
    expect(entry!.first('ipaEnabledFlag')).toBe('FALSE');
  });

  it("when this server's signing key is revoked then a new one replaces it", async () => {
    const [old] = (await status()).signing_keys;

    const run = await env.cli(['keys', 'revoke', old!.kid]);

    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain("It was this server's signing key");
    const keys = (await status()).signing_keys;
    expect(keys.find((k) => k.kid === old!.kid)!.state).toBe('revoked');
    expect(keys.filter((k) => k.state === 'active')).toHaveLength(1);
  });

  it('when a revoked key is revoked again then it exits 3', async () => {
    const [old] = (await status()).signing_keys;
    await env.cli(['keys', 'revoke', old!.kid]);

    const run = await env.cli(['keys', 'revoke', old!.kid]);

    expect(run.code).toBe(3);
    expect(run.out).toContain('already revoked');
  });

  it('when a kid starts with "-" then revoke takes it as the key id, not as an option', async () => {
    const before = await status();

    const run = await env.cli(['keys', 'revoke', '-1DHJNsX']);

    expect(run.code).toBe(1);
    expect(run.err).toContain('No signing key with kid "-1DHJNsX".');
    expect(await status()).toEqual(before);
  });

  it('when an unknown kid is revoked then it fails and nothing changes', async () => {
    const before = await status();

    const run = await env.cli(['keys', 'revoke', 'nokey123']);

    expect(run.code).toBe(1);
    expect(run.err).toContain('No signing key with kid "nokey123".');
    expect(await status()).toEqual(before);
  });

  it('when listed then every key is shown with server, state and expiry', async () => {
    await env.cli(['keys', 'rotate']);
    const keys = (await status()).signing_keys;

    const run = await env.cli(['keys', 'list']);
    const json = JSON.parse((await env.cli(['keys', 'list', '--json'])).out) as unknown[];

    expect(run.code).toBe(0);
    expect(run.out.split('\n')[0]).toMatch(/^KID\s+SERVER\s+STATE\s+EXPIRES$/);
    for (const k of keys) {
      expect(run.out).toContain(`${k.kid}  ${k.server}  ${k.state.padEnd(7)}  ${k.expires}`);
    }

    expect(json).toEqual(keys);
  });
});

describe('unregister', () => {
  it('when unregistered then auto-enrollment is off, keys are gone and hosts are untouched', async () => {
    await unregisterIfRegistered();
    await env.cli(['register', '-U', '--org-id', '7654321']);
    const host = await addHost(env.dm, env.layout, `keep.${directory().domain}`, {
      subscriptionId: randomUUID(),
    });
    const before = await env.dm.get(host);

    const run = await env.cli(['unregister', '-U']);

    expect(run.code).toBe(0);
    const s = await status();
    expect(s.registered).toBe(false);
    expect(s.auto_enrollment).toBe(false);
    expect(s.signing_keys).toEqual([]);
    expect((await readdir(env.keyDir)).filter((f) => f.endsWith('.pem'))).toEqual([]);
    expect(await env.dm.get(host)).toEqual(before);
  });

  it('when not registered then unregister exits 3 and says so', async () => {
    const run = await env.cli(['unregister', '-U']);

    expect(run.code).toBe(3);
    expect(run.out).toBe('The domain is not registered; nothing was changed.');
  });
});
