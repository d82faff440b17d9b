// client.conf and the flags over it: precedence, defaults, and a clear refusal of every bad
// value naming where it came from.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failure } from './enroll-failure.js';
import { processIo } from '../../client/io.js';
import { main } from '../../client/main.js';
import {
  parseSettingsText,
  readSettingsFile,
  resolveSettings,
  SETTING_KEYS,
  settingDefaults,
} from '../../client/settings.js';

const env = {};
const FILE = '/etc/ipa-hcc-ts/client.conf';

describe('resolveSettings', () => {
  it('when nothing is set then every default applies', () => {
    expect(resolveSettings([], env)).toEqual({
      servers: [],
      caCert: '/etc/ipa-hcc-ts/ipa-ca.crt',
      cert: '/etc/pki/consumer/cert.pem',
      key: '/etc/pki/consumer/key.pem',
      serverPort: 9443,
      dnsServers: [],
      timeoutMs: 30_000,
      deadlineMs: 900_000,
      installer: '/usr/sbin/ipa-client-install',
      insightsMachineId: '/etc/insights-client/machine-id',
      machineId: '/etc/machine-id',
    });
  });

  it('when IPA_HCC_TS_CONFDIR is set then the CA file default moves with it', () => {
    expect(resolveSettings([], { IPA_HCC_TS_CONFDIR: '/srv/conf' }).caCert).toBe(
      '/srv/conf/ipa-ca.crt',
    );
  });

  it('when the file and the flags set the same key then the flags win', () => {
    const s = resolveSettings(
      [
        { source: FILE, values: { servers: 'https://ipa1.ipa.test', location: 'dc1' } },
        { source: 'the command line', values: { servers: 'https://ipa2.ipa.test:8443' } },
      ],
      env,
    );

    expect(s.servers).toEqual(['https://ipa2.ipa.test:8443']);
    expect(s.location).toBe('dc1');
  });

  it('when server URLs have no port then server_port applies, and ":443" stays', () => {
    const s = resolveSettings(
      [
        {
          source: FILE,
          values: {
            servers: 'https://IPA1.ipa.test, https://ipa2.ipa.test:443/,https://[::1]:9000',
            server_port: '8443',
          },
        },
      ],
      env,
    );

    expect(s.servers).toEqual([
      'https://ipa1.ipa.test:8443',
      'https://ipa2.ipa.test',
      'https://[::1]:9000',
    ]);
  });

  it('when values are well formed then they are normalised', () => {
    const s = resolveSettings(
      [
        {
          source: FILE,
          values: {
            domain: 'IPA.Test.',
            location: 'DC2',
            dns_servers: '127.0.0.1, 127.0.0.1:5353,[::1]:53,::1',
            timeout: '1.5',
            deadline: '20',
          },
        },
      ],
      env,
    );

    expect(s).toMatchObject({
      domain: 'ipa.test',
      location: 'dc2',
      dnsServers: ['127.0.0.1', '127.0.0.1:5353', '[::1]:53', '::1'],
      timeoutMs: 1500,
      deadlineMs: 20_000,
    });
  });

  it.each([
    ['servers', 'http://ipa1.ipa.test', 'must start with https://'],
    ['servers', 'https://ipa1.ipa.test/ipa', 'must be only https://<host>[:<port>]'],
    ['servers', 'ipa1.ipa.test', 'not a URL'],
    ['server_port', '0', 'must be a port number from 1 to 65535'],
    ['server_port', '9443x', 'must be a port number from 1 to 65535'],
    [
      'dns_servers',
      'dns.example.test',
      'each resolver must be an IP address, ip:port or [ipv6]:port',
    ],
    ['dns_servers', '127.0.0.1:99999', 'must be a port number from 1 to 65535'],
    ['timeout', '0', 'must be a positive number of seconds'],
    ['deadline', '-5', 'must be a positive number of seconds'],
    ['deadline', '15m', 'must be a positive number of seconds'],
    ['installer', 'ipa-client-install', 'must be an absolute path'],
    ['domain', 'ipa_test.example', 'must be a DNS name such as example.test'],
    ['location', 'dc.one', 'must be a single DNS label such as dc1'],
    ['cert', '', 'a file name is required'],
  ] as const)('when %s is %j then it is refused: %s', (key, value, why) => {
    const err = failure(() => resolveSettings([{ source: FILE, values: { [key]: value } }], env));

    expect(err.code).toBe('bad-config');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`${FILE}: ${key} = "${value}": ${why}.`);
    expect(err.hint).toBe(
      `Fix ${FILE}; client/README.md lists every setting with its form and default.`,
    );
  });
});

describe('parseSettingsText', () => {
  it('when the file has [client] and other sections then only [client] is read', () => {
    const text =
      '# comment\n[client]\nservers = https://a.ipa.test\nDomain: ipa.test\n[other]\nx=1\n';

    expect(parseSettingsText(text, FILE)).toEqual({
      servers: 'https://a.ipa.test',
      domain: 'ipa.test',
    });
  });

  it('when a key is unknown then it is refused by name', () => {
    const err = failure(() => parseSettingsText('[client]\ntimeouts = 3\n', FILE));

    expect(err.message).toBe(`${FILE}: unknown key "timeouts" in [client].`);
  });

  it('when a line is not INI then the line number is named', () => {
    const err = failure(() => parseSettingsText('[client]\nservers\n', FILE));

    expect(err.message).toBe(`${FILE}: line 2: not a valid INI file.`);
  });

  it('when the README table is compared then it lists exactly the keys, with their defaults and flags', async () => {
    const readme = await readFile(new URL('../../client/README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| `(--[a-z-]+)[^|]*\| ([^|]*) \|/gm)];
    const defaults = settingDefaults({});
    const help: string[] = [];
    await main(['--help'], { ...processIo(), out: (t) => help.push(t) });

    expect(rows.map((r) => r[1])).toEqual([...SETTING_KEYS]);
    for (const [, key, flag, shown] of rows) {
      const value = defaults[key as keyof typeof defaults];
      if (value === '') {
        expect(shown, key).toMatch(/^\(.+\)$/);
      } else {
        expect(shown, key).toBe(`\`${value}\``);
      }

      expect(help.join('\n')).toContain(`${flag} <`);
    }
  });
});

describe('readSettingsFile', () => {
  it('when the default file is missing then there are no settings, and a named one is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-conf-'));
    try {
      const path = join(dir, 'client.conf');

      expect(await readSettingsFile(path, false)).toEqual({ source: path, values: {} });
      await expect(readSettingsFile(path, true)).rejects.toThrow(
        `Cannot read the settings file ${path}.`,
      );
      await writeFile(path, '[client]\ndeadline = 60\n');
      expect(await readSettingsFile(path, true)).toEqual({
        source: path,
        values: { deadline: '60' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
