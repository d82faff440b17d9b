// The client end to end: the in-process daemon on loopback against the test directory, a real
// DNS server (dnsmasq) on loopback naming the IPA server, and the fake ipa-client-install whose
// LDAP bind with the one-time password stands for ipa-join. Most runs are real processes, as
// systemd starts the client.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uuidV5, INVENTORY_NAMESPACE } from '../../client/inventory-id.js';
import { directory, resetDirectory, trackEntry } from '../harness/directory.js';
import { freeLoopbackPorts } from '../harness/ports.js';
import { addEnrollmentServer } from '../support/servers.js';
import { adminEnv, type AdminEnv } from '../support/admin.js';
import { clientCert, issueCertificate, makeCa } from '../support/certs.js';
import { type RunningTestDaemon, startTestDaemon, type TestPki } from '../support/daemon.js';
import { prepareDns, startDns, type TestDns } from '../support/dns.js';
import { addHost } from '../support/hosts.js';
import { startFakeServer } from './fake-server.js';
import { clientWorld, type ClientWorld, exists, type Run } from './world.js';

const ORG = '5550123';
let env: AdminEnv;
let pki: TestPki;
let daemon: RunningTestDaemon;
let dns: TestDns;
let world: ClientWorld;

const d = () => directory();
const host = (name: string) => `${name}.${d().domain}`;
const daemonUrl = () => `https://127.0.0.1:${daemon.port}`;
const viaDns = () => `https://${d().serverFqdn}:${daemon.port}`;

/** A PKI whose server certificate also names the IPA server, as a real one would. */
function pkiForServer(fqdn: string): TestPki {
  const serverCa = makeCa('Test IPA CA');
  const server = issueCertificate({
    subject: [{ shortName: 'CN', value: fqdn }],
    issuer: serverCa,
    usage: 'server',
    altNames: { dns: [fqdn, 'localhost'], ip: ['127.0.0.1'] },
  });
  return { serverCa, server, clientCa: makeCa('Test Candlepin CA') };
}

function dnsRecords() {
  return {
    srv: [
      {
        name: `_ldap._tcp.${d().domain}`,
        target: d().serverFqdn,
        port: 389,
        priority: 0,
        weight: 100,
      },
    ],
    addresses: [{ name: d().serverFqdn, ip: '127.0.0.1' }],
  };
}

/** A machine with a fresh identity whose names resolve through the test DNS server. */
async function machine(settings: Record<string, string> = {}): Promise<ClientWorld> {
  world = await clientWorld({
    caPem: pki.serverCa.certPem,
    ldapUrl: d().ldapUrl,
    suffix: d().suffix,
  });
  await world.setIdentity(clientCert(pki.clientCa, ORG, randomUUID()));
  await world.writeConfig({
    dns_servers: dns.address,
    server_port: String(daemon.port),
    ...settings,
  });
  return world;
}

async function hostEntry(fqdn: string) {
  return env.dm.get(env.layout.hostDn(fqdn), ['fqdn', 'HCCInventoryId']);
}

/** Every 32-character window of letters and digits in the text, hashed. */
function windowHashes(text: string): Set<string> {
  const hashes = new Set<string>();
  for (const run of text.match(/[A-Za-z0-9]{32,}/g) ?? []) {
    for (let i = 0; i + 32 <= run.length; i++) {
      hashes.add(
        createHash('sha256')
          .update(run.slice(i, i + 32))
          .digest('hex'),
      );
    }
  }

  return hashes;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The two lines of a failure: what failed, what to do. */
function failure(run: Run): string[] {
  return run.err.split('\n').filter(Boolean).slice(-2);
}

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  expect((await env.cli(['install'])).code).toBe(0);
  expect((await env.cli(['register', '-U', '--org-id', ORG])).code).toBe(0);
  pki = pkiForServer(d().serverFqdn);
  daemon = await startTestDaemon(env, pki);
  dns = await startDns(dnsRecords());
});

afterAll(async () => {
  await dns?.stop();
  await daemon?.stop();
  await env?.cli(['unregister', '-U']);
  await env?.cleanup();
});

afterEach(async () => {
  await world?.cleanup();
});

describe('a full enrollment', () => {
  it('when the servers come from DNS then the installer gets the right command line, the OTP binds and is printed nowhere', async () => {
    await machine();
    const fqdn = host('web01');
    trackEntry(env.layout.hostDn(fqdn));

    const run = await world.spawn(['--verbose'], { hostname: fqdn });

    expect(run.code, run.err).toBe(0);
    expect(run.out.split('\n')).toContain(
      `ipa-hcc-ts-enroll: ${fqdn} enrolled in realm ${d().realm} through ${d().serverFqdn}.`,
    );
    const record = (await world.installRecord())!;
    const caFile = record.argv[12]!;
    expect(record.argv).toEqual([
      '--unattended',
      '--password',
      '********',
      '--server',
      d().serverFqdn,
      '--domain',
      d().domain,
      '--realm',
      d().realm,
      '--hostname',
      fqdn,
      '--ca-cert-file',
      caFile,
    ]);
    expect(caFile).toMatch(/\/ipa-hcc-ts-enroll-[A-Za-z0-9]{6}\/ca\.crt$/);
    expect(record.caCertFile).toEqual({ mode: '644', pem: pki.serverCa.certPem });
    expect(await exists(caFile)).toBe(false);
    expect(record.bind).toEqual({ ok: true, whoami: env.layout.hostDn(fqdn) });
    const machineId = (await import('node:fs/promises')).readFile(world.machineIdFile, 'utf8');
    const entry = (await hostEntry(fqdn))!;
    expect(entry.first('HCCInventoryId')).toBe(
      uuidV5(INVENTORY_NAMESPACE, (await machineId).trim()),
    );
    expect(run.err).toContain(
      `ipa-hcc-ts-enroll: discovery: ${viaDns()} (from _ldap._tcp.${d().domain})`,
    );
    expect(run.err).toMatch(/ipa-hcc-ts-enroll: host-conf: answered by .* \(\d+ ms\)/);
    expect(run.err).toMatch(/ipa-hcc-ts-enroll: register: answered by .* \(\d+ ms\)/);
    expect(run.err).toMatch(/ipa-hcc-ts-enroll: ipa-client-install: done \(\d+ ms\)/);
    expect(run.err).toContain('--password ******** --server');
    expect(record.passwordSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(windowHashes(`${run.out}\n${run.err}`).has(record.passwordSha256!)).toBe(false);
  });

  it('when the first server refuses connections then the second one is used', async () => {
    await machine();
    const fqdn = host('web02');
    trackEntry(env.layout.hostDn(fqdn));
    const [port] = (await freeLoopbackPorts(1)) as [number];
    const closed = `https://127.0.0.1:${port}`;

    const run = await world.spawn(['--verbose', '--server', closed, '--server', daemonUrl()], {
      hostname: fqdn,
    });

    expect(run.code, run.err).toBe(0);
    expect(run.err).toContain(
      `ipa-hcc-ts-enroll: host-conf: ${closed} failed: connection refused; trying the next server`,
    );
    expect(run.err).toMatch(
      new RegExp(`ipa-hcc-ts-enroll: host-conf: answered by ${daemonUrl()}: domain `),
    );
    expect(run.err).toContain(
      `ipa-hcc-ts-enroll: discovery: ${closed}, ${daemonUrl()} (from settings)`,
    );
    expect((await world.installRecord())!.bind.ok).toBe(true);
  });

  it('when the installer fails then it exits 5 and the OTP is still printed nowhere', async () => {
    await machine();
    const fqdn = host('web03');
    trackEntry(env.layout.hostDn(fqdn));

    const run = await world.spawn([], {
      hostname: fqdn,
      env: { FAKE_IPA_SUFFIX: 'dc=elsewhere,dc=test' },
    });

    expect(run.code).toBe(5);
    expect(failure(run)).toEqual([
      `ipa-hcc-ts-enroll: ERROR: ${world.installer} exited with status 1.`,
      'ipa-hcc-ts-enroll: See its messages above and /var/log/ipaclient-install.log. The host ' +
        'entry keeps its one-time password until it is used: run ipa-hcc-ts-enroll again for a ' +
        'new one.',
    ]);
    const record = (await world.installRecord())!;
    expect(record.bind.ok).toBe(false);
    expect(windowHashes(`${run.out}\n${run.err}`).has(record.passwordSha256!)).toBe(false);
  });
});

describe('--dry-run', () => {
  it('when asked for a dry run then it prints the command with the password masked and registers nothing', async () => {
    await machine();
    const fqdn = host('dry01');

    const run = await world.spawn(['--dry-run'], { hostname: fqdn });

    expect(run.code, run.err).toBe(0);
    const out = run.out.split('\n');
    expect(out.at(-1)).toMatch(
      new RegExp(
        `^${world.installer} --unattended --password \\*{8} --server ${d().serverFqdn} ` +
          `--domain ${d().domain} --realm ${d().realm} --hostname ${fqdn} ` +
          `--ca-cert-file /tmp/ipa-hcc-ts-enroll-XXXXXX/ca\\.crt$`,
      ),
    );
    expect(out).toContain(`ipa-hcc-ts-enroll: dry run: register would be tried on ${viaDns()}`);
    expect(await hostEntry(fqdn)).toBeUndefined();
    expect(await world.installRecord()).toBeUndefined();
  });
});

describe('refusals', () => {
  it('when register answers 409 then it stops naming host-conflict and tries no other server', async () => {
    await machine();
    const fqdn = host('taken01');
    await addHost(env.dm, env.layout, fqdn);
    const spare = await startFakeServer(pki.server, { status: 200, body: {} });

    try {
      const run = await world.run(['--server', daemonUrl(), '--server', spare.url], {
        hostname: fqdn,
      });

      expect(run.code).toBe(3);
      const [what, fix] = failure(run);
      expect(what).toMatch(
        new RegExp(
          `^ipa-hcc-ts-enroll: ERROR: register refused by ${escape(viaDns())}: ` +
            '409 host-conflict \\(request id [0-9a-f-]{36}\\)\\.$',
        ),
      );
      expect(fix).toBe(
        `ipa-hcc-ts-enroll: The name ${fqdn} belongs to another machine, or this machine's ` +
          'certificate is enrolled under another name: choose another host name, or ask an IPA ' +
          `admin to remove the old host entry (ipa host-del ${fqdn}) if that machine is gone.`,
      );
      expect(spare.requests).toEqual([]);
      expect(await world.installRecord()).toBeUndefined();
    } finally {
      await spare.stop();
    }
  });

  it('when host-conf answers 403 then it exits 3 and the next server is never asked', async () => {
    await machine();
    const refusing = await startFakeServer(pki.server, {
      status: 403,
      body: {
        errors: [{ id: 'req-1', status: '403', title: 'no', code: 'not-authorized' }],
      },
    });

    try {
      const run = await world.run(['--server', refusing.url, '--server', daemonUrl()], {
        hostname: host('refused01'),
      });

      expect(run.code).toBe(3);
      expect(failure(run)[0]).toBe(
        `ipa-hcc-ts-enroll: ERROR: host-conf refused by ${refusing.url}: 403 not-authorized ` +
          '(request id req-1).',
      );
      expect(refusing.requests).toHaveLength(1);
      expect(refusing.requests[0]).toMatch(
        new RegExp(`^/hcc/host-conf/[0-9a-f-]{36}/refused01\\.${escape(d().domain)}$`),
      );
    } finally {
      await refusing.stop();
    }
  });
});

describe('retries and the deadline', () => {
  it('when DNS answers only after a few seconds then the client retries and enrolls', async () => {
    const late = await prepareDns(dnsRecords());
    await machine({ dns_servers: late.address, deadline: '20' });
    const fqdn = host('late01');
    trackEntry(env.layout.hostDn(fqdn));

    const started = performance.now();
    let dnsStartedAfterMs = 0;
    try {
      const run = await world.spawn([], {
        hostname: fqdn,
        meanwhile: async (stderr) => {
          for (let i = 0; i < 300 && !stderr().includes('retrying in'); i++) {
            await new Promise((r) => setTimeout(r, 50));
          }

          dnsStartedAfterMs = performance.now() - started;
          await late.start();
        },
      });

      expect(run.code, run.err).toBe(0);
      expect(run.err).toMatch(
        new RegExp(
          `ipa-hcc-ts-enroll: DNS lookup of _ldap\\._tcp\\.${escape(d().domain)} ` +
            'SRV failed \\((ECONNREFUSED|ETIMEOUT)\\); retrying in [\\d.]+ s',
        ),
      );
      expect(dnsStartedAfterMs).toBeGreaterThan(0);
      expect(run.ms).toBeGreaterThan(dnsStartedAfterMs);
      expect((await world.installRecord())!.bind.ok).toBe(true);
    } finally {
      await late.stop();
    }
  });

  it('when no server answers before the deadline then it exits 4 saying so', async () => {
    await machine({ deadline: '2' });
    const closed = (await freeLoopbackPorts(2)).map((p) => `https://127.0.0.1:${p}`);

    const run = await world.spawn(['--server', closed[0]!, '--server', closed[1]!], {
      hostname: host('nobody01'),
    });

    expect(run.code, run.err).toBe(4);
    const [what, fix] = failure(run);
    // The last round may be cut by the deadline after the first server.
    expect(what).toMatch(
      new RegExp(
        '^ipa-hcc-ts-enroll: ERROR: No enrollment server answered within the deadline of 2 s; ' +
          `last attempt: host-conf: ${escape(closed[0]!)} connection refused` +
          `(; ${escape(closed[1]!)} connection refused)?\\.$`,
      ),
    );
    expect(fix).toBe(
      'ipa-hcc-ts-enroll: Check the network, the servers setting and that ipa-hcc-tsd runs on ' +
        `the servers (port ${daemon.port}); run again with --verbose.`,
    );
    expect(run.err).toContain('; retrying in ');
  });
});

describe('locations', () => {
  it('when a location is asked for then its servers come first for register, else the plain order', async () => {
    const second = `ipa2.${d().domain}`;
    await addEnrollmentServer(env, second, 'dc2');
    await machine();

    try {
      const plain = await world.run(['--dry-run', '--server', daemonUrl()], {
        hostname: host('loc01'),
      });
      const located = await world.run(['--dry-run', '--server', daemonUrl(), '--location', 'dc2'], {
        hostname: host('loc01'),
      });

      const order = (r: Run) =>
        r.out.split('\n').find((l) => l.includes('register would be tried on'));
      const ipa2 = `https://${second}:${daemon.port}`;
      expect(order(plain)).toBe(
        `ipa-hcc-ts-enroll: dry run: register would be tried on ${viaDns()}, ${ipa2}, ${daemonUrl()}`,
      );
      expect(order(located)).toBe(
        `ipa-hcc-ts-enroll: dry run: register would be tried on ${ipa2}, ${viaDns()}, ${daemonUrl()}`,
      );
      expect(located.out.split('\n').at(-1)).toContain(`--server ${second} `);
    } finally {
      await env.dm.delete(env.layout.masterServiceDn(second));
      await env.dm.delete(env.layout.masterDn(second));
      await env.dm.delete(`idnsname=dc2,${env.layout.locations}`);
    }
  });
});
