// The installer step: its command line checked against the real ipa-client-install's options,
// the password masked wherever it could show, the CA file, and failures.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_INSTALLER_OPTIONS } from '../../client/answers.js';
import { EnrollError } from '../../client/errors.js';
import {
  displayCommand,
  installerArgs,
  runInstaller,
  writeCaBundle,
} from '../../client/installer.js';
import { exists } from './world.js';

const REAL_INSTALLER = '/usr/sbin/ipa-client-install';
const OTP = 'Q7mZp2Lx9Vb4Nc8Rt1Ys6Wd3Kf5Hg0Ja';
const params = {
  otp: OTP,
  server: 'ipa.ipa.test',
  domain: 'ipa.test',
  realm: 'IPA.TEST',
  fqdn: 'web01.ipa.test',
  caFile: '/tmp/ipa-hcc-ts-enroll-abc123/ca.crt',
  extra: ['--mkhomedir'],
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'installer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The options of the real ipa-client-install, from its --help. */
async function realOptions(): Promise<Set<string>> {
  const { stdout } = await execa(REAL_INSTALLER, ['--help'], { stdin: 'ignore', timeout: 20_000 });
  const options = new Set<string>();
  for (const line of stdout.split('\n')) {
    // optparse lists options at the start of an indented line: "-w PASSWORD, --password=PASSWORD"
    const head = /^\s+(-.*?)(\s{2,}|$)/.exec(line)?.[1] ?? '';
    for (const m of head.matchAll(/(?:^|,\s*)(--?[A-Za-z][\w-]*)/g)) {
      options.add(m[1]!);
    }
  }

  return options;
}

describe('the installer command line', () => {
  it('when built then it is what ipa-hcc documented, in order, with the extra arguments last', () => {
    expect(installerArgs(params)).toEqual([
      '--unattended',
      '--password',
      OTP,
      '--server',
      'ipa.ipa.test',
      '--domain',
      'ipa.test',
      '--realm',
      'IPA.TEST',
      '--hostname',
      'web01.ipa.test',
      '--ca-cert-file',
      '/tmp/ipa-hcc-ts-enroll-abc123/ca.crt',
      '--mkhomedir',
    ]);
  });

  it.skipIf(!existsSync(REAL_INSTALLER))(
    'when compared with the real ipa-client-install --help then every option the client uses or reserves exists there',
    async () => {
      const known = await realOptions();

      expect(known.size).toBeGreaterThan(40);
      const used = installerArgs({ ...params, extra: [] }).filter((a) => a.startsWith('-'));
      expect(used).toEqual([
        '--unattended',
        '--password',
        '--server',
        '--domain',
        '--realm',
        '--hostname',
        '--ca-cert-file',
      ]);
      expect(used.filter((o) => !known.has(o))).toEqual([]);
      expect(RESERVED_INSTALLER_OPTIONS.filter((o) => !known.has(o))).toEqual([]);
    },
    30_000,
  );

  it('when shown then the password is masked and odd arguments are quoted for the shell', () => {
    const args = installerArgs({ ...params, extra: ['--ntp-server', "ntp one's"] });

    const shown = displayCommand('/usr/sbin/ipa-client-install', args);

    expect(shown).toBe(
      '/usr/sbin/ipa-client-install --unattended --password ******** --server ipa.ipa.test ' +
        '--domain ipa.test --realm IPA.TEST --hostname web01.ipa.test ' +
        "--ca-cert-file /tmp/ipa-hcc-ts-enroll-abc123/ca.crt --ntp-server 'ntp one'\\''s'",
    );
    expect(shown).not.toContain(OTP);
  });
});

describe('writeCaBundle', () => {
  it('when written then the file has mode 0644 and the bundle, and remove() deletes it', async () => {
    const ca = await writeCaBundle('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');

    expect((await stat(ca.file)).mode & 0o777).toBe(0o644);
    expect(await readFile(ca.file, 'utf8')).toBe(
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );
    await ca.remove();
    expect(await exists(ca.file)).toBe(false);
  });
});

describe('runInstaller', () => {
  async function script(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('when the installer prints the password then the relayed output shows the mask', async () => {
    const installer = await script('echoes', 'echo "args: $*"; echo "to stderr: $3" >&2');
    const out: string[] = [];
    const err: string[] = [];

    await runInstaller(installer, installerArgs(params), OTP, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });

    expect(out).toEqual([
      'args: --unattended --password ******** --server ipa.ipa.test --domain ipa.test --realm ' +
        'IPA.TEST --hostname web01.ipa.test --ca-cert-file /tmp/ipa-hcc-ts-enroll-abc123/ca.crt ' +
        '--mkhomedir',
    ]);
    expect(err).toEqual(['to stderr: ********']);
  });

  it('when the installer exits 3 then it is a failure with exit code 5 that holds no password', async () => {
    const installer = await script('fails', 'exit 3');

    const err = await runInstaller(installer, installerArgs(params), OTP, {
      out: () => undefined,
      err: () => undefined,
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(EnrollError);
    expect((err as EnrollError).exitCode).toBe(5);
    expect((err as EnrollError).message).toBe(`${installer} exited with status 3.`);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain(OTP);
  });

  it('when the installer cannot be started then the failure says so', async () => {
    const err = await runInstaller(join(dir, 'absent'), ['--password', OTP], OTP, {
      out: () => undefined,
      err: () => undefined,
    }).catch((e: unknown) => e);

    expect((err as EnrollError).message).toBe(
      `The installer ${join(dir, 'absent')} could not be started (ENOENT).`,
    );
    expect((err as EnrollError).cause).toBeUndefined();
  });
});
