// The RPM packaging (rpm/ipa-hcc-ts.spec, scripts/build-rpm.sh), checked with real RPM tools:
// builds the packages and the source RPM once, inspects them, installs them into a scratch
// root, upgrades them there to a rebuilt higher release, and runs rpmlint.
//
// The packages install files from systemd/, selinux/ and man/. While those are not in the
// checkout, this file is skipped (so CI stays green); build-rpm.sh itself fails naming them.
// IPA_HCC_TS_RPM_SOURCE_DIR packages another git checkout instead of this one (for example a
// copy with stand-ins for those files).
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const source = resolve(process.env.IPA_HCC_TS_RPM_SOURCE_DIR ?? repo);
const buildScript = join(repo, 'scripts/build-rpm.sh');
const rpmlintrc = join(repo, 'rpm/ipa-hcc-ts.rpmlintrc');
const version = (
  JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version: string }
).version;

const sentinels = ['systemd/ipa-hcc-tsd.service', 'selinux/ipa_hcc_ts.te', 'man/ipa-hcc-ts.1.scd'];
const absent = sentinels.filter((f) => !existsSync(join(source, f)));
if (absent.length > 0) {
  process.stderr.write(
    `rpm packaging tests skipped: ${absent.join(', ')} not in ${source} yet ` +
      '(the packages install the systemd units, the SELinux module and the man pages)\n',
  );
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? repo,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  }
  return r.stdout;
}

function build(topdir: string, extra: string[] = []): void {
  const r = run('bash', [
    buildScript,
    '--worktree',
    '--source-dir',
    source,
    '--topdir',
    topdir,
    ...extra,
  ]);
  if (r.status !== 0) {
    throw new Error(`scripts/build-rpm.sh failed (${r.status}):\n${r.stderr.slice(-6000)}`);
  }
}

const subpackages = ['common', 'server', 'client', 'selinux'] as const;
type Sub = (typeof subpackages)[number];

function rpmsOf(topdir: string, release: string): Record<Sub, string> {
  const dir = join(topdir, 'RPMS/noarch');
  const out = {} as Record<Sub, string>;
  for (const sub of subpackages) {
    const file = join(dir, `ipa-hcc-ts-${sub}-${version}-${release}.noarch.rpm`);
    if (!existsSync(file)) {
      throw new Error(`not built: ${file} (in ${dir}: ${readdirSync(dir).join(', ')})`);
    }
    out[sub] = file;
  }
  return out;
}

/** path -> "mode user:group flags" from the package header. */
function fileTable(rpm: string): Map<string, { mode: string; owner: string; flags: string }> {
  const text = ok('rpm', [
    '-qp',
    '--queryformat',
    '[%{FILEMODES:perms}\t%{FILEUSERNAME}:%{FILEGROUPNAME}\t%{FILEFLAGS:fflags}\t%{FILENAMES}\n]',
    rpm,
  ]);
  const table = new Map<string, { mode: string; owner: string; flags: string }>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [mode, owner, flags, path] = line.split('\t');
    table.set(path!, { mode: mode!, owner: owner!, flags: flags! });
  }
  return table;
}

function rpmInstall(root: string, mode: '-i' | '-U', files: string[]): void {
  // Scriptlets need a real system (systemd, sysusers, semodule, an IPA server): not here.
  ok('rpm', ['--root', root, '--nodeps', '--noscripts', mode, ...files]);
}

describe.skipIf(absent.length > 0)('RPM packaging', () => {
  let work: string;
  let top1: string;
  let top2: string;
  let v1: Record<Sub, string>;
  let v2: Record<Sub, string>;
  let srpm: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ipa-hcc-ts-rpm-test.'));
    top1 = join(work, 'top1');
    top2 = join(work, 'top2');
    build(top1);
    v1 = rpmsOf(top1, '1');
    srpm = join(top1, `SRPMS/ipa-hcc-ts-${version}-1.src.rpm`);

    // A higher release whose default server configuration changed, to see rpm keep an
    // edited file and put the new default beside it.
    const spec = readFileSync(join(source, 'rpm/ipa-hcc-ts.spec'), 'utf8');
    const changed = spec.replace(
      '\n[daemon]\n',
      '\n[daemon]\n# (a default changed in release 2)\n',
    );
    if (changed === spec) throw new Error('no [daemon] section in the spec to change');
    writeFileSync(join(work, 'release2.spec'), changed);
    // The npm tarballs depend on the lockfile only: reuse them.
    mkdirSync(join(top2, 'SOURCES'), { recursive: true });
    for (const f of readdirSync(join(top1, 'SOURCES'))) {
      if (f.includes('node_modules') || f.includes('build-tools') || f === '.npm-stamp') {
        copyFileSync(join(top1, 'SOURCES', f), join(top2, 'SOURCES', f));
      }
    }
    build(top2, ['--release', '2', '--spec', join(work, 'release2.spec')]);
    v2 = rpmsOf(top2, '2');
  }, 900_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('when the spec is built then four noarch packages and the source RPM exist', () => {
    expect(existsSync(srpm)).toBe(true);
    const srpmFiles = ok('rpm', ['-qlp', srpm]).split('\n');
    expect(srpmFiles).toEqual(
      expect.arrayContaining([
        'ipa-hcc-ts.spec',
        `ipa-hcc-ts-${version}.tar.gz`,
        `ipa-hcc-ts-${version}-node_modules.tar.gz`,
        `ipa-hcc-ts-${version}-build-tools.tar.gz`,
        'ipa-hcc-ts.sysusers',
      ]),
    );
    for (const sub of subpackages) {
      expect(ok('rpm', ['-qp', '--queryformat', '%{ARCH}', v1[sub]])).toBe('noarch');
    }
  });

  it('when the packages are listed then each holds its files', () => {
    const server = ok('rpm', ['-qlp', v1.server]).split('\n');
    expect(server).toEqual(
      expect.arrayContaining([
        '/usr/bin/ipa-hcc-ts',
        '/usr/libexec/ipa-hcc-ts/ipa-hcc-tsd',
        '/usr/lib/systemd/system/ipa-hcc-tsd.service',
        '/usr/lib/sysusers.d/ipa-hcc-ts.conf',
        '/usr/lib/tmpfiles.d/ipa-hcc-ts.conf',
        '/usr/lib/firewalld/services/ipa-hcc-ts.xml',
        '/etc/ipa-hcc-ts/ipa-hcc-ts.conf',
        '/var/lib/ipa-hcc-ts',
        '/var/lib/ipa-hcc-ts/keys',
      ]),
    );
    const client = ok('rpm', ['-qlp', v1.client]).split('\n');
    expect(client).toEqual(
      expect.arrayContaining([
        '/usr/libexec/ipa-hcc-ts/ipa-hcc-ts-enroll',
        '/usr/lib/systemd/system/ipa-hcc-ts-enroll.service',
        '/usr/lib/systemd/system-preset/80-ipa-hcc-ts-client.preset',
        '/etc/ipa-hcc-ts/client.conf',
      ]),
    );
    const common = ok('rpm', ['-qlp', v1.common]).split('\n');
    expect(common).toEqual(
      expect.arrayContaining([
        '/usr/lib/ipa-hcc-ts/package.json',
        '/usr/lib/ipa-hcc-ts/dist/cli/ipa-hcc-ts.js',
        '/usr/lib/ipa-hcc-ts/dist/ipa-plugin/daemon/ipa-hcc-tsd.js',
        '/usr/lib/ipa-hcc-ts/dist/client/ipa-hcc-ts-enroll.js',
        '/usr/lib/ipa-hcc-ts/node_modules/fastify/package.json',
      ]),
    );
    const selinux = ok('rpm', ['-qlp', v1.selinux]).split('\n');
    expect(selinux).toContain('/usr/share/selinux/packages/targeted/ipa_hcc_ts.pp.bz2');

    // Man pages, rendered by scdoc (possibly compressed by the build).
    const pages = [...server, ...client].filter((f) => f.startsWith('/usr/share/man/'));
    for (const page of [
      'man1/ipa-hcc-ts.1',
      'man8/ipa-hcc-tsd.8',
      'man8/ipa-hcc-ts-enroll.8',
      'man5/ipa-hcc-ts.conf.5',
      'man5/ipa-hcc-ts-client.conf.5',
    ]) {
      expect(
        pages.some((p) => p.startsWith(`/usr/share/man/${page}`)),
        page,
      ).toBe(true);
    }
  });

  it("when modes and owners are read then the key directory is the daemon user's, 0700", () => {
    const server = fileTable(v1.server);
    expect(server.get('/var/lib/ipa-hcc-ts')).toMatchObject({
      mode: 'drwx------',
      owner: 'ipa-hcc-ts:ipa-hcc-ts',
    });
    expect(server.get('/var/lib/ipa-hcc-ts/keys')).toMatchObject({
      mode: 'drwx------',
      owner: 'ipa-hcc-ts:ipa-hcc-ts',
    });
    expect(server.get('/etc/ipa-hcc-ts/ipa-hcc-ts.conf')).toMatchObject({
      mode: '-rw-r--r--',
      owner: 'root:root',
    });
    for (const launcher of ['/usr/bin/ipa-hcc-ts', '/usr/libexec/ipa-hcc-ts/ipa-hcc-tsd']) {
      expect(server.get(launcher)).toMatchObject({ mode: '-rwxr-xr-x', owner: 'root:root' });
    }
    expect(fileTable(v1.client).get('/usr/libexec/ipa-hcc-ts/ipa-hcc-ts-enroll')).toMatchObject({
      mode: '-rwxr-xr-x',
      owner: 'root:root',
    });
  });

  it('when config files are queried then both are %config(noreplace)', () => {
    expect(ok('rpm', ['-qcp', v1.server]).trim().split('\n')).toEqual([
      '/etc/ipa-hcc-ts/ipa-hcc-ts.conf',
    ]);
    expect(ok('rpm', ['-qcp', v1.client]).trim().split('\n')).toEqual([
      '/etc/ipa-hcc-ts/client.conf',
    ]);
    expect(fileTable(v1.server).get('/etc/ipa-hcc-ts/ipa-hcc-ts.conf')!.flags).toBe('cn');
    expect(fileTable(v1.client).get('/etc/ipa-hcc-ts/client.conf')!.flags).toBe('cn');
  });

  it('when requirements are queried then server, client and SELinux need what they run on', () => {
    const requires = (rpm: string): string[] => ok('rpm', ['-qp', '--requires', rpm]).split('\n');
    const server = requires(v1.server);
    expect(server).toEqual(
      expect.arrayContaining([
        '(ipa-server or freeipa-server)',
        'nodejs >= 20',
        `ipa-hcc-ts-common = ${version}-1`,
      ]),
    );
    const client = requires(v1.client);
    expect(client).toEqual(
      expect.arrayContaining([
        '(ipa-client or freeipa-client)',
        `ipa-hcc-ts-common = ${version}-1`,
      ]),
    );
    expect(client.some((r) => r.startsWith('nodejs'))).toBe(true);
    const selinuxPost = ok('rpm', [
      '-qp',
      '--queryformat',
      '[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]',
      v1.selinux,
    ]);
    expect(selinuxPost).toMatch(/^policycoreutils post$/m);
    expect(selinuxPost).toMatch(/^selinux-policy-targeted post$/m);
  });

  it('when scriptlets are read then the server installs, restarts and cleans up its daemon', () => {
    const server = ok('rpm', ['-qp', '--scripts', v1.server]);
    const post = server.split(/^(?=\w+ scriptlet)/m).find((s) => s.startsWith('postinstall'))!;
    expect(post).toContain('/etc/ipa/default.conf');
    expect(post).toContain('/usr/bin/ipa-hcc-ts install');
    expect(post).toContain('ipa-hcc-tsd.service');
    expect(server).toMatch(/preinstall scriptlet[\s\S]*ipa-hcc-ts/); // the system user
    expect(server).toMatch(/preuninstall scriptlet[\s\S]*ipa-hcc-tsd\.service/);
    expect(server).toMatch(/postuninstall scriptlet[\s\S]*try-restart[\s\S]*ipa-hcc-tsd\.service/);

    const client = ok('rpm', ['-qp', '--scripts', v1.client]);
    expect(client).toMatch(/postinstall scriptlet[\s\S]*preset[\s\S]*ipa-hcc-ts-enroll\.service/);
    expect(client).not.toContain('try-restart'); // the first-boot unit runs once

    const selinux = ok('rpm', ['-qp', '--scripts', v1.selinux]);
    expect(selinux).toMatch(/postinstall scriptlet[\s\S]*semodule[\s\S]*ipa_hcc_ts\.pp\.bz2/);
    expect(selinux).toMatch(/postuninstall scriptlet[\s\S]*semodule[\s\S]*-r ipa_hcc_ts/);
  });

  it('when the server %post finds no IPA configuration then it skips install and succeeds', () => {
    const server = ok('rpm', ['-qp', '--scripts', v1.server]);
    const post = server.split(/^(?=\w+ scriptlet)/m).find((s) => s.startsWith('postinstall'))!;
    // Not run here: it would touch this machine's systemd. Its guard and its last command are.
    expect(post).toMatch(
      /if \[ -f \/etc\/ipa\/default\.conf \]; then[\s\S]*ipa-hcc-ts install \|\| rc=\$\?/,
    );
    expect(post.trimEnd().split('\n').at(-1)).toBe(':');
  });

  it('when all files are listed then no test, TypeScript, source map or dev tool is shipped', () => {
    const files = subpackages.flatMap((sub) => ok('rpm', ['-qlp', v1[sub]]).split('\n'));
    const app = files.filter((f) => f.startsWith('/usr/lib/ipa-hcc-ts/'));
    expect(app.length).toBeGreaterThan(100);
    expect(files.filter((f) => /\.(ts|mts|cts|map)$/.test(f))).toEqual([]);
    expect(
      app.filter((f) => /^\/usr\/lib\/ipa-hcc-ts\/(test|bench|scripts|dist\/test)\b/.test(f)),
    ).toEqual([]);
    expect(app.filter((f) => /\/node_modules\/[^/]+\/tests?\//.test(f))).toEqual([]);
    expect(app.filter((f) => /\.test\.js$/.test(f))).toEqual([]);
    for (const dev of [
      'vitest',
      'typescript',
      'eslint',
      'prettier',
      'tsx',
      'typescript-eslint',
      '@eslint',
    ]) {
      expect(
        app.filter((f) => f.includes(`/node_modules/${dev}/`)),
        dev,
      ).toEqual([]);
    }
    for (const tool of [
      'tsconfig.json',
      'tsconfig.build.json',
      'eslint.config.js',
      'vitest.config.ts',
    ]) {
      expect(files).not.toContain(`/usr/lib/ipa-hcc-ts/${tool}`);
    }
  });

  it('when package info is read then each package reports its installed size', () => {
    const sizes: Record<string, number> = {};
    for (const sub of subpackages) {
      const info = ok('rpm', ['-qip', v1[sub]]);
      expect(info).toMatch(/^License\s*: GPL-3\.0-or-later$/m);
      sizes[`ipa-hcc-ts-${sub}`] = Number(/^Size\s*: (\d+)$/m.exec(info)![1]);
    }
    process.stderr.write(`installed sizes (bytes): ${JSON.stringify(sizes)}\n`);
    expect(sizes['ipa-hcc-ts-common']).toBeGreaterThan(1_000_000);
    expect(sizes['ipa-hcc-ts-common']).toBeLessThan(40_000_000);
  });

  describe('in a scratch root', () => {
    let root: string;

    beforeAll(() => {
      root = join(work, 'root');
      mkdirSync(root);
      ok('rpm', ['--root', root, '--initdb']);
      rpmInstall(
        root,
        '-i',
        subpackages.map((s) => v1[s]),
      );
    });

    it('when installed then the tree holds the launchers, the app and the state directory', () => {
      expect(readFileSync(join(root, 'usr/bin/ipa-hcc-ts'), 'utf8')).toBe(
        '#!/bin/sh\nexec node /usr/lib/ipa-hcc-ts/dist/cli/ipa-hcc-ts.js "$@"\n',
      );
      expect(readFileSync(join(root, 'usr/libexec/ipa-hcc-ts/ipa-hcc-tsd'), 'utf8')).toContain(
        'exec node /usr/lib/ipa-hcc-ts/dist/ipa-plugin/daemon/ipa-hcc-tsd.js "$@"',
      );
      expect(
        readFileSync(join(root, 'usr/libexec/ipa-hcc-ts/ipa-hcc-ts-enroll'), 'utf8'),
      ).toContain('exec node /usr/lib/ipa-hcc-ts/dist/client/ipa-hcc-ts-enroll.js "$@"');
      for (const f of [
        'usr/lib/systemd/system/ipa-hcc-tsd.service',
        'usr/lib/systemd/system/ipa-hcc-ts-enroll.service',
        'usr/lib/systemd/system-preset/80-ipa-hcc-ts-client.preset',
        'usr/lib/firewalld/services/ipa-hcc-ts.xml',
        'usr/share/selinux/packages/targeted/ipa_hcc_ts.pp.bz2',
        'etc/ipa-hcc-ts/ipa-hcc-ts.conf',
        'etc/ipa-hcc-ts/client.conf',
        'var/lib/ipa-hcc-ts/keys',
      ]) {
        expect(existsSync(join(root, f)), f).toBe(true);
      }
      expect(existsSync(join(root, 'usr/lib/ipa-hcc-ts/node_modules/vitest'))).toBe(false);
      expect(ok('rpm', ['--root', root, '-qa']).trim().split('\n').sort()).toEqual(
        subpackages.map((s) => `ipa-hcc-ts-${s}-${version}-1.noarch`).sort(),
      );
    });

    it('when the installed programs run then they load with the shipped dependencies only', () => {
      const app = join(root, 'usr/lib/ipa-hcc-ts/dist');
      expect(ok('node', [join(app, 'cli/ipa-hcc-ts.js'), '--version']).trim()).toBe(version);
      expect(ok('node', [join(app, 'ipa-plugin/daemon/ipa-hcc-tsd.js'), '--help'])).toContain(
        'Usage: ipa-hcc-tsd',
      );
      expect(ok('node', [join(app, 'client/ipa-hcc-ts-enroll.js'), '--help'])).toContain(
        'ipa-hcc-ts-enroll',
      );
    });

    it('when upgraded to a higher release then the edited config is kept and the new one set beside it', () => {
      const conf = join(root, 'etc/ipa-hcc-ts/ipa-hcc-ts.conf');
      const clientConf = join(root, 'etc/ipa-hcc-ts/client.conf');
      appendFileSync(conf, '\n# edited by the admin\n');
      appendFileSync(clientConf, 'domain = ipa.test\n');
      rpmInstall(
        root,
        '-U',
        subpackages.map((s) => v2[s]),
      );

      expect(ok('rpm', ['--root', root, '-qa']).trim().split('\n').sort()).toEqual(
        subpackages.map((s) => `ipa-hcc-ts-${s}-${version}-2.noarch`).sort(),
      );
      expect(readFileSync(conf, 'utf8')).toContain('# edited by the admin');
      // The default changed in release 2: rpm keeps the admin's file, writes the new .rpmnew.
      expect(readFileSync(`${conf}.rpmnew`, 'utf8')).toContain(
        '# (a default changed in release 2)',
      );
      // The client default did not change: the edited file stays, with no .rpmnew.
      expect(readFileSync(clientConf, 'utf8')).toContain('domain = ipa.test');
      expect(existsSync(`${clientConf}.rpmnew`)).toBe(false);
    });
  });

  it('when rpmlint checks the packages with the project config then it finds no errors', () => {
    const r = run('rpmlint', ['-r', rpmlintrc, ...subpackages.map((s) => v1[s]), srpm]);
    const output = r.stdout + r.stderr;
    const errors = output.split('\n').filter((l) => /: E: /.test(l));
    const warnings = output.split('\n').filter((l) => /: W: /.test(l));
    process.stderr.write(`rpmlint: ${warnings.length} warnings\n${warnings.join('\n')}\n`);
    expect(errors).toEqual([]);
    expect(output).toMatch(/ 0 errors, /);
  });

  it('when a file the spec installs is missing then build-rpm.sh fails naming it', () => {
    const bare = join(work, 'bare');
    mkdirSync(bare);
    ok('git', ['init', '-q', bare]);
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ version }));
    const r = run('bash', [
      buildScript,
      '--worktree',
      '--source-dir',
      bare,
      '--topdir',
      join(work, 'bare-top'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('systemd/ipa-hcc-tsd.service');
    expect(r.stderr).toContain('selinux/ipa_hcc_ts.te');
    expect(r.stderr).toContain('man/ipa-hcc-ts.1.scd');
  });
});
