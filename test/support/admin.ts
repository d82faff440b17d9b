// Runs the admin command in-process against the test directory, with its own IPA and
// ipa-hcc-ts configuration directories, and gives tests a Directory Manager connection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { main } from '../../cli/main.js';
import type { Io } from '../../cli/io.js';
import { simpleBind, externalBind } from '../../ipa-plugin/ldap/bind.js';
import { Directory, type DirectoryOptions } from '../../ipa-plugin/ldap/directory.js';
import { layout } from '../../ipa-plugin/layout.js';
import { directory, writeIpaDefaultConf } from '../harness/directory.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface AdminEnv {
  ipaConfDir: string;
  confDir: string;
  keyDir: string;
  /** Runs `ipa-hcc-ts <args>` in-process; `answer` is what the confirmation prompt receives. */
  cli(args: string[], opts?: { answer?: string; root?: boolean }): Promise<CliRun>;
  /** Runs `ipa-hcc-ts <args>` as a separate process, as an admin would. */
  spawn(args: string[]): Promise<CliRun>;
  /** Connection flags pointing the admin command at the test directory. */
  connectionArgs: string[];
  /** A Directory Manager connection for assertions. */
  dm: Directory;
  layout: ReturnType<typeof layout>;
  cleanup(): Promise<void>;
}

/** The user that owns private keys in tests: exists on every Debian system. */
export const TEST_DAEMON_USER = 'daemon';

/** Connection flags for the admin command: LDAPI autobind on 389-ds, DM simple bind otherwise. */
export function connectionArgs(): string[] {
  const d = directory();
  if (d.ldapiSocket) {
    return ['--ldap-uri', `ldapi://${encodeURIComponent(d.ldapiSocket)}`];
  }

  return [
    '--ldap-uri',
    d.ldapUrl,
    '-D',
    d.bindDn,
    '-y',
    d.bindPasswordFile,
    ...(d.caCertFile ? ['--ca-cert', d.caCertFile] : []),
  ];
}

/** Options for a Directory Manager connection to the test directory. */
export function dmOptions(): DirectoryOptions {
  const d = directory();
  if (d.ldapiSocket) {
    return { url: `ldapi://${encodeURIComponent(d.ldapiSocket)}`, bind: externalBind() };
  }

  return {
    url: d.ldapUrl,
    bind: simpleBind(d.bindDn, d.bindPasswordFile),
    ...(d.caCertFile ? { caFile: d.caCertFile } : {}),
    ...(d.tlsServerName ? { tlsServerName: d.tlsServerName } : {}),
  };
}

/** Creates configuration directories for the admin command and a DM connection. */
export async function adminEnv(settings: Record<string, string> = {}): Promise<AdminEnv> {
  const root = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-admin-'));
  const ipaConfDir = join(root, 'ipa');
  const confDir = join(root, 'ipa-hcc-ts');
  const keyDir = join(root, 'keys');
  await writeIpaDefaultConf(ipaConfDir);
  await writeSettings(confDir, { key_dir: keyDir, daemon_user: TEST_DAEMON_USER, ...settings });
  const dm = new Directory(dmOptions());
  const args = connectionArgs();
  return {
    ipaConfDir,
    confDir,
    keyDir,
    connectionArgs: args,
    dm,
    layout: layout(directory().suffix),
    cli: (cliArgs, opts = {}) => runCli([...args, ...cliArgs], { ipaConfDir, confDir }, opts),
    spawn: (cliArgs) => spawnCli([...args, ...cliArgs], { ipaConfDir, confDir }),
    cleanup: async () => {
      await dm.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Writes ipa-hcc-ts.conf with the given [global] settings. */
export async function writeSettings(
  confDir: string,
  settings: Record<string, string>,
): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(confDir, { recursive: true });
  const body = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  await writeFile(join(confDir, 'ipa-hcc-ts.conf'), ['[global]', ...body, ''].join('\n'));
}

/** Runs the CLI as its own process with the given configuration directories. */
export async function spawnCli(
  args: string[],
  dirs: { ipaConfDir: string; confDir: string },
): Promise<CliRun> {
  const proc = await execa('node', ['--import', 'tsx', 'cli/ipa-hcc-ts.ts', ...args], {
    env: { IPA_CONFDIR: dirs.ipaConfDir, IPA_HCC_TS_CONFDIR: dirs.confDir },
    reject: false,
    stdin: 'ignore',
  });
  return { code: proc.exitCode ?? -1, out: proc.stdout, err: proc.stderr };
}

/** Runs the CLI's main() with captured output and the given configuration directories. */
export async function runCli(
  args: string[],
  dirs: { ipaConfDir: string; confDir: string },
  opts: { answer?: string; root?: boolean } = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    confirm: (q) => {
      out.push(q);
      return Promise.resolve(/^y(es)?$/i.test(opts.answer ?? ''));
    },
    isRoot: () => opts.root ?? true,
  };
  const saved = { ipa: process.env.IPA_CONFDIR, own: process.env.IPA_HCC_TS_CONFDIR };
  process.env.IPA_CONFDIR = dirs.ipaConfDir;
  process.env.IPA_HCC_TS_CONFDIR = dirs.confDir;
  try {
    const code = await main(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    restoreEnv('IPA_CONFDIR', saved.ipa);
    restoreEnv('IPA_HCC_TS_CONFDIR', saved.own);
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) {
    delete process.env[name];
  } else {
    process.env[name] = value;
  }
}
