// Every failure of the admin command: its exit code, one line saying what failed, one line
// saying how to fix it, and no change to the directory.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directory, resetDirectory, writeIpaDefaultConf } from '../harness/directory.js';
import { adminEnv, type AdminEnv, runCli } from '../support/admin.js';
import { readableRepo } from '../support/runtime.js';

let env: AdminEnv;
let scratch: string;

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  scratch = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-errors-'));
});

afterAll(async () => {
  await env.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

function expectTwoLines(err: string): void {
  const lines = err.split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^ipa-hcc-ts: ERROR: /);
  expect(lines[1]).toMatch(/^ipa-hcc-ts: /);
}

describe('admin command failures', () => {
  it('when ipa-hcc-ts is not installed then register exits 2 saying to run install', async () => {
    const run = await env.cli(['register', '-U', '--org-id', '123']);

    expect(run.code).toBe(2);
    expectTwoLines(run.err);
    expect(run.err).toContain('not installed');
    expect(run.err).toContain('ipa-hcc-ts install');
  });

  it('when /etc/ipa/default.conf is missing then it exits 2: IPA is not configured', async () => {
    const run = await runCli(['install'], {
      ipaConfDir: join(scratch, 'none'),
      confDir: env.confDir,
    });

    expect(run.code).toBe(2);
    expectTwoLines(run.err);
    expect(run.err).toContain(
      `IPA is not configured on this system: ${join(scratch, 'none', 'default.conf')} does not exist.`,
    );
  });

  it('when default.conf lacks basedn then it exits 2 naming the missing key', async () => {
    const dir = join(scratch, 'bad-conf');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'default.conf'),
      '[global]\nrealm = IPA.TEST\ndomain = ipa.test\nhost = ipa.ipa.test\n',
    );

    const run = await runCli(['install'], { ipaConfDir: dir, confDir: env.confDir });

    expect(run.code).toBe(2);
    expectTwoLines(run.err);
    expect(run.err).toContain('has no "basedn"');
  });

  it('when this host is not an IPA server then it exits 2', async () => {
    const dir = join(scratch, 'client-conf');
    await writeIpaDefaultConf(dir, { host: `client.${directory().domain}` });

    const run = await runCli([...env.connectionArgs, 'install'], {
      ipaConfDir: dir,
      confDir: env.confDir,
    });

    expect(run.code).toBe(2);
    expectTwoLines(run.err);
    expect(run.err).toContain(`This host (client.${directory().domain}) is not an IPA server`);
  });

  it('when the caller is not root then it exits 1 before touching anything', async () => {
    const run = await env.cli(['install'], { root: false });

    expect(run.code).toBe(1);
    expectTwoLines(run.err);
    expect(run.err).toContain('Must be root to run this command.');
  });

  it('when the directory is unreachable then it exits 1 naming the URL', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));

    const args = [
      '--ldap-uri',
      `ldap://127.0.0.1:${port}`,
      '-D',
      'cn=Directory Manager',
      '-y',
      directory().bindPasswordFile,
    ];
    const dirs = { ipaConfDir: env.ipaConfDir, confDir: env.confDir };
    const run = await runCli([...args, 'status'], dirs);

    expect(run.code).toBe(1);
    expectTwoLines(run.err);
    expect(run.err).toContain(`Cannot reach the directory server at ldap://127.0.0.1:${port}.`);
    const json = await runCli([...args, 'status', '--json'], dirs);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      directory: {
        url: `ldap://127.0.0.1:${port}`,
        reachable: false,
        error: `Cannot reach the directory server at ldap://127.0.0.1:${port}.`,
      },
    });
  });

  it('when the credentials are wrong then it exits 1 and the password appears nowhere', async () => {
    const pw = join(scratch, 'wrong.pw');
    await writeFile(pw, 'Wrong-Password-4711\n');
    await chmod(pw, 0o600);

    const run = await runCli(
      ['--ldap-uri', directory().ldapUrl, '-D', 'cn=Directory Manager', '-y', pw, 'install'],
      {
        ipaConfDir: env.ipaConfDir,
        confDir: env.confDir,
      },
    );

    expect(run.code).toBe(1);
    expectTwoLines(run.err);
    expect(run.err).toContain('The directory refused the credentials.');
    expect(run.err + run.out).not.toContain('Wrong-Password-4711');
  });

  it('when the password file does not exist then it exits 1 naming the file', async () => {
    const run = await runCli(
      [
        '--ldap-uri',
        directory().ldapUrl,
        '-D',
        'cn=Directory Manager',
        '-y',
        join(scratch, 'absent.pw'),
        'install',
      ],
      {
        ipaConfDir: env.ipaConfDir,
        confDir: env.confDir,
      },
    );

    expect(run.code).toBe(1);
    expectTwoLines(run.err);
    expect(run.err).toContain(join(scratch, 'absent.pw'));
  });

  it('when the command is unknown then commander explains and it exits 1', async () => {
    const run = await env.cli(['instal']);

    expect(run.code).toBe(1);
    expect(run.err).toContain("unknown command 'instal'");
  });

  it('when run as a real process by a non-root user then it refuses with exit 1', async () => {
    const { ldapiSocket } = directory();
    const repo = await readableRepo();
    const proc = await execa(
      'node',
      ['--import', 'tsx', join(repo, 'cli/ipa-hcc-ts.ts'), 'status'],
      {
        uid: 65534,
        gid: 65534,
        reject: false,
        env: { IPA_CONFDIR: env.ipaConfDir, HOME: '/tmp' },
        cwd: repo,
      },
    );
    void ldapiSocket;

    expect(proc.exitCode).toBe(1);
    expect(proc.stderr).toContain('ipa-hcc-ts: ERROR: Must be root to run this command.');
  });

  it('when --help is asked for then it exits 0 and lists the subcommands and exit codes', async () => {
    const proc = await execa('node', ['--import', 'tsx', 'cli/ipa-hcc-ts.ts', '--help'], {
      reject: false,
    });

    expect(proc.exitCode).toBe(0);
    for (const sub of ['install', 'register', 'status', 'unregister', 'keys']) {
      expect(proc.stdout).toMatch(new RegExp(`^  ${sub} `, 'm'));
    }

    expect(proc.stdout).toContain('3  already done: nothing was changed');
  });
});
