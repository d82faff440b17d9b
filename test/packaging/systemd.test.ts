// The systemd pieces the packages install (the daemon's and the first-boot client's units, the
// client's preset, the sysusers and tmpfiles entries) and the firewalld service, checked with
// systemd's own tools in scratch roots, never against this machine's system.
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';

/** The exposure systemd-analyze security measured for ipa-hcc-tsd.service (systemd 252). */
const MAX_EXPOSURE = 1.1;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SYSTEMD_DIR = join(ROOT, 'systemd');
const DAEMON_UNIT = 'ipa-hcc-tsd.service';
const ENROLL_UNIT = 'ipa-hcc-ts-enroll.service';
const DAEMON_BIN = '/usr/libexec/ipa-hcc-ts/ipa-hcc-tsd';
const ENROLL_BIN = '/usr/libexec/ipa-hcc-ts/ipa-hcc-ts-enroll';
// Where systemd keeps its own units; a scratch root gets a copy so that the targets the units
// order against exist there.
const HOST_UNIT_DIR = '/usr/lib/systemd/system';

const roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, command)));
}

/** Skips the test when a tool is not installed; everything else must work. */
function needs(ctx: TestContext, command: string, debianPackage: string): void {
  ctx.skip(!onPath(command), `${command} is not installed (Debian package ${debianPackage})`);
}

async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await execa(command, args, {
    all: true,
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
    timeout: 60_000,
  });
  return { code: r.exitCode ?? -1, out: r.all ?? '' };
}

async function scratchRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-systemd-'));
  roots.push(root);
  return root;
}

function shipped(file: string): string {
  return join(SYSTEMD_DIR, file);
}

async function writeExecutable(root: string, path: string): Promise<void> {
  const file = join(root, path);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
}

/** A root holding systemd's units, ours, and stand-ins for the executables ours start. */
async function unitRoot(): Promise<string> {
  const root = await scratchRoot();
  const unitDir = join(root, HOST_UNIT_DIR);
  await cp(HOST_UNIT_DIR, unitDir, { recursive: true, verbatimSymlinks: true });
  for (const unit of [DAEMON_UNIT, ENROLL_UNIT]) {
    await cp(shipped(unit), join(unitDir, unit));
  }

  await writeExecutable(root, DAEMON_BIN);
  await writeExecutable(root, ENROLL_BIN);
  return root;
}

/** The settings of a unit file: each key with its values in order ("" resets are kept). */
async function unitSettings(unit: string): Promise<Map<string, string[]>> {
  const settings = new Map<string, string[]>();
  for (const line of (await readFile(shipped(unit), 'utf8')).split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) {
      settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
    }
  }

  return settings;
}

/** A systemd time span in seconds, as systemd itself reads it. */
async function seconds(span: string): Promise<number> {
  const { code, out } = await run('systemd-analyze', ['timespan', span]);
  // Outside a UTF-8 locale systemd spells μs as us.
  const micro = /^\s*(?:μs|us): (\d+)$/m.exec(out)?.[1];
  if (code !== 0 || micro === undefined) {
    throw new Error(`systemd-analyze timespan ${span} failed: ${out}`);
  }

  return Number(micro) / 1e6;
}

describe('the unit files', () => {
  it('when verified by systemd-analyze in a scratch root then both units are clean', async (ctx) => {
    needs(ctx, 'systemd-analyze', 'systemd');
    const root = await unitRoot();

    // The manual pages are built by the RPM and not installed here; their sources are checked
    // below instead.
    const r = await run('systemd-analyze', [
      'verify',
      `--root=${root}`,
      '--man=no',
      DAEMON_UNIT,
      ENROLL_UNIT,
    ]);

    expect(r).toEqual({ code: 0, out: '' });
  });

  it('when scored by systemd-analyze security then the daemon unit is within the README figure', async (ctx) => {
    needs(ctx, 'systemd-analyze', 'systemd');

    const r = await run('systemd-analyze', ['security', '--offline=true', shipped(DAEMON_UNIT)]);

    const m = /Overall exposure level for ipa-hcc-tsd\.service: (\d+\.\d) (\S+)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(MAX_EXPOSURE);
    expect(m![2]).toBe('OK');
  });

  it('when a unit names its manual page then the page has a source in man/', async () => {
    for (const [unit, page] of [
      [DAEMON_UNIT, 'ipa-hcc-tsd.8'],
      [ENROLL_UNIT, 'ipa-hcc-ts-enroll.8'],
    ] as const) {
      const [name, section] = page.split('.');
      expect((await unitSettings(unit)).get('Documentation')).toEqual([`man:${name}(${section})`]);
      expect(existsSync(join(ROOT, 'man', `${page}.scd`))).toBe(true);
    }
  });

  it('when the daemon unit is read then it runs the daemon unprivileged with its credential and keeps the JIT working', async () => {
    const s = await unitSettings(DAEMON_UNIT);

    expect(s.get('ExecStart')).toEqual([DAEMON_BIN]);
    expect(s.get('User')).toEqual(['ipa-hcc-ts']);
    expect(s.get('Group')).toEqual(['ipa-hcc-ts']);
    expect(s.get('LoadCredential')).toEqual(['bind-password:/etc/ipa-hcc-ts/service.password']);
    expect(s.get('CapabilityBoundingSet')).toEqual(['']);
    expect(s.get('AmbientCapabilities')).toEqual(['']);
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.has('ReadWritePaths')).toBe(false);
    expect(s.has('StateDirectory')).toBe(false);
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
    expect(s.get('Restart')).toEqual(['on-failure']);
    expect(s.get('After')).toEqual(['network-online.target dirsrv.target']);
  });

  it('when the enroll unit is read then it runs once, after the network, only on a machine not yet enrolled that has its certificate', async () => {
    const s = await unitSettings(ENROLL_UNIT);

    expect(s.get('Type')).toEqual(['oneshot']);
    expect(s.get('ExecStart')).toEqual([ENROLL_BIN]);
    expect(s.get('ConditionPathExists')).toEqual([
      '!/etc/ipa/default.conf',
      '/etc/pki/consumer/cert.pem',
    ]);
    expect(s.get('Wants')).toEqual(['network-online.target']);
    expect(s.get('After')?.[0]?.split(' ')).toContain('network-online.target');
    expect(s.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('when the enroll unit keeps failing then it retries, but not for exit codes 2 and 3, and stops within its start limit', async (ctx) => {
    needs(ctx, 'systemd-analyze', 'systemd');
    const s = await unitSettings(ENROLL_UNIT);
    const one = (key: string): string => {
      const values = s.get(key);
      expect(values, key).toHaveLength(1);
      return values![0]!;
    };

    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus').split(' ')).toEqual(['2', '3']);
    const attempt = (await seconds(one('TimeoutStartSec'))) + (await seconds(one('RestartSec')));
    const burst = Number(one('StartLimitBurst'));
    const interval = await seconds(one('StartLimitIntervalSec'));

    // Each attempt is bounded by its timeout, so `burst` attempts fall inside one interval and
    // the next start is refused; a shorter interval would let the counter reset and retry
    // forever.
    expect(burst).toBeGreaterThanOrEqual(2);
    expect(burst * attempt).toBeLessThan(interval);
  });
});

describe('the client preset', () => {
  it('when applied in a root whose other presets disable everything then only the enroll unit is enabled', async (ctx) => {
    needs(ctx, 'systemctl', 'systemd');
    const root = await unitRoot();
    const presetDir = join(root, 'usr/lib/systemd/system-preset');
    await mkdir(presetDir, { recursive: true });
    await cp(
      shipped('80-ipa-hcc-ts-client.preset'),
      join(presetDir, '80-ipa-hcc-ts-client.preset'),
    );
    // Fedora's and RHEL's last word; without it systemd enables whatever no preset names.
    await writeFile(join(presetDir, '99-default-disable.preset'), 'disable *\n');

    const r = await run('systemctl', [`--root=${root}`, 'preset', ENROLL_UNIT, DAEMON_UNIT]);

    expect(r.code, r.out).toBe(0);
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants');
    expect((await lstat(join(wants, ENROLL_UNIT))).isSymbolicLink()).toBe(true);
    expect(existsSync(join(wants, DAEMON_UNIT))).toBe(false);
  });
});

describe('the system user and the state directory', () => {
  async function createUser(root: string): Promise<string[]> {
    await mkdir(join(root, 'etc'));
    const r = await run('systemd-sysusers', [`--root=${root}`, shipped('ipa-hcc-ts.sysusers')]);
    expect(r.code, r.out).toBe(0);
    const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
    return passwd.trim().split(':');
  }

  it('when sysusers runs in a scratch root then it creates the system user and group ipa-hcc-ts with no login', async (ctx) => {
    needs(ctx, 'systemd-sysusers', 'systemd');
    const root = await scratchRoot();

    const [name, , uid, gid, , home, shell] = await createUser(root);

    expect([name, home, shell]).toEqual(['ipa-hcc-ts', '/var/lib/ipa-hcc-ts', '/usr/sbin/nologin']);
    expect(Number(uid)).toBeLessThan(1000);
    const group = (await readFile(join(root, 'etc/group'), 'utf8')).trim();
    expect(group).toBe(`ipa-hcc-ts:x:${gid}:`);
  });

  it('when tmpfiles runs after it then the state and key directories are 0700 and owned by that user', async (ctx) => {
    needs(ctx, 'systemd-sysusers', 'systemd');
    needs(ctx, 'systemd-tmpfiles', 'systemd');
    const root = await scratchRoot();
    const [, , uid, gid] = await createUser(root);

    const r = await run('systemd-tmpfiles', [
      `--root=${root}`,
      '--create',
      shipped('ipa-hcc-ts.tmpfiles'),
    ]);

    expect(r).toEqual({ code: 0, out: '' });
    for (const dir of ['var/lib/ipa-hcc-ts', 'var/lib/ipa-hcc-ts/keys']) {
      const st = await lstat(join(root, dir));
      expect([st.isDirectory(), st.mode & 0o7777, st.uid, st.gid], dir).toEqual([
        true,
        0o700,
        Number(uid),
        Number(gid),
      ]);
    }
  });
});

describe('the firewalld service', () => {
  it('when read then it opens TCP 9443 and nothing else', async () => {
    const xml = await readFile(shipped('ipa-hcc-ts.xml'), 'utf8');

    const ports = [...xml.matchAll(/<port\s+protocol="(\w+)"\s+port="(\d+)"\s*\/>/g)].map(
      (m) => `${m[2]}/${m[1]}`,
    );

    expect(ports).toEqual(['9443/tcp']);
    expect(xml).not.toMatch(/<(source-port|protocol|module|helper|destination)\b/);
  });

  it('when checked by xmllint then it is well-formed XML with a service root', async (ctx) => {
    needs(ctx, 'xmllint', 'libxml2-utils');

    const r = await run('xmllint', ['--xpath', 'name(/*)', shipped('ipa-hcc-ts.xml')]);

    expect(r).toEqual({ code: 0, out: 'service' });
  });
});
