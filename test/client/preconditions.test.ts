// What the client refuses before it asks any server, run in-process through main(): every case
// ends with its exit code and a two-line message, and a counting server proves nobody was asked.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientCert, makeCa, type Issued } from '../support/certs.js';
import { makePki, type TestPki } from '../support/daemon.js';
import { startFakeServer, type FakeServer } from './fake-server.js';
import { clientWorld, type ClientWorld } from './world.js';

const ORG = '1234567';
const FQDN = 'web01.ipa.test';
let pki: TestPki;
let identity: Issued;
let world: ClientWorld;
let server: FakeServer;

beforeAll(async () => {
  pki = makePki();
  identity = clientCert(pki.clientCa, ORG, randomUUID());
  server = await startFakeServer(pki.server, { status: 500, body: {} });
});

afterAll(async () => {
  await server.stop();
});

async function freshWorld(): Promise<ClientWorld> {
  world = await clientWorld({ caPem: pki.serverCa.certPem });
  await world.setIdentity(identity);
  await world.writeConfig({ servers: server.url });
  return world;
}

afterEach(async () => {
  await world?.cleanup();
});

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

describe('already enrolled', () => {
  it('when IPA default.conf exists then it says so, exits 0 and contacts nobody', async () => {
    await freshWorld();
    await writeFile(join(world.ipaConfDir, 'default.conf'), '[global]\nrealm = IPA.TEST\n');
    // A broken settings file shows that nothing beyond the check is even read.
    await writeFile(world.confFile, 'not ini at all');

    const run = await world.run([], { hostname: FQDN });

    expect(run.code).toBe(0);
    expect(run.out).toBe(
      `ipa-hcc-ts-enroll: already an IPA client (${join(world.ipaConfDir, 'default.conf')} ` +
        'exists); nothing to do.',
    );
    expect(run.err).toBe('');
    expect(server.requests).toEqual([]);
  });

  it('when IPA default.conf exists and --force is given then the enrollment goes on', async () => {
    await freshWorld();
    await writeFile(join(world.ipaConfDir, 'default.conf'), '[global]\n');

    const run = await world.run(['--force', '--hostname', 'web01'], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      'ipa-hcc-ts-enroll: ERROR: The host name "web01" is not fully qualified (host.domain).',
    );
  });
});

describe('host name', () => {
  it.each([
    ['web01', 'is not fully qualified (host.domain)'],
    ['localhost', 'is a localhost name, which cannot enroll'],
    ['localhost.localdomain', 'is a localhost name, which cannot enroll'],
    ['localhost6.localdomain6', 'is a localhost name, which cannot enroll'],
    ['web_01.ipa.test', 'has a label that is not 1 to 63 letters, digits or inner hyphens'],
    [`${'a'.repeat(55)}.ipa.test`, 'has 64 characters; ipa-join works with at most 63'],
  ])('when the host name is %j then it exits 2 saying it %s', async (name, why) => {
    await freshWorld();

    const run = await world.run([], { hostname: name });

    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      `ipa-hcc-ts-enroll: ERROR: The host name "${name}" ${why}.`,
      'ipa-hcc-ts-enroll: Give the machine its fully qualified name (hostnamectl set-hostname ' +
        'web01.example.test) or pass --hostname.',
    ]);
    expect(server.requests).toEqual([]);
  });

  it('when --hostname is given then it wins over the system name, lower-cased', async () => {
    await freshWorld();

    const run = await world.run(['--hostname', 'WEB01', '--dry-run'], { hostname: FQDN });

    expect(lines(run.err)[0]).toBe(
      'ipa-hcc-ts-enroll: ERROR: The host name "web01" is not fully qualified (host.domain).',
    );
  });
});

describe('identity certificate', () => {
  it('when the certificate is missing then it exits 2 and says how to get one', async () => {
    await freshWorld();
    await world.writeConfig({ servers: server.url, cert: join(world.root, 'none.pem') });

    const run = await world.run([], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      `ipa-hcc-ts-enroll: ERROR: The identity certificate ${join(world.root, 'none.pem')} is missing.`,
      'ipa-hcc-ts-enroll: Register the machine (subscription-manager register writes ' +
        '/etc/pki/consumer/cert.pem and key.pem), or point cert and key at its identity certificate.',
    ]);
    expect(server.requests).toEqual([]);
  });

  it('when the key is unreadable then it exits 2', async () => {
    await freshWorld();

    const run = await world.run(['--key', world.root], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      `ipa-hcc-ts-enroll: ERROR: The identity private key ${world.root} is unreadable.`,
    );
  });

  it('when the key belongs to another certificate then it exits 2', async () => {
    await freshWorld();
    const other = clientCert(pki.clientCa, ORG, randomUUID());
    await writeFile(world.keyFile, other.keyPem);

    const run = await world.run([], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      `ipa-hcc-ts-enroll: ERROR: The private key ${world.keyFile} does not belong to the ` +
        `certificate ${world.certFile}.`,
    );
  });
});

describe('clock', () => {
  it('when the clock is before the certificate is valid then it exits 2 pointing at NTP', async () => {
    await freshWorld();
    const notBefore = new Date('2030-01-01T00:00:00Z');
    await world.setIdentity(
      clientCert(makeCa('Clock CA'), ORG, randomUUID(), {
        notBefore,
        notAfter: new Date('2031-01-01T00:00:00Z'),
      }),
    );

    const run = await world.run([], {
      hostname: FQDN,
      now: () => Date.parse('2020-06-01T12:00:00Z'),
    });

    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      "ipa-hcc-ts-enroll: ERROR: The clock (2020-06-01T12:00:00.000Z) is before the identity certificate's validity starts (2030-01-01T00:00:00.000Z).",
      'ipa-hcc-ts-enroll: Fix the clock: turn on time synchronization (timedatectl set-ntp true), ' +
        'check it with chronyc tracking, then run again.',
    ]);
    expect(server.requests).toEqual([]);
  });

  it('when the clock is after the certificate expired then it exits 2', async () => {
    await freshWorld();

    const run = await world.run([], {
      hostname: FQDN,
      now: () => Date.now() + 2 * 365 * 86_400_000,
    });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toMatch(
      /^ipa-hcc-ts-enroll: ERROR: The clock \(.+\) is after the identity certificate's validity ended \(.+\)\.$/,
    );
    expect(lines(run.err)[1]).toContain('chronyc tracking');
  });
});

describe('settings', () => {
  it('when client.conf has an unknown key then it exits 2 naming the key and the file', async () => {
    await freshWorld();
    await writeFile(world.confFile, '[client]\nserver = https://x.ipa.test\n');

    const run = await world.run([], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      `ipa-hcc-ts-enroll: ERROR: ${world.confFile}: unknown key "server" in [client].`,
      `ipa-hcc-ts-enroll: Fix ${world.confFile}; client/README.md lists every setting with its ` +
        'form and default.',
    ]);
  });

  it('when a flag has a bad value then it exits 2 naming the command line', async () => {
    await freshWorld();

    const run = await world.run(['--timeout', '0'], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      'ipa-hcc-ts-enroll: ERROR: the command line: timeout = "0": must be a positive number of ' +
        'seconds.',
    );
  });

  it('when --config names a missing file then it exits 2', async () => {
    await freshWorld();

    const run = await world.run(['--config', join(world.root, 'nope.conf')], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      `ipa-hcc-ts-enroll: ERROR: Cannot read the settings file ${join(world.root, 'nope.conf')}.`,
    );
  });

  it('when the IPA CA file is missing then it exits 2 saying where it belongs', async () => {
    await freshWorld();

    const run = await world.run(['--ca-cert', join(world.root, 'ca.pem')], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)).toEqual([
      `ipa-hcc-ts-enroll: ERROR: Cannot read the IPA CA certificate ${join(world.root, 'ca.pem')}.`,
      `ipa-hcc-ts-enroll: Copy the IPA CA certificate to ${join(world.root, 'ca.pem')} ` +
        '(ipa-hcc-ts client-config on an IPA server prints it), or set ca_cert.',
    ]);
  });

  it('when the installer is missing then it exits 2 before asking any server', async () => {
    await freshWorld();

    const run = await world.run(['--installer', '/nonexistent/ipa-client-install'], {
      hostname: FQDN,
    });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      'ipa-hcc-ts-enroll: ERROR: The installer /nonexistent/ipa-client-install is missing or not ' +
        'executable.',
    );
    expect(server.requests).toEqual([]);
  });

  it('when no machine id exists then it exits 2', async () => {
    await freshWorld();
    await writeFile(world.machineIdFile, 'uninitialized\n');

    const run = await world.run([], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(lines(run.err)[0]).toBe(
      `ipa-hcc-ts-enroll: ERROR: No inventory id: ${world.machineIdFile} is not a machine id and ` +
        `${world.insightsFile} holds no UUID.`,
    );
  });
});

describe('command line', () => {
  it('when an unknown flag is given then it exits 2 with usage help', async () => {
    await freshWorld();

    const run = await world.run(['--serverz', 'x'], { hostname: FQDN });

    expect(run.code).toBe(2);
    expect(run.err).toContain("error: unknown option '--serverz'");
  });

  it('when --help is asked then it lists the flags and the exit codes and exits 0', async () => {
    await freshWorld();

    const run = await world.run(['--help']);

    expect(run.code).toBe(0);
    expect(run.out).toContain('--dry-run');
    expect(run.out).toContain(
      [
        'Exit codes:',
        '  0  enrolled, or already an IPA client',
        '  1  unexpected failure',
        '  2  bad configuration or precondition (host name, certificate, clock)',
        '  3  refused by the enrollment server',
        '  4  no enrollment server reachable before the deadline',
        '  5  ipa-client-install failed',
      ].join('\n'),
    );
  });
});
