// The SELinux policy module in selinux/: it compiles with the reference policy's development
// files, as the RPM build compiles it on the target distribution, and its package carries the
// file contexts of the daemon's files. Nothing is loaded into any running policy.
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULE = 'ipa_hcc_ts';
const DEVEL_MAKEFILE = '/usr/share/selinux/devel/Makefile';
const SOURCES = [`${MODULE}.te`, `${MODULE}.if`, `${MODULE}.fc`];

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, command)));
}

const canBuild = existsSync(DEVEL_MAKEFILE) && onPath('make');
const missing =
  'the policy development files are not installed (Debian package selinux-policy-dev)';

let dir: string;
let build: { code: number; out: string } | undefined;

// One build serves every test: the compiler runs over the whole reference policy's interfaces
// and takes seconds.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-selinux-'));
  if (!canBuild) {
    return;
  }

  for (const file of SOURCES) {
    await cp(join(ROOT, 'selinux', file), join(dir, file));
  }

  const r = await execa('make', ['-f', DEVEL_MAKEFILE, `${MODULE}.pp`], {
    cwd: dir,
    all: true,
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
    timeout: 120_000,
  });
  build = { code: r.exitCode ?? -1, out: r.all ?? '' };
}, 150_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function needsBuild(ctx: TestContext): { code: number; out: string } {
  ctx.skip(!canBuild, missing);
  return build!;
}

describe('the SELinux policy module', () => {
  it('when compiled with the development Makefile then the package is built and nothing is reported', async (ctx) => {
    const r = needsBuild(ctx);

    expect(r.code, r.out).toBe(0);
    expect((await stat(join(dir, `${MODULE}.pp`))).size).toBeGreaterThan(0);
    expect(r.out).not.toMatch(/error|warning|deprecated|undefined|syntax/i);
  });

  it('when unpacked then it labels the daemon, its unit, settings, keys and logs', async (ctx) => {
    const r = needsBuild(ctx);
    ctx.skip(!onPath('semodule_unpackage'), 'semodule_unpackage is missing (semodule-utils)');
    expect(r.code, r.out).toBe(0);

    await execa('semodule_unpackage', [`${MODULE}.pp`, 'module.mod', 'module.fc'], { cwd: dir });

    const contexts = (await readFile(join(dir, 'module.fc'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => line.trim().split(/\s+/));
    expect(contexts.map((c) => [c[0], c.at(-1)])).toEqual([
      ['/usr/libexec/ipa-hcc-ts/ipa-hcc-tsd', 'system_u:object_r:ipa_hcc_ts_exec_t:s0'],
      [
        '/usr/lib/systemd/system/ipa-hcc-tsd\\.service',
        'system_u:object_r:ipa_hcc_ts_unit_file_t:s0',
      ],
      ['/etc/ipa-hcc-ts(/.*)?', 'system_u:object_r:ipa_hcc_ts_conf_t:s0'],
      ['/var/lib/ipa-hcc-ts(/.*)?', 'system_u:object_r:ipa_hcc_ts_var_lib_t:s0'],
      ['/var/log/ipa-hcc-ts(/.*)?', 'system_u:object_r:ipa_hcc_ts_log_t:s0'],
    ]);
  });
});
