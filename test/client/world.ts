// A machine for client tests in a temporary directory: identity certificate and key, machine
// ids, IPA and client configuration directories, and the fake ipa-client-install behind a
// wrapper script. Runs the client in-process (main) or as its own process, as systemd would.
import { randomUUID } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { main } from '../../client/main.js';
import type { Io } from '../../client/io.js';
import type { Issued } from '../support/certs.js';
import type { FakeInstallRecord } from '../support/fake-ipa-client-install.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../..');
const FAKE_INSTALLER = join(REPO, 'test/support/fake-ipa-client-install.ts');

export interface Run {
  code: number;
  out: string;
  err: string;
  /** Milliseconds the run took. */
  ms: number;
}

export interface RunOptions {
  hostname?: string;
  /** In-process only: the clock, in milliseconds since the epoch. */
  now?: () => number;
  env?: Record<string, string>;
}

export interface SpawnOptions extends RunOptions {
  /** Runs while the client runs; `stderr()` is what it printed there so far. */
  meanwhile?: (stderr: () => string) => Promise<void>;
}

export interface ClientWorld {
  root: string;
  ipaConfDir: string;
  confDir: string;
  confFile: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  machineIdFile: string;
  insightsFile: string;
  installer: string;
  recordFile: string;
  /** Settings every run gets unless a test writes others. */
  baseSettings: Record<string, string>;
  /** Writes the machine's identity certificate and key. */
  setIdentity(issued: Issued): Promise<void>;
  /** Writes client.conf, section [client], over the base settings. */
  writeConfig(settings?: Record<string, string>): Promise<void>;
  /** Runs main() in this process. */
  run(args: string[], opts?: RunOptions): Promise<Run>;
  /** Runs `node --import tsx client/ipa-hcc-ts-enroll.ts` as a process. */
  spawn(args: string[], opts?: SpawnOptions): Promise<Run>;
  /** What the fake installer recorded, if it ran. */
  installRecord(): Promise<FakeInstallRecord | undefined>;
  cleanup(): Promise<void>;
}

export interface WorldOptions {
  caPem: string;
  /** Directory and suffix the fake installer binds to. */
  ldapUrl?: string;
  suffix?: string;
}

/** Creates the machine; nothing runs until run() or spawn(). */
export async function clientWorld(opts: WorldOptions): Promise<ClientWorld> {
  const root = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-client-'));
  const w = paths(root);
  await Promise.all([mkdir(w.ipaConfDir), mkdir(w.confDir)]);
  await writeFile(w.caFile, opts.caPem);
  await writeFile(w.machineIdFile, `${randomUUID().replaceAll('-', '')}\n`);
  await writeFile(
    w.installer,
    `#!/bin/sh\n# test wrapper: runs the fake ipa-client-install\n` +
      `exec node --import tsx ${FAKE_INSTALLER} "$@"\n`,
  );
  await chmod(w.installer, 0o755);
  const baseSettings: Record<string, string> = {
    ca_cert: w.caFile,
    cert: w.certFile,
    key: w.keyFile,
    machine_id: w.machineIdFile,
    insights_machine_id: w.insightsFile,
    installer: w.installer,
    timeout: '5',
    deadline: '10',
  };
  const env = {
    IPA_CONFDIR: w.ipaConfDir,
    IPA_HCC_TS_CONFDIR: w.confDir,
    FAKE_IPA_LDAP_URL: opts.ldapUrl ?? 'ldap://127.0.0.1:1',
    FAKE_IPA_SUFFIX: opts.suffix ?? 'dc=invalid',
    FAKE_IPA_RECORD: w.recordFile,
  };
  const world: ClientWorld = {
    root,
    ...w,
    baseSettings,
    setIdentity: async (issued) => {
      await writeFile(w.certFile, issued.certPem);
      await writeFile(w.keyFile, issued.keyPem, { mode: 0o600 });
    },
    writeConfig: (settings = {}) => writeConfig(w.confFile, { ...baseSettings, ...settings }),
    run: (args, o = {}) => runInProcess(args, { ...env, ...o.env }, o),
    spawn: (args, o = {}) => runProcess(args, { ...env, ...o.env }, o),
    installRecord: async () => {
      const text = await readFile(w.recordFile, 'utf8').catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as FakeInstallRecord);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  await world.writeConfig();
  return world;
}

function paths(root: string) {
  return {
    ipaConfDir: join(root, 'etc-ipa'),
    confDir: join(root, 'etc-ipa-hcc-ts'),
    confFile: join(root, 'etc-ipa-hcc-ts', 'client.conf'),
    caFile: join(root, 'etc-ipa-hcc-ts', 'ipa-ca.crt'),
    certFile: join(root, 'cert.pem'),
    keyFile: join(root, 'key.pem'),
    machineIdFile: join(root, 'machine-id'),
    insightsFile: join(root, 'insights-machine-id'),
    installer: join(root, 'ipa-client-install'),
    recordFile: join(root, 'install-record.json'),
  };
}

async function writeConfig(file: string, settings: Record<string, string>): Promise<void> {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  await writeFile(file, ['# written by a test', '[client]', ...lines, ''].join('\n'));
}

async function runInProcess(
  args: string[],
  env: Record<string, string>,
  opts: RunOptions,
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    hostname: () => opts.hostname ?? 'unnamed',
    now: opts.now ?? (() => Date.now()),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    random: () => Math.random(),
  };
  const started = performance.now();
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - started };
}

async function runProcess(
  args: string[],
  env: Record<string, string>,
  opts: SpawnOptions,
): Promise<Run> {
  const hostname = opts.hostname === undefined ? [] : ['--hostname', opts.hostname];
  const started = performance.now();
  const proc = execa(
    'node',
    ['--import', 'tsx', 'client/ipa-hcc-ts-enroll.ts', ...hostname, ...args],
    {
      cwd: REPO,
      env,
      reject: false,
      stdin: 'ignore',
      timeout: 30_000,
    },
  );
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  await opts.meanwhile?.(() => stderr);
  const r = await proc;
  return {
    code: r.exitCode ?? -1,
    out: r.stdout,
    err: r.stderr,
    ms: performance.now() - started,
  };
}

/** True when the path exists. */
export function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
