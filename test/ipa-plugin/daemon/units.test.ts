// Small pieces of the daemon: host-name rules, one-time passwords, settings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readDaemonConfig } from '../../../ipa-plugin/daemon/config.js';
import { checkFqdn, inRealmDomains } from '../../../ipa-plugin/daemon/fqdn.js';
import { generateOtp, OTP_LENGTH } from '../../../ipa-plugin/daemon/otp.js';

describe('checkFqdn', () => {
  it.each([
    ['Web01.IPA.Test', 'web01.ipa.test'],
    ['a.b', 'a.b'],
    ['x-1.ipa.test', 'x-1.ipa.test'],
  ])('when the name is %j then it is accepted as %j', (raw, fqdn) => {
    expect(checkFqdn(raw)).toEqual({ ok: true, fqdn });
  });

  it.each([
    ['web01', 'fully qualified'],
    ['web01.ipa.test.', 'each label'],
    ['-web.ipa.test', 'each label'],
    ['web-.ipa.test', 'each label'],
    ['we b.ipa.test', 'ASCII'],
    ['\u212Aelvin.ipa.test', 'ASCII'],
    ['ipa-ca.ipa.test', 'IPA itself uses'],
    ['web..ipa.test', 'each label'],
    ['localhost.ipa.test', 'localhost'],
    ['web.localhost', 'localhost'],
    ['localhost.localdomain', 'localhost'],
    [`${'a'.repeat(55)}.ipa.test`, 'has 64 characters; at most 63'],
  ])('when the name is %j then it is refused saying %j', (raw, words) => {
    const r = checkFqdn(raw);

    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.detail).toContain(words);
  });

  it('when matching realm domains then only the domain itself and names below it match', () => {
    expect(inRealmDomains('ipa.test', ['ipa.test'])).toBe(true);
    expect(inRealmDomains('a.ipa.test', ['ipa.test'])).toBe(true);
    expect(inRealmDomains('evilipa.test', ['ipa.test'])).toBe(false);
    expect(inRealmDomains('a.ipa.test.evil', ['ipa.test'])).toBe(false);
  });
});

describe('generateOtp', () => {
  it('when many are made then each is 32 letters and digits, all different, using the whole alphabet', () => {
    const otps = Array.from({ length: 2000 }, () => generateOtp());

    expect(OTP_LENGTH).toBe(32);
    expect(otps.every((o) => /^[A-Za-z0-9]{32}$/.test(o))).toBe(true);
    expect(new Set(otps).size).toBe(otps.length);
    expect(new Set(otps.join('')).size).toBe(62);
  });
});

describe('readDaemonConfig', () => {
  it('when there is no file then every default applies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    try {
      const c = await readDaemonConfig(dir);

      expect(c).toMatchObject({
        listenAddress: '::',
        port: 9443,
        maxConnections: 256,
        rateLimitPerSubject: 10,
      });
      expect(c.ldapUri).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it.each([
    ['port = 0'],
    ['port = 70000'],
    ['port = nine'],
    ['max_connections = -1'],
    ['headers_timeout_ms = 1.5'],
  ])('when the [daemon] section says %j then it is refused naming the key', async (line) => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    try {
      await writeFile(join(dir, 'ipa-hcc-ts.conf'), `[daemon]\n${line}\n`);

      const err = await readDaemonConfig(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(line.split(' ')[0]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
