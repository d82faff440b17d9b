// `ipa-hcc-ts client-config`: the settings a golden image needs, nothing secret.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIni } from '../../common/ini.js';
import { directory, resetDirectory } from '../harness/directory.js';
import { adminEnv, type AdminEnv, TEST_DAEMON_USER, writeSettings } from '../support/admin.js';
import { makeCa } from '../support/certs.js';

let env: AdminEnv;

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  expect((await env.cli(['install'])).code).toBe(0);
});

afterAll(async () => {
  await env.cleanup();
});

describe('client-config', () => {
  it('when the domain is not registered then it exits 2 saying to register', async () => {
    const run = await env.cli(['client-config']);

    expect(run.code).toBe(2);
    expect(run.err).toContain('The domain is not registered.');
  });

  it('when registered then it prints client.conf with every enrollment server and the domain', async () => {
    expect((await env.cli(['register', '-U', '--org-id', '99'])).code).toBe(0);
    await writeFile(
      join(env.confDir, 'ipa-hcc-ts.conf'),
      `[global]\nkey_dir = ${env.keyDir}\ndaemon_user = ${TEST_DAEMON_USER}\n[daemon]\nport = 8443\n`,
    );

    const run = await env.cli(['client-config']);

    expect(run.code).toBe(0);
    const client = parseIni(run.out).get('client')!;
    expect(Object.fromEntries(client)).toEqual({
      servers: `https://${directory().serverFqdn}:8443`,
      ca_cert: '/etc/ipa-hcc-ts/ipa-ca.crt',
      domain: directory().domain,
    });
  });

  it('when an output directory is given then it writes client.conf and the IPA CA there', async () => {
    const ca = makeCa('Test IPA CA');
    const caFile = join(env.confDir, 'ca.crt');
    await writeFile(caFile, ca.certPem);
    await writeSettings(env.confDir, { key_dir: env.keyDir, daemon_user: TEST_DAEMON_USER });
    await writeFile(
      join(env.confDir, 'ipa-hcc-ts.conf'),
      `${await readFile(join(env.confDir, 'ipa-hcc-ts.conf'), 'utf8')}[daemon]\nipa_ca_file = ${caFile}\n`,
    );
    const out = join(env.confDir, 'image');

    const run = await env.cli(['client-config', '--output-dir', out]);

    expect(run.code).toBe(0);
    expect(await readFile(join(out, 'ipa-ca.crt'), 'utf8')).toBe(ca.certPem);
    expect(await readFile(join(out, 'client.conf'), 'utf8')).toContain(
      `servers = https://${directory().serverFqdn}:9443`,
    );
    expect(await readFile(join(out, 'client.conf'), 'utf8')).not.toMatch(/password|PRIVATE/i);
  });
});
