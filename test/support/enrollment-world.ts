// The whole product as real processes on this machine: the admin command against a directory,
// the daemon as its own unprivileged user, a DNS server with the domain's SRV records, and new
// machines running the first-boot client. Used by `npm run demo` and the end-to-end test; it
// imports nothing from vitest, so both can drive it.
import { randomUUID } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { lookupUser } from '../../common/users.js';
import { freeLoopbackPorts } from '../harness/ports.js';
import { readableRepo } from './runtime.js';
import { clientCert, issueCertificate, type Issued, makeCa } from './certs.js';
import { startDns, type TestDns } from './dns.js';
import type { FakeInstallRecord } from './fake-ipa-client-install.js';

export interface DomainFacts {
  suffix: string;
  realm: string;
  domain: string;
  serverFqdn: string;
  /** ldapi:// URL root's admin command uses (autobind). */
  adminLdapUri: string;
  /** ldap:// URL on loopback the daemon and the fake installer use. */
  ldapUrl: string;
}

export interface ServerSide {
  facts: DomainFacts;
  orgId: string;
  root: string;
  port: number;
  dns: TestDns;
  clientCa: Issued;
  ipaCa: Issued;
  daemonOutput: () => string;
  admin(args: string[]): Promise<{ code: number; out: string }>;
  stop(): Promise<void>;
}

const REPO = new URL('../../', import.meta.url).pathname;
const DAEMON_USER = 'daemon';
const tsx = (entry: string) => ['--import', 'tsx', join(REPO, entry)];

/** Installs and registers the domain, then starts the daemon and DNS; `restart` restarts the directory. */
export async function startServerSide(
  facts: DomainFacts,
  restart: () => Promise<void>,
): Promise<ServerSide> {
  const root = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-world-'));
  await chmod(root, 0o755);
  const user = (await lookupUser(DAEMON_USER))!;
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const ipaCa = makeCa('Demo IPA CA');
  const clientCa = makeCa('Demo Candlepin CA');
  const orgId = '12345678';
  const dirs = await writeServerConfig(root, facts, port, user, ipaCa);
  const admin = async (args: string[]) => {
    const r = await execa('node', [...tsx('cli/ipa-hcc-ts.ts'), ...args], {
      env: dirs,
      reject: false,
      all: true,
    });
    return { code: r.exitCode ?? -1, out: r.all };
  };
  await mustSucceed(admin, ['install']);
  await restart(); // attribute uniqueness takes effect after a directory restart (ipactl restart)
  await mustSucceed(admin, ['register', '--unattended', '--org-id', orgId]);
  await writeDaemonFiles(root, user, ipaCa, clientCa, facts);
  const daemon = spawnDaemon(root, dirs, user, await readableRepo());
  await untilListening(daemon);
  const dns = await startDns({
    srv: [
      {
        name: `_ldap._tcp.${facts.domain}`,
        target: facts.serverFqdn,
        port: 389,
        priority: 0,
        weight: 100,
      },
    ],
    addresses: [{ name: facts.serverFqdn, ip: '127.0.0.1' }],
  });
  return {
    facts,
    orgId,
    root,
    port,
    dns,
    clientCa,
    ipaCa,
    daemonOutput: () => daemon.output,
    admin,
    stop: async () => {
      await dns.stop();
      daemon.proc.kill('SIGTERM');
      await daemon.proc;
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function mustSucceed(admin: ServerSide['admin'], args: string[]): Promise<void> {
  const r = await admin(args);
  if (r.code !== 0) {
    throw new Error(`ipa-hcc-ts ${args.join(' ')} failed (${r.code}): ${r.out}`);
  }
}

async function writeServerConfig(
  root: string,
  f: DomainFacts,
  port: number,
  user: { uid: number; gid: number },
  ipaCa: Issued,
): Promise<Record<string, string>> {
  const ipaConfDir = join(root, 'etc-ipa');
  const confDir = join(root, 'etc-ipa-hcc-ts');
  await mkdir(ipaConfDir, { mode: 0o755 });
  await mkdir(confDir, { mode: 0o755 });
  const ipa = [
    `basedn = ${f.suffix}`,
    `realm = ${f.realm}`,
    `domain = ${f.domain}`,
    `server = ${f.serverFqdn}`,
    `host = ${f.serverFqdn}`,
    `ldap_uri = ${f.adminLdapUri}`,
  ];
  await writeFile(join(ipaConfDir, 'default.conf'), `[global]\n${ipa.join('\n')}\n`, {
    mode: 0o644,
  });
  await writeFile(join(root, 'ipa-ca.crt'), ipaCa.certPem, { mode: 0o644 });
  const conf = [
    '[global]',
    `key_dir = ${join(root, 'keys')}`,
    `daemon_user = ${DAEMON_USER}`,
    '[daemon]',
    'listen_address = 127.0.0.1',
    `port = ${port}`,
    `tls_cert = ${join(root, 'tls', 'server.crt')}`,
    `tls_key = ${join(root, 'tls', 'server.key')}`,
    `client_ca_dir = ${join(root, 'client-ca')}`,
    `ipa_ca_file = ${join(root, 'ipa-ca.crt')}`,
    `ldap_uri = ${f.ldapUrl}`,
  ];
  await writeFile(join(confDir, 'ipa-hcc-ts.conf'), `${conf.join('\n')}\n`, { mode: 0o644 });
  void user;
  return { IPA_CONFDIR: ipaConfDir, IPA_HCC_TS_CONFDIR: confDir };
}

async function writeDaemonFiles(
  root: string,
  user: { uid: number; gid: number },
  ipaCa: Issued,
  clientCa: Issued,
  f: DomainFacts,
): Promise<void> {
  const server = issueCertificate({
    subject: [{ shortName: 'CN', value: f.serverFqdn }],
    issuer: ipaCa,
    usage: 'server',
    altNames: { dns: [f.serverFqdn, 'localhost'], ip: ['127.0.0.1'] },
  });
  for (const d of ['tls', 'client-ca', 'credentials']) {
    await mkdir(join(root, d), { mode: 0o755 });
  }

  const owned = async (path: string, text: string, mode: number) => {
    await writeFile(path, text);
    await chown(path, user.uid, user.gid);
    await chmod(path, mode);
  };
  await owned(join(root, 'tls', 'server.crt'), server.certPem, 0o644);
  await owned(join(root, 'tls', 'server.key'), server.keyPem, 0o600);
  await owned(join(root, 'client-ca', 'candlepin.pem'), clientCa.certPem, 0o644);
  // What systemd's LoadCredential= hands the daemon: the service password, readable by it only.
  await chown(join(root, 'credentials'), user.uid, user.gid);
  await chmod(join(root, 'credentials'), 0o700);
  const password = join(root, 'credentials', 'bind-password');
  await copyFile(join(root, 'etc-ipa-hcc-ts', 'service.password'), password);
  await chown(password, user.uid, user.gid);
  await chmod(password, 0o400);
}

interface Daemon {
  proc: ResultPromise<{ all: true; reject: false }>;
  output: string;
}

function spawnDaemon(
  root: string,
  dirs: Record<string, string>,
  user: { uid: number; gid: number },
  repo: string,
): Daemon {
  const proc = execa('node', ['--import', 'tsx', join(repo, 'ipa-plugin/daemon/ipa-hcc-tsd.ts')], {
    uid: user.uid,
    gid: user.gid,
    all: true,
    reject: false,
    cwd: repo,
    env: { ...dirs, CREDENTIALS_DIRECTORY: join(root, 'credentials'), HOME: root },
  });
  const daemon: Daemon = { proc, output: '' };
  proc.all.on('data', (chunk: Buffer) => {
    daemon.output += chunk.toString('utf8');
  });
  return daemon;
}

async function untilListening(d: Daemon): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (d.output.includes('"msg":"listening"')) {
      return;
    }

    if (d.proc.exitCode !== null) {
      break;
    }

    await new Promise((r) => setTimeout(r, 100));
  }

  throw new Error(`the daemon did not start: ${d.output}`);
}

export interface EnrollResult {
  fqdn: string;
  code: number;
  out: string;
  err: string;
  seconds: number;
  record: FakeInstallRecord | undefined;
}

/** A new machine: its RHSM-style certificate, machine id and client.conf, then first boot. */
export async function enrollMachine(world: ServerSide, name: string): Promise<EnrollResult> {
  const f = world.facts;
  const fqdn = `${name}.${f.domain}`;
  const dir = join(world.root, 'machines', name);
  await mkdir(join(dir, 'etc-ipa'), { recursive: true });
  const cert = clientCert(world.clientCa, world.orgId, randomUUID());
  await writeFile(join(dir, 'cert.pem'), cert.certPem);
  await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'machine-id'), `${randomUUID().replace(/-/g, '')}\n`);
  await writeFile(join(dir, 'ipa-ca.crt'), world.ipaCa.certPem);
  await writeInstaller(dir);
  const settings = {
    ca_cert: join(dir, 'ipa-ca.crt'),
    domain: f.domain,
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    server_port: String(world.port),
    dns_servers: world.dns.address,
    installer: join(dir, 'ipa-client-install'),
    machine_id: join(dir, 'machine-id'),
    insights_machine_id: join(dir, 'no-insights-id'),
    deadline: '120',
  };
  await writeFile(
    join(dir, 'client.conf'),
    `[client]\n${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  const started = performance.now();
  const run = await execa(
    'node',
    [
      ...tsx('client/ipa-hcc-ts-enroll.ts'),
      '--config',
      join(dir, 'client.conf'),
      '--hostname',
      fqdn,
    ],
    {
      reject: false,
      cwd: REPO,
      env: {
        IPA_CONFDIR: join(dir, 'etc-ipa'),
        FAKE_IPA_LDAP_URL: f.ldapUrl,
        FAKE_IPA_SUFFIX: f.suffix,
        FAKE_IPA_RECORD: join(dir, 'install-record.json'),
      },
    },
  );
  const record = await readFile(join(dir, 'install-record.json'), 'utf8').then(
    (t) => JSON.parse(t) as FakeInstallRecord,
    () => undefined,
  );
  const seconds = (performance.now() - started) / 1000;
  return { fqdn, code: run.exitCode ?? -1, out: run.stdout, err: run.stderr, seconds, record };
}

// TEST STAND-IN for ipa-client-install (which needs a live FreeIPA server): the wrapper runs
// test/support/fake-ipa-client-install.ts, which does what ipa-join does first with the OTP.
async function writeInstaller(dir: string): Promise<void> {
  const script = join(dir, 'ipa-client-install');
  const fake = join(REPO, 'test/support/fake-ipa-client-install.ts');
  await writeFile(
    script,
    `#!/bin/sh\n# stand-in for ipa-client-install (no live FreeIPA here)\nexec node --import tsx ${fake} "$@"\n`,
  );
  await chmod(script, 0o755);
}
