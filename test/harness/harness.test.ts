// The test harness itself: a real 389-ds with FreeIPA's schema and tree, reset, restart, cleanup.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Attribute, Change, Client, ConstraintViolationError, NoSuchObjectError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directory,
  resetDirectory,
  restartDirectory,
  trackEntry,
  writeIpaDefaultConf,
} from './directory.js';
import { isBelow, rdns } from './external.js';
import {
  evalArithmetic,
  murmurhash3x86_32,
  renderTemplate,
  substitute,
  templateValues,
} from './ipa-templates.js';
import { bindClient, bindLdapiExternal, tlsOptions } from './ldap-client.js';
import { parseLdif } from './ldif.js';
import { procStat, slapdPidsOf } from './proc.js';
import { createRun, destroyRun, readRun, resetRun, runInstance } from './run.js';
import { domainFromSuffix } from './settings.js';
import { instancePaths } from './slapd.js';
import { INSTANCE_NAME, loadTemplate } from './template.js';

const info = directory();
const is389 = info.kind === '389ds';
const WHOAMI = '1.3.6.1.4.1.4203.1.11.3';
const timings: Record<string, number> = {};

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
}

async function whoami(client: Client): Promise<string> {
  return ((await client.exop(WHOAMI)).value ?? '').toLowerCase();
}

async function withDm<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await bindClient({ ...info, caCertFile: undefined });
  try {
    return await fn(client);
  } finally {
    await client.unbind();
  }
}

async function exists(client: Client, dn: string): Promise<boolean> {
  try {
    await client.search(dn, { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch (err) {
    if (err instanceof NoSuchObjectError) return false;
    throw err;
  }
}

async function attr(client: Client, dn: string, name: string): Promise<string[]> {
  const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [name] });
  const value = searchEntries[0]?.[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function currentPid(): number {
  const p = instancePaths(runInstance({ runDir: info.runDir!, name: INSTANCE_NAME }));
  return Number(readFileSync(p.pidFile, 'utf8').trim());
}

// Listening TCP sockets on `port` from /proc/net/tcp{,6}: local addresses in kernel hex.
function listeners(port: number): { family: string; address: string }[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].flatMap((family) =>
    readFileSync(`/proc/net/${family}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
      .map((f) => ({ family, address: f[1]!.split(':')[0]! })),
  );
}

beforeAll(async () => {
  await timed('reset (beforeAll)', resetDirectory);
});

afterAll(() => {
  process.stderr.write(`[harness.test] timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('FreeIPA template rendering', () => {
  it('computes the domain hash like sssd murmurhash3', () => {
    // values from FreeIPA's render_ipa_ldif.py reference (Python)
    expect(murmurhash3x86_32(Buffer.from('ipa.test'), 0xdeadbeef)).toBe(3693636073);
    expect(murmurhash3x86_32(Buffer.from('abc'), 0xdeadbeef)).toBe(3523303279);
    expect(murmurhash3x86_32(Buffer.from('example.test'), 0xdeadbeef)).toBe(1348261757);
  });

  it('substitutes like string.Template and evaluates eval()', () => {
    expect(substitute('$$ ${REALM}_id $SUFFIX.', { REALM: 'R', SUFFIX: 'dc=x' })).toBe(
      '$ R_id dc=x.',
    );
    expect(() => substitute('$NOPE', {})).toThrow(/NOPE/);
    expect(() => substitute('a $ b', {})).toThrow(/invalid placeholder/);
    expect(evalArithmetic('1234400000+2')).toBe(1234400002);
    expect(evalArithmetic('2*3+4*5-1')).toBe(25);
    const values = templateValues({
      suffix: 'dc=ipa,dc=test',
      realm: 'IPA.TEST',
      domain: 'ipa.test',
      serverFqdn: 'ipa.ipa.test',
    });
    expect(renderTemplate('gidNumber: eval($IDSTART+2)', values)).toBe('gidNumber: 1234400002');
  });

  it('parses folded LDIF change records', () => {
    const records = parseLdif(
      '# c\ndn: cn=a,dc=x\nchangetype: modify\nadd: aci\naci: one\n  two\n-\nreplace: cn\ncn: b\n\ndn: cn=b,dc=x\nobjectClass: top\nobjectclass: nsContainer\ndescription:: w6k=\n',
    );
    expect(records).toMatchObject([
      {
        kind: 'modify',
        dn: 'cn=a,dc=x',
        changes: [
          { operation: 'add', type: 'aci', values: ['one two'] },
          { operation: 'replace', type: 'cn', values: ['b'] },
        ],
      },
      { kind: 'add', dn: 'cn=b,dc=x' },
    ]);
    const add = records[1];
    expect(add?.kind === 'add' && [...add.attributes.values()]).toEqual([
      { type: 'objectClass', values: ['top', 'nsContainer'] },
      { type: 'description', values: ['é'] },
    ]);
  });

  it('derives the domain from the suffix and orders DNs by depth', () => {
    expect(domainFromSuffix('dc=ipa,dc=test')).toBe('ipa.test');
    expect(rdns('cn=a\\,b,cn=c,dc=x')).toEqual(['cn=a\\,b', 'cn=c', 'dc=x']);
    expect(isBelow('CN=x, DC=ipa,dc=test', 'dc=ipa,dc=test')).toBe(true);
    expect(isBelow('dc=ipa,dc=test', 'dc=ipa,dc=test')).toBe(false);
    expect(isBelow('cn=config', 'dc=ipa,dc=test')).toBe(false);
  });
});

describe('directory info', () => {
  it('describes the test domain', () => {
    expect(info.suffix).toBe(process.env.IPA_HCC_TEST_SUFFIX || 'dc=ipa,dc=test');
    expect(info.domain).toBe(process.env.IPA_HCC_TEST_DOMAIN || domainFromSuffix(info.suffix));
    expect(info.serverFqdn).toBe(process.env.IPA_HCC_TEST_SERVER || `ipa.${info.domain}`);
    if (is389) expect(statSync(info.bindPasswordFile).mode & 0o777).toBe(0o600);
  });

  it('writes an IPA default.conf', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'harness-conf-'));
    try {
      const file = await writeIpaDefaultConf(dir, { enable_ra: 'False', extra: 'x' });
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/^\[global\]\n/);
      expect(text).toContain(`basedn = ${info.suffix}\n`);
      expect(text).toContain(`realm = ${info.realm}\n`);
      expect(text).toContain(`server = ${info.serverFqdn}\n`);
      expect(text).toContain('enable_ra = False\n');
      expect(text).toContain('extra = x\n');
      if (is389) expect(text).toContain('ldap_uri = ldapi://%2Fvar%2Ftmp%2F');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(is389)('389-ds with FreeIPA schema', () => {
  it('answers on its LDAP port as Directory Manager', async () => {
    expect(info.ldapUrl).toMatch(/^ldap:\/\/127\.0\.0\.1:\d+$/);
    await withDm(async (client) => {
      expect(await whoami(client)).toBe('dn: cn=directory manager');
    });
  });

  it('answers over LDAPI, where SASL EXTERNAL as root is Directory Manager', async () => {
    expect(process.getuid?.()).toBe(0);
    const client = await bindLdapiExternal(info.ldapiSocket!);
    try {
      expect(await whoami(client)).toBe('dn: cn=directory manager');
      expect(await attr(client, 'cn=config', 'nsslapd-ldapiautobind')).toEqual(['on']);
      expect((await attr(client, 'cn=config', 'nsslapd-ldapimaprootdn'))[0]?.toLowerCase()).toBe(
        'cn=directory manager',
      );
    } finally {
      await client.unbind();
    }
  });

  it('speaks LDAPS and StartTLS with its CA and server name localhost', async () => {
    expect(info.tlsServerName).toBe('localhost');
    const client = new Client({ url: info.ldapsUrl!, tlsOptions: tlsOptions(info) });
    try {
      await client.bind(info.bindDn, readFileSync(info.bindPasswordFile, 'utf8'));
      expect(await whoami(client)).toBe('dn: cn=directory manager');
    } finally {
      await client.unbind();
    }
    const startTls = await bindClient(info); // ldap:// + CA: StartTLS before the bind
    await startTls.unbind();
  });

  it('listens on 127.0.0.1 only', () => {
    const { ldapUrl, ldapsUrl } = info;
    for (const url of [ldapUrl, ldapsUrl!]) {
      const port = Number(new URL(url).port);
      expect(listeners(port)).toEqual([{ family: 'tcp', address: '0100007F' }]);
    }
  });

  it('has the FreeIPA schema and tree', async () => {
    await withDm(async (client) => {
      const classes = await attr(client, 'cn=schema', 'objectClasses');
      expect(classes.some((c) => /NAME 'ipaHost'/.test(c))).toBe(true);
      const config = `cn=ipaConfig,cn=etc,${info.suffix}`;
      expect(await attr(client, config, 'ipaDefaultEmailDomain')).toEqual([info.domain]);
      const master = `cn=${info.serverFqdn},cn=masters,cn=ipa,cn=etc,${info.suffix}`;
      expect(await exists(client, master)).toBe(true);
      const hash = murmurhash3x86_32(Buffer.from(info.domain), 0xdeadbeef);
      const range = `cn=${info.realm}_subid_range,cn=ranges,cn=etc,${info.suffix}`;
      expect(await attr(client, range, 'ipaNTTrustedDomainSID')).toEqual([
        `S-1-5-21-738065-838566-${hash}`,
      ]);
      const admin = await attr(
        client,
        `uid=admin,cn=users,cn=accounts,${info.suffix}`,
        'ipaUniqueID',
      );
      expect(admin[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    });
  });

  it('gives each ipaUniqueID: autogenerate entry its own value', async () => {
    await withDm(async (client) => {
      const ids: string[] = [];
      for (const cn of ['uid-probe-1', 'uid-probe-2']) {
        const dn = `cn=${cn},cn=accounts,${info.suffix}`;
        await client.add(dn, {
          objectClass: ['top', 'nsContainer', 'ipaObject'],
          cn,
          ipaUniqueID: 'autogenerate',
        });
        ids.push(...(await attr(client, dn, 'ipaUniqueID')));
      }
      expect(ids).toHaveLength(2);
      expect(ids).not.toContain('autogenerate');
      expect(new Set(ids).size).toBe(2);
      for (const id of ids) {
        const { searchEntries } = await client.search(info.suffix, {
          filter: `(ipaUniqueID=${id})`,
          attributes: ['1.1'],
        });
        expect(searchEntries).toHaveLength(1);
      }
    });
  });

  it('reset throws away entries and cn=config changes, quickly', async () => {
    const entry = `cn=reset-probe,cn=accounts,${info.suffix}`;
    const plugin = 'cn=probe uniqueness,cn=plugins,cn=config';
    await withDm(async (client) => {
      await client.add(entry, { objectClass: ['top', 'nsContainer'], cn: 'reset-probe' });
      await client.add(plugin, {
        objectClass: ['top', 'nsSlapdPlugin', 'extensibleObject'],
        cn: 'probe uniqueness',
        'nsslapd-pluginPath': 'libattr-unique-plugin',
        'nsslapd-pluginInitfunc': 'NSUniqueAttr_Init',
        'nsslapd-pluginType': 'preoperation',
        'nsslapd-pluginEnabled': 'on',
        'uniqueness-attribute-name': 'description',
        'uniqueness-subtrees': info.suffix,
        'nsslapd-plugin-depends-on-type': 'database',
        'nsslapd-pluginId': 'NSUniqueAttr',
        'nsslapd-pluginVersion': '1.0',
        'nsslapd-pluginVendor': 'test',
        'nsslapd-pluginDescription': 'test',
      });
      await client.modify('cn=config', [
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'nsslapd-sizelimit',
            values: ['123'],
          }),
        }),
      ]);
      expect(await attr(client, 'cn=config', 'nsslapd-sizelimit')).toEqual(['123']);
    });
    const pidBefore = currentPid();
    await timed('reset', resetDirectory);
    expect(currentPid()).not.toBe(pidBefore);
    await withDm(async (client) => {
      expect(await exists(client, entry)).toBe(false);
      expect(await exists(client, plugin)).toBe(false);
      expect(await attr(client, 'cn=config', 'nsslapd-sizelimit')).toEqual(['2000']);
    });
  });

  it('restart keeps data and activates new plugin entries', async () => {
    const parent = `cn=accounts,${info.suffix}`;
    await withDm(async (client) => {
      await client.add('cn=restart probe uniqueness,cn=plugins,cn=config', {
        objectClass: ['top', 'nsSlapdPlugin', 'extensibleObject'],
        cn: 'restart probe uniqueness',
        'nsslapd-pluginPath': 'libattr-unique-plugin',
        'nsslapd-pluginInitfunc': 'NSUniqueAttr_Init',
        'nsslapd-pluginType': 'preoperation',
        'nsslapd-pluginEnabled': 'on',
        'uniqueness-attribute-name': 'description',
        'uniqueness-subtrees': parent,
        'nsslapd-plugin-depends-on-type': 'database',
        'nsslapd-pluginId': 'NSUniqueAttr',
        'nsslapd-pluginVersion': '1.0',
        'nsslapd-pluginVendor': 'test',
        'nsslapd-pluginDescription': 'test',
      });
      await client.add(`cn=restart-probe-1,${parent}`, {
        objectClass: ['top', 'nsContainer', 'extensibleObject'],
        cn: 'restart-probe-1',
        description: 'same',
      });
    });
    const pidBefore = currentPid();
    expect(await timed('restart', restartDirectory)).toBe(true);
    expect(currentPid()).not.toBe(pidBefore);
    await withDm(async (client) => {
      expect(await exists(client, `cn=restart-probe-1,${parent}`)).toBe(true);
      await expect(
        client.add(`cn=restart-probe-2,${parent}`, {
          objectClass: ['top', 'nsContainer', 'extensibleObject'],
          cn: 'restart-probe-2',
          description: 'same',
        }),
      ).rejects.toBeInstanceOf(ConstraintViolationError);
    });
  });

  it('trackEntry is a harmless no-op', () => {
    expect(() => trackEntry(`cn=whatever,${info.suffix}`)).not.toThrow();
  });
});

describe.runIf(is389)('second instance (coexisting run), teardown and watchdog', () => {
  async function secondRun(ownerPid?: number) {
    const template = await loadTemplate((await readRun(info.runDir!)).templateDir);
    const owner = ownerPid
      ? { pid: ownerPid, startTime: procStat(ownerPid)!.startTime }
      : undefined;
    return timed('clone+start (second run)', () => createRun(template, owner));
  }

  it('starts a second clone beside the first, and destroying it leaves nothing behind', async () => {
    const { run, watchdog } = await secondRun();
    const cfgDir = instancePaths(runInstance(run)).cfgDir;
    try {
      expect(run.ldapPort).not.toBe(Number(new URL(info.ldapUrl).port));
      const client = await bindLdapiExternal(instancePaths(runInstance(run)).socket);
      expect(await whoami(client)).toBe('dn: cn=directory manager');
      await client.unbind();
      expect(slapdPidsOf(cfgDir)).toHaveLength(1);
    } finally {
      await timed('teardown (destroyRun)', () => destroyRun(run.runDir));
      watchdog.kill();
    }
    expect(slapdPidsOf(cfgDir)).toEqual([]);
    expect(existsSync(run.runDir)).toBe(false);
  });

  it('watchdog kills the current server (after a reset) and removes the run when its owner dies', async () => {
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    const { run } = await secondRun(owner.pid);
    const cfgDir = instancePaths(runInstance(run)).cfgDir;
    const firstPid = slapdPidsOf(cfgDir)[0];
    await resetRun(run.runDir);
    const pids = slapdPidsOf(cfgDir);
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(firstPid);
    owner.kill('SIGKILL');
    const t0 = performance.now();
    while (existsSync(run.runDir) && performance.now() - t0 < 15_000) await sleep(100);
    timings['watchdog cleanup'] = Math.round(performance.now() - t0);
    expect(existsSync(run.runDir)).toBe(false);
    expect(slapdPidsOf(cfgDir)).toEqual([]);
  });
});

describe.runIf(!is389)('external directory', () => {
  it('cannot restart, and reset deletes tracked entries deepest first', async () => {
    expect(await restartDirectory()).toBe(false);
    const parent = `cn=harness-ext-probe,cn=accounts,${info.suffix}`;
    const child = `cn=child,${parent}`;
    const client = await bindClient(info);
    try {
      await client.add(parent, { objectClass: ['top', 'nsContainer'], cn: 'harness-ext-probe' });
      trackEntry(parent);
      await client.add(child, { objectClass: ['top', 'nsContainer'], cn: 'child' });
      trackEntry(child);
      trackEntry(`cn=never-created,${info.suffix}`);
      await resetDirectory();
      expect(await exists(client, parent)).toBe(false);
    } finally {
      await client.unbind();
    }
  });
});
