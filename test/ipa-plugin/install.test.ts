// `ipa-hcc-ts install` against the real 389-ds with FreeIPA's schema and tree.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../ipa-plugin/ldap/directory.js';
import { simpleBind } from '../../ipa-plugin/ldap/bind.js';
import { eq } from '../../ipa-plugin/ldap/filter.js';
import { servicePrincipal } from '../../ipa-plugin/install/service-step.js';
import { PERMISSIONS } from '../../ipa-plugin/install/access-step.js';
import { UNIQUENESS_PLUGIN } from '../../ipa-plugin/install/server-config-step.js';
import { HCC_SCHEMA } from '../../ipa-plugin/schema.js';
import { directoryFailure } from '../support/errors.js';
import {
  directory,
  resetDirectory,
  restartDirectory,
  writeIpaDefaultConf,
} from '../harness/directory.js';
import { adminEnv, type AdminEnv } from '../support/admin.js';
import { addHost } from '../support/hosts.js';

let env: AdminEnv;
const d = () => directory();
const host = (name: string) => `${name}.${d().domain}`;

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
});

afterAll(async () => {
  await env.cleanup();
});

describe('install', () => {
  it('when run on a fresh IPA directory then it adds everything and reports each change', async () => {
    const run = await env.cli(['install']);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    if (d().kind === '389ds') {
      expect(run.out).toContain('Added schema attribute type HCCOrgId');
      expect(run.out).toContain('Added schema object class HCCPublicJWKObject');
      expect(run.out).toContain('Added host group hcc-enrollment');
      expect(run.out).toContain('Added automember rule hcc-enrollment');
      expect(run.out).toContain('Added equality and presence index for HCCCertSubject');
      expect(run.out).toContain('Added uniqueness of HCCCertSubject across the suffix');
      expect(run.out).toContain('Added role "HCC Enrollment Administrators"');
      expect(run.out).toContain('ipactl restart');
    }
  });

  it('when run a second time then it changes nothing and says so', async () => {
    const before = await snapshot();
    const run = await env.cli(['install']);

    expect(run.code).toBe(0);
    expect(run.out).toBe('ipa-hcc-ts is already installed: nothing to change.');
    expect(await snapshot()).toEqual(before);
  });

  it('when installed then the schema has the HCC and the project attribute types', async () => {
    const schema = await env.dm.get('cn=schema', ['attributeTypes', 'objectClasses']);
    const text = [...schema!.all('attributeTypes'), ...schema!.all('objectClasses')].join('\n');

    for (const n of [1, 2, 3, 4, 5, 6]) {
      expect(text).toContain(`2.16.840.1.113730.3.8.100.1.${n} `);
    }

    for (const n of [1, 2, 3]) {
      expect(text).toContain(`2.16.840.1.113730.3.8.100.2.${n} `);
    }

    expect(text).toMatch(/NAME 'hccTsDomainConfig'/);
    expect(text).toMatch(/NAME 'algorithmId'/);
  });

  it('when installed then the containers, host group and automember rule exist', async () => {
    const l = env.layout;

    expect(await env.dm.exists(l.hcc)).toBe(true);
    expect(await env.dm.exists(l.jwk)).toBe(true);
    const group = await env.dm.get(l.hostgroup);
    expect(group!.hasValue('objectClass', 'ipahostgroup')).toBe(true);
    expect(group!.first('ipaUniqueID')).not.toBe('autogenerate');
    const rule = await env.dm.get(l.automemberRule);
    expect(rule!.first('autoMemberTargetGroup')).toBe(l.hostgroup);
    expect(rule!.all('autoMemberInclusiveRegex')).toEqual(['HCCSubscriptionId=^.+$']);
    expect(rule!.all('autoMemberExclusiveRegex')).toContain(
      `fqdn=^${d().serverFqdn.replace(/\./g, '\\.')}$`,
    );
  });

  it('when a host with a subscription id is added then automember puts it in hcc-enrollment', async () => {
    const dn = await addHost(env.dm, env.layout, `auto-${Date.now()}.${d().domain}`, {
      subscriptionId: randomUUID(),
    });

    const group = await env.dm.get(env.layout.hostgroup, ['member']);
    expect(group!.all('member').map((m) => m.toLowerCase())).toContain(dn.toLowerCase());
  });

  it('when a host without a subscription id is added then it stays out of hcc-enrollment', async () => {
    const dn = await addHost(env.dm, env.layout, `plain-${Date.now()}.${d().domain}`);

    const group = await env.dm.get(env.layout.hostgroup, ['member']);
    expect(group!.all('member').map((m) => m.toLowerCase())).not.toContain(dn.toLowerCase());
  });

  it('when an IPA server host carries a subscription id then it is never put in hcc-enrollment', async () => {
    const fqdn = d().serverFqdn;
    const existing = await env.dm.get(env.layout.hostDn(fqdn));
    if (existing) {
      await env.dm.modify(existing.dn, [
        { operation: 'add', attribute: 'objectClass', values: ['HCCHost'] },
        { operation: 'replace', attribute: 'HCCSubscriptionId', values: [randomUUID()] },
      ]);
    } else {
      await addHost(env.dm, env.layout, fqdn, { subscriptionId: randomUUID() });
    }

    const group = await env.dm.get(env.layout.hostgroup, ['member']);
    const members = group!.all('member').map((m) => m.toLowerCase());
    expect(members).not.toContain(env.layout.hostDn(fqdn).toLowerCase());
  });

  it('when installed then the HCC host attributes have equality and presence indexes', async () => {
    if (d().kind !== '389ds') {
      return; // cn=config is only readable as Directory Manager on the harness's own server
    }

    const found = await env.dm.search({
      base: 'cn=ldbm database,cn=plugins,cn=config',
      filter: eq('objectClass', 'nsIndex'),
      attributes: ['cn', 'nsIndexType'],
    });
    const hcc = found.filter((e) => e.first('cn')?.startsWith('HCC'));
    expect(hcc.map((e) => e.first('cn')).sort()).toEqual([
      'HCCCertSubject',
      'HCCInventoryId',
      'HCCOrgId',
      'HCCSubscriptionId',
    ]);
    for (const e of hcc) {
      expect(e.all('nsIndexType').sort()).toEqual(['eq', 'pres']);
    }
  });

  it('when the directory restarts then a second host with the same certificate subject is refused', async () => {
    expect(await env.dm.exists(UNIQUENESS_PLUGIN)).toBe(true);
    if (!(await restartDirectory())) {
      return; // an external directory is restarted by its admin (ipactl restart)
    }

    await env.dm.close();
    const subject = `O=1234567,CN=${randomUUID()}`;
    await addHost(env.dm, env.layout, `uniq-a.${d().domain}`, { certSubject: subject });

    const err = await directoryFailure(
      addHost(env.dm, env.layout, `uniq-b.${d().domain}`, { certSubject: subject }),
    );
    expect(err.code).toBe('constraint-violation');
    expect(await env.dm.exists(env.layout.hostDn(`uniq-b.${d().domain}`))).toBe(false);
  });
});

describe('install: what the enrollment service may do', () => {
  let service: Directory;

  beforeAll(() => {
    const principal = servicePrincipal(d().serverFqdn, d().realm);
    const dn = env.layout.serviceDn(principal);
    const { ldapiSocket, ldapUrl } = d();
    const url = ldapiSocket ? `ldapi://${encodeURIComponent(ldapiSocket)}` : ldapUrl;
    service = new Directory({ url, bind: simpleBind(dn, `${env.confDir}/service.password`) });
  });

  afterAll(async () => {
    await service.close();
  });

  it('when the service binds with its password then it is a member of the role', async () => {
    const role = await env.dm.get(env.layout.role, ['member']);

    expect(role!.all('member')).toHaveLength(1);
    expect((await service.whoami()).toLowerCase()).toBe(role!.first('member')!.toLowerCase());
  });

  it('when the service adds a host then the directory accepts it', async () => {
    const dn = await addHost(service, env.layout, `svc-add.${d().domain}`, {
      subscriptionId: randomUUID(),
    });

    expect(await env.dm.exists(dn)).toBe(true);
  });

  it('when the service reads a host and the registration container then it may', async () => {
    const hosts = await service.search({
      base: env.layout.computers,
      scope: 'one',
      filter: eq('fqdn', `svc-add.${d().domain}`),
    });

    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.has('HCCSubscriptionId')).toBe(true);
    expect(await service.exists(env.layout.jwk)).toBe(true);
  });

  it('when the service sets a host password then it may, but never on an IPA server', async () => {
    const host = env.layout.hostDn(`svc-add.${d().domain}`);
    await service.modify(host, [
      { operation: 'replace', attribute: 'userPassword', values: ['x'.repeat(32)] },
    ]);

    const server = env.layout.hostDn(d().serverFqdn);
    await env.dm.modify(env.layout.ipaservers, [
      { operation: 'add', attribute: 'member', values: [server] },
    ]);
    const err = await directoryFailure(
      service.modify(server, [
        { operation: 'replace', attribute: 'userPassword', values: ['y'.repeat(32)] },
      ]),
    );
    expect(err.code).toBe('insufficient-access');
  });

  it('when the service tries to change a user or add outside cn=computers then it is refused', async () => {
    const admin = `uid=admin,cn=users,cn=accounts,${d().suffix}`;
    const modify = await directoryFailure(
      service.modify(admin, [
        { operation: 'replace', attribute: 'userPassword', values: ['z'.repeat(32)] },
      ]),
    );
    expect(modify.code).toBe('insufficient-access');

    const add = await directoryFailure(
      service.add(`cn=evil,cn=groups,cn=accounts,${d().suffix}`, {
        objectClass: ['top', 'groupOfNames', 'nestedGroup'],
        cn: 'evil',
      }),
    );
    expect(add.code).toBe('insufficient-access');
  });

  it('when the service writes a host attribute outside its permissions then it is refused', async () => {
    const host = env.layout.hostDn(`svc-add.${d().domain}`);

    const err = await directoryFailure(
      service.modify(host, [{ operation: 'replace', attribute: 'managedBy', values: [host] }]),
    );
    expect(err.code).toBe('insufficient-access');
  });

  it('when the service adds a host carrying an ACI, memberOf or a Kerberos name then it is refused', async () => {
    const base = (name: string) => ({
      objectClass: ['top', 'ipaobject', 'nshost', 'ipahost', 'pkiuser', 'ipaservice', 'HCCHost'],
      fqdn: host(name),
      cn: host(name),
      ipaUniqueID: 'autogenerate',
      HCCSubscriptionId: randomUUID(),
    });
    const attempts: Array<[string, Record<string, string | string[]>]> = [
      [
        'extensible',
        {
          objectClass: [...base('x').objectClass, 'extensibleObject'],
          ipaAllowedToPerform: d().suffix,
        },
      ],
      [
        'read-keys',
        {
          objectClass: [...base('x').objectClass, 'ipaAllowedOperations'],
          'ipaAllowedToPerform;read_keys': d().suffix,
        },
      ],
      [
        'aci',
        { aci: '(targetattr="*")(version 3.0; acl "evil"; allow (all) userdn="ldap:///anyone";)' },
      ],
      ['memberof', { memberOf: d().suffix }],
      [
        'krb',
        {
          objectClass: [...base('x').objectClass, 'krbPrincipalAux'],
          krbPrincipalName: `ldap/${d().serverFqdn}@${d().realm}`,
        },
      ],
      [
        'sshkey',
        { objectClass: [...base('x').objectClass, 'ipaSshHost'], ipaSshPubKey: 'ssh-ed25519 AAAA' },
      ],
    ];

    for (const [name, extra] of attempts) {
      const err = await directoryFailure(
        service.add(env.layout.hostDn(host(`bad-${name}`)), { ...base(`bad-${name}`), ...extra }),
      );
      expect(err.code, name).toBe('insufficient-access');
    }
  });

  it('when the service writes a host not enrolled through HCC then it is refused', async () => {
    const plain = await addHost(env.dm, env.layout, host('manual'));

    const err = await directoryFailure(
      service.modify(plain, [
        { operation: 'replace', attribute: 'userPassword', values: ['p'.repeat(32)] },
      ]),
    );
    expect(err.code).toBe('insufficient-access');
    const classes = await directoryFailure(
      service.modify(env.layout.hostDn(host('svc-add')), [
        { operation: 'delete', attribute: 'objectClass', values: ['ipahost'] },
      ]),
    );
    expect(classes.code).toBe('insufficient-access');
  });

  it('when the service tries to revive or extend a signing key then it is refused; it may read keys', async () => {
    const kid = 'AbCdEf12';
    await env.dm.add(env.layout.jwkDn(kid), {
      objectClass: ['top', 'nsContainer', 'HCCPublicJWKObject'],
      cn: kid,
      HCCPublicJWK: '{}',
      ipaTokenNotAfter: '20300101000000Z',
      ipaEnabledFlag: 'FALSE',
      ipaKeyUsage: 'sig',
      algorithmId: 'ES256',
    });

    const revive = await directoryFailure(
      service.modify(env.layout.jwkDn(kid), [
        { operation: 'replace', attribute: 'ipaEnabledFlag', values: ['TRUE'] },
      ]),
    );
    const add = await directoryFailure(
      service.add(env.layout.jwkDn('ZZZZZZZZ'), {
        objectClass: ['top', 'nsContainer', 'HCCPublicJWKObject'],
        cn: 'ZZZZZZZZ',
        HCCPublicJWK: '{}',
        ipaTokenNotAfter: '20300101000000Z',
        ipaEnabledFlag: 'TRUE',
        ipaKeyUsage: 'sig',
        algorithmId: 'ES256',
      }),
    );

    expect([revive.code, add.code]).toEqual(['insufficient-access', 'insufficient-access']);
    expect(
      (await service.get(env.layout.jwkDn(kid), ['ipaEnabledFlag']))!.first('ipaEnabledFlag'),
    ).toBe('FALSE');
  });

  it('when installed then each permission has exactly one ACI at its location', async () => {
    for (const p of PERMISSIONS) {
      const loc = await env.dm.get(p.location(env.layout), ['aci']);
      const acis = loc!.all('aci').filter((a) => a.includes(`acl "permission:${p.name}"`));
      expect(acis, p.name).toHaveLength(1);
    }
  });
});

/** Everything install writes, to compare before and after a second run. */
async function snapshot(): Promise<string[]> {
  const l = env.layout;
  const bases = [
    l.hcc,
    l.hostgroup,
    l.automemberRule,
    l.role,
    l.privileges,
    l.permissions,
    l.masters,
    l.services,
  ];
  const lines: string[] = [];
  for (const base of bases) {
    for (const e of await env.dm.search({ base, attributes: ['*', 'modifyTimestamp'] })) {
      for (const name of e.attributeNames().sort()) {
        lines.push(`${e.dn}|${name}|${e.all(name).sort().join('|')}`);
      }
    }
  }

  const acis = await env.dm.get(l.computers, ['aci']);
  lines.push(...acis!.all('aci').sort());
  return lines.sort();
}

describe('install on a domain whose hosts already carry HCC attributes', () => {
  it('when install runs then it reindexes them and completes every step', async () => {
    await resetDirectory();
    const fresh = await adminEnv();
    try {
      const subject = `O=42,CN=${randomUUID()}`;
      await fresh.dm.modify('cn=schema', [
        {
          operation: 'add',
          attribute: 'attributeTypes',
          values: [HCC_SCHEMA[3]!.definition, HCC_SCHEMA[1]!.definition],
        },
      ]);
      await fresh.dm.add(fresh.layout.hostDn(`old.${d().domain}`), {
        objectClass: ['top', 'ipaobject', 'nshost', 'ipahost', 'extensibleObject'],
        fqdn: `old.${d().domain}`,
        cn: `old.${d().domain}`,
        ipaUniqueID: 'autogenerate',
        HCCCertSubject: subject,
      });

      const run = await fresh.cli(['install']);

      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      expect(run.out).toContain('Added role "HCC Enrollment Administrators"');
      const found = await fresh.dm.search({
        base: fresh.layout.computers,
        filter: eq('HCCCertSubject', subject),
      });
      expect(found).toHaveLength(1);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe('install on two servers at the same moment', () => {
  it('when two IPA servers run install concurrently then both succeed with one set of entries', async () => {
    await resetDirectory();
    const first = await adminEnv();
    const second = await adminEnv();
    try {
      const other = `ipa2.${d().domain}`;
      await first.dm.add(first.layout.masterDn(other), {
        objectClass: ['top', 'nsContainer', 'ipaReplTopoManagedServer', 'ipaConfigObject'],
        cn: other,
        ipaReplTopoManagedSuffix: d().suffix,
      });
      await writeIpaDefaultConf(second.ipaConfDir, { host: other, server: other });

      const runs = await Promise.all([first.spawn(['install']), second.spawn(['install'])]);

      expect(runs.map((r) => [r.code, r.err])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      const role = await first.dm.get(first.layout.role, ['member']);
      expect(role!.all('member')).toHaveLength(2);
      const computers = await first.dm.get(first.layout.computers, ['aci']);
      const addAcis = computers!
        .all('aci')
        .filter((a) => a.includes('permission:HCC Enrollment - Add Hosts'));
      expect(addAcis).toHaveLength(1);
      expect((await first.cli(['install'])).out).toBe(
        'ipa-hcc-ts is already installed: nothing to change.',
      );
      expect((await second.cli(['install'])).out).toBe(
        'ipa-hcc-ts is already installed: nothing to change.',
      );
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
  });
});
