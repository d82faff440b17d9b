// `npm run demo`: the admin side of the product on this machine, against an embedded directory
// (a throwaway 389-ds with FreeIPA's schema and tree, the same one the tests use).
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createRun, destroyRun, runInstance, runPaths } from '../test/harness/run.js';
import { domainSettings } from '../test/harness/settings.js';
import { instancePaths } from '../test/harness/slapd.js';
import { ensureTemplate } from '../test/harness/template.js';

const say = (text: string) => process.stdout.write(`${text}\n`);

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say('npm run demo must run as root: the admin command and the directory server need it.');
    return 1;
  }

  const domain = domainSettings();
  say(`Starting an embedded directory for ${domain.domain} (389-ds with FreeIPA's schema)...`);
  const { run, watchdog } = await createRun(await ensureTemplate(domain));
  const scratch = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-demo-'));
  try {
    const socket = instancePaths(runInstance(run)).socket;
    const env = await writeConfig(scratch, domain, socket);
    say(`Directory up: ldap://127.0.0.1:${run.ldapPort} and LDAPI ${socket}\n`);
    for (const args of STEPS) {
      await step(args, env);
    }

    say(`The CA of the embedded directory is ${runPaths(run.runDir).caCert}.`);
    return 0;
  } finally {
    await destroyRun(run.runDir);
    watchdog.kill();
    await rm(scratch, { recursive: true, force: true });
    say('Embedded directory stopped and removed.');
  }
}

const STEPS: string[][] = [
  ['install'],
  ['install'],
  ['register', '--unattended', '--org-id', '12345678'],
  ['status'],
  ['keys', 'rotate'],
  ['keys', 'list'],
];

async function writeConfig(
  dir: string,
  d: ReturnType<typeof domainSettings>,
  socket: string,
): Promise<Record<string, string>> {
  const ipa = join(dir, 'ipa');
  const own = join(dir, 'ipa-hcc-ts');
  await mkdir(ipa, { recursive: true });
  await mkdir(own, { recursive: true });
  await writeFile(
    join(ipa, 'default.conf'),
    [
      '[global]',
      `basedn = ${d.suffix}`,
      `realm = ${d.realm}`,
      `domain = ${d.domain}`,
      `server = ${d.serverFqdn}`,
      `host = ${d.serverFqdn}`,
      `ldap_uri = ldapi://${encodeURIComponent(socket)}`,
      '',
    ].join('\n'),
  );
  // The demo has no ipa-hcc-ts system user (the server package creates it): the stock "daemon"
  // user owns the private keys instead.
  await writeFile(
    join(own, 'ipa-hcc-ts.conf'),
    `[global]\nkey_dir = ${join(dir, 'keys')}\ndaemon_user = daemon\n`,
  );
  return { IPA_CONFDIR: ipa, IPA_HCC_TS_CONFDIR: own };
}

async function step(args: string[], env: Record<string, string>): Promise<void> {
  say(`# ipa-hcc-ts ${args.join(' ')}`);
  const proc = await execa('node', ['--import', 'tsx', 'cli/ipa-hcc-ts.ts', ...args], {
    env,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  say(proc.all ?? '');
  say(`(exit code ${proc.exitCode})\n`);
  if (proc.exitCode !== 0) {
    throw new Error(`ipa-hcc-ts ${args.join(' ')} failed`);
  }
}

process.exitCode = await main();
