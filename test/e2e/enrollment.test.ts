// End to end with real processes, as an admin and a new machine would run them: the admin
// command, the daemon as its own user, dnsmasq with the domain's SRV records, and the first-boot
// client of several machines at once, against the test directory.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from '../../ipa-plugin/ldap/filter.js';
import { directory, resetDirectory, restartDirectory, trackEntry } from '../harness/directory.js';
import { adminEnv, type AdminEnv } from '../support/admin.js';
import {
  enrollMachine,
  type EnrollResult,
  type ServerSide,
  startServerSide,
} from '../support/enrollment-world.js';

let env: AdminEnv;
let world: ServerSide;
let results: EnrollResult[];
const MACHINES = ['e2e-web01', 'e2e-web02', 'e2e-db01'];

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  const d = directory();
  if (!d.ldapiSocket) {
    return; // needs the harness's own directory: root's LDAPI autobind and a restart
  }

  world = await startServerSide(
    { ...d, adminLdapUri: `ldapi://${encodeURIComponent(d.ldapiSocket)}`, ldapUrl: d.ldapUrl },
    async () => {
      await restartDirectory();
    },
  );
  MACHINES.forEach((m) => trackEntry(env.layout.hostDn(`${m}.${d.domain}`)));
  results = await Promise.all(MACHINES.map((m) => enrollMachine(world, m)));
});

afterAll(async () => {
  await world?.stop();
  await env.cleanup();
});

describe('enrollment end to end', () => {
  it('when machines boot at once then each enrolls, finding the server through DNS SRV', () => {
    if (!world) {
      return;
    }

    expect(results.map((r) => [r.fqdn, r.code])).toEqual(
      MACHINES.map((m) => [`${m}.${directory().domain}`, 0]),
    );
    for (const r of results) {
      expect(r.record!.argv).toEqual([
        '--unattended',
        '--password',
        '********',
        '--server',
        directory().serverFqdn,
        '--domain',
        directory().domain,
        '--realm',
        directory().realm,
        '--hostname',
        r.fqdn,
        '--ca-cert-file',
        r.record!.argv.at(-1)!,
      ]);
      expect(r.record!.caCertFile!.pem).toBe(world.ipaCa.certPem);
      expect(r.err).toMatch(
        /^ipa-hcc-ts-enroll: running \S+\/ipa-client-install --unattended --password \*{8} /,
      );
      expect(r.record!.bind).toEqual({ ok: true, whoami: env.layout.hostDn(r.fqdn) });
    }
  });

  it('when a machine enrolled then its host entry holds exactly what IPA and HCC write', async () => {
    if (!world) {
      return;
    }

    for (const r of results) {
      const entry = (await env.dm.get(env.layout.hostDn(r.fqdn), ['*', 'memberOf']))!;
      const memberOfClasses = ['ipasshgroupofpubkeys', 'nsmemberof']; // added by the memberOf plugin
      expect(
        entry
          .all('objectClass')
          .map((o) => o.toLowerCase())
          .filter((o) => !memberOfClasses.includes(o))
          .sort(),
      ).toEqual([
        'hcchost',
        'ieee802device',
        'ipahost',
        'ipaobject',
        'ipaservice',
        'ipasshhost',
        'nshost',
        'pkiuser',
        'top',
      ]);
      expect(entry.attributeNames().sort()).toEqual(
        [
          'cn',
          'fqdn',
          'hcccertsubject',
          'hccinventoryid',
          'hccorgid',
          'hccsubscriptionid',
          'ipauniqueid',
          'managedby',
          'memberof',
          'objectclass',
          'serverhostname',
          'userpassword',
        ].sort(),
      );
      expect(entry.first('userPassword')).toMatch(/^\{[A-Z0-9-]+\}/); // stored hashed
      expect(entry.first('fqdn')).toBe(r.fqdn);
      expect(entry.first('cn')).toBe(r.fqdn);
      expect(entry.first('serverHostName')).toBe(r.fqdn.split('.')[0]);
      expect(entry.first('managedBy')).toBe(env.layout.hostDn(r.fqdn));
      expect(entry.first('HCCOrgId')).toBe(world.orgId);
      expect(entry.first('HCCCertSubject')).toBe(
        `CN=${entry.first('HCCSubscriptionId')},O=${world.orgId}`,
      );
      expect(entry.first('HCCInventoryId')).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(entry.all('memberOf').map((m) => m.toLowerCase())).toContain(
        env.layout.hostgroup.toLowerCase(),
      );
    }

    const status = JSON.parse((await world.admin(['status', '--json'])).out) as {
      enrolled_hosts: number;
    };
    expect(status.enrolled_hosts).toBe(MACHINES.length);
  });

  it('when the run is over then no one-time password appears in anything the daemon or clients printed', () => {
    if (!world) {
      return;
    }

    const printed = [world.daemonOutput(), ...results.flatMap((r) => [r.out, r.err])].join('\n');
    const hashes = new Set(results.map((r) => r.record!.passwordSha256));
    const candidates = printed.match(/[A-Za-z0-9]{32}/g) ?? [];
    const leaked = candidates.filter((c) =>
      hashes.has(createHash('sha256').update(c).digest('hex')),
    );

    expect(leaked).toEqual([]);
    expect(
      world
        .daemonOutput()
        .split('\n')
        .filter((l) => l.includes('"enrollment decision"')).length,
    ).toBe(2 * MACHINES.length);
  });

  it('when every machine enrolled then the domain holds exactly one host entry per machine', async () => {
    if (!world) {
      return;
    }

    const found = await env.dm.search({
      base: env.layout.computers,
      scope: 'one',
      filter: eq('HCCOrgId', world.orgId),
    });
    expect(found).toHaveLength(MACHINES.length);
  });
});
