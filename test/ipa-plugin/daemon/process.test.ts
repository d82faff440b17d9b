// The daemon as a real process, as systemd runs it: an unprivileged user, its bind password
// handed over in $CREDENTIALS_DIRECTORY, its own TLS files; then a real host enrollment over the
// network, a clean stop, and no secret anywhere in what it printed.
import { randomUUID } from 'node:crypto';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupUser, type SystemUser } from '../../../common/users.js';
import type { HostConfResponse, RegisterResponse } from '../../../protocol/messages.js';
import { simpleBindWithSecret } from '../../../ipa-plugin/ldap/bind.js';
import { Directory } from '../../../ipa-plugin/ldap/directory.js';
import { directory, resetDirectory, trackEntry } from '../../harness/directory.js';
import { adminEnv, type AdminEnv, TEST_DAEMON_USER, writeSettings } from '../../support/admin.js';
import { call, clientCert, makePki, type TestPki } from '../../support/daemon.js';
import { freeLoopbackPorts } from '../../harness/ports.js';
import { readableRepo } from '../../support/runtime.js';

const ORG = '424242';
let env: AdminEnv;
let pki: TestPki;
let user: SystemUser;
let scratch: string;
let port: number;
let repo: string;

async function ownedFile(path: string, text: string, mode: number): Promise<void> {
  await writeFile(path, text);
  await chown(path, user.uid, user.gid);
  await chmod(path, mode);
}

beforeAll(async () => {
  await resetDirectory();
  env = await adminEnv();
  expect((await env.cli(['install'])).code).toBe(0);
  expect((await env.cli(['register', '-U', '--org-id', ORG])).code).toBe(0);
  user = (await lookupUser(TEST_DAEMON_USER))!;
  repo = await readableRepo();
  pki = makePki();
  scratch = await mkdtemp(join(tmpdir(), 'ipa-hcc-tsd-'));
  await chmod(scratch, 0o755);
  const tls = join(scratch, 'tls');
  const cas = join(scratch, 'client-ca');
  const creds = join(scratch, 'credentials');
  await Promise.all([mkdir(tls), mkdir(cas), mkdir(creds)]);
  await Promise.all([chmod(tls, 0o755), chmod(cas, 0o755), chown(creds, user.uid, user.gid)]);
  await ownedFile(join(tls, 'server.crt'), pki.server.certPem, 0o644);
  await ownedFile(join(tls, 'server.key'), pki.server.keyPem, 0o600);
  await ownedFile(join(cas, 'candlepin.pem'), pki.clientCa.certPem, 0o644);
  await ownedFile(join(scratch, 'ipa-ca.crt'), pki.serverCa.certPem, 0o644);
  await copyFile(join(env.confDir, 'service.password'), join(creds, 'bind-password'));
  await chown(join(creds, 'bind-password'), user.uid, user.gid);
  await chmod(join(creds, 'bind-password'), 0o400);
  [port] = (await freeLoopbackPorts(1)) as [number];
  await writeSettings(env.confDir, { key_dir: env.keyDir, daemon_user: TEST_DAEMON_USER });
  const daemonSection = [
    '[daemon]',
    'listen_address = 127.0.0.1',
    `port = ${port}`,
    `tls_cert = ${join(tls, 'server.crt')}`,
    `tls_key = ${join(tls, 'server.key')}`,
    `client_ca_dir = ${cas}`,
    `ipa_ca_file = ${join(scratch, 'ipa-ca.crt')}`,
    `ldap_uri = ${directory().ldapUrl}`,
  ].join('\n');
  const conf = join(env.confDir, 'ipa-hcc-ts.conf');
  await writeFile(conf, `${await readFile(conf, 'utf8')}\n${daemonSection}\n`);
  await chmod(env.confDir, 0o755);
  await chmod(conf, 0o644);
  await chmod(env.ipaConfDir, 0o755);
  await chmod(join(env.ipaConfDir, '..'), 0o755);
});

afterAll(async () => {
  await env.cli(['unregister', '-U']);
  await env.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

function spawnDaemon(asRoot = false): ResultPromise<{ all: true; reject: false }> {
  const ids = asRoot ? {} : { uid: user.uid, gid: user.gid };
  return execa('node', ['--import', 'tsx', join(repo, 'ipa-plugin/daemon/ipa-hcc-tsd.ts')], {
    ...ids,
    cwd: repo,
    all: true,
    reject: false,
    env: {
      IPA_CONFDIR: env.ipaConfDir,
      IPA_HCC_TS_CONFDIR: env.confDir,
      CREDENTIALS_DIRECTORY: join(scratch, 'credentials'),
      HOME: scratch,
      TSX_TSCONFIG_PATH: 'tsconfig.json',
    },
  });
}

async function untilListening(proc: ResultPromise<{ all: true; reject: false }>): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    proc.all.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('"msg":"listening"')) {
        resolve(output);
      }
    });
    void proc.then((r) => reject(new Error(`daemon exited ${r.exitCode}: ${r.all}`)));
  });
}

describe('ipa-hcc-tsd as a process', () => {
  it('when started by root then it refuses and says how to start it', async () => {
    const run = await spawnDaemon(true);

    expect(run.exitCode).toBe(1);
    expect(run.all).toContain('ipa-hcc-tsd: ERROR: refusing to run as root.');
  });

  it('when run as its user then a host enrolls over the network and nothing secret is printed', async () => {
    const proc = spawnDaemon();
    await untilListening(proc);

    const c = clientCert(pki.clientCa, ORG, randomUUID());
    const inv = randomUUID();
    const fqdn = `proc01.${directory().domain}`;
    trackEntry(env.layout.hostDn(fqdn));
    const conf = await call(port, pki, `/hcc/host-conf/${inv}/${fqdn}`, { body: {}, client: c });
    const token = (conf.body as HostConfResponse).token;
    const { domain_id } = JSON.parse((await env.cli(['status', '--json'])).out) as {
      domain_id: string;
    };
    const reg = await call(port, pki, `/hcc/${inv}/${fqdn}`, {
      body: { domain_type: 'rhel-idm', domain_name: directory().domain, domain_id, token },
      client: c,
    });
    const otp = (reg.body as RegisterResponse).otp;
    const health = await call(port, pki, '/health');
    proc.kill('SIGTERM');
    const result = await proc;

    expect([conf.status, reg.status, health.status]).toEqual([200, 200, 200]);
    const host = new Directory({
      url: directory().ldapUrl,
      bind: simpleBindWithSecret(env.layout.hostDn(fqdn), otp),
    });
    expect(await host.whoami()).toBe(env.layout.hostDn(fqdn));
    await host.close();
    expect(result.exitCode).toBe(0);
    const printed = result.all;
    expect(printed).toContain('"msg":"stopped"');
    expect(
      printed.split('\n').filter((l) => l.includes('"msg":"enrollment decision"')),
    ).toHaveLength(3);
    const password = (await readFile(join(env.confDir, 'service.password'), 'utf8')).trim();
    const keyPem = await readFile(
      join(
        env.keyDir,
        (await readdir(env.keyDir)).find((f) => f.endsWith('.pem'))!,
      ),
      'utf8',
    );
    const signature = (JSON.parse(token) as { signatures: Array<{ signature: string }> })
      .signatures[0]!.signature;
    for (const secret of [otp, token, signature, password, keyPem.split('\n')[1]!]) {
      expect(printed).not.toContain(secret);
    }

    expect(printed).not.toContain('PRIVATE KEY');
  });
});
