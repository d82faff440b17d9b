// `npm run demo`: the whole product on this machine. An embedded directory (389-ds with
// FreeIPA's schema and tree, as the tests use), `ipa-hcc-ts install` and `register`, the daemon
// as its own user with certificates from a CA made here, a DNS server with the domain's SRV
// records, then several new machines enrolling at once as separate client processes.
import { createRun, destroyRun, restartRun, runInstance } from '../test/harness/run.js';
import { domainSettings } from '../test/harness/settings.js';
import { instancePaths } from '../test/harness/slapd.js';
import { ensureTemplate } from '../test/harness/template.js';
import {
  enrollMachine,
  type EnrollResult,
  startServerSide,
} from '../test/support/enrollment-world.js';

const MACHINES = ['web01', 'web02', 'db01', 'build01'];
const say = (text = '') => process.stdout.write(`${text}\n`);

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say('npm run demo must run as root: the directory server and the admin command need it.');
    return 1;
  }

  const d = domainSettings();
  say(`Starting an embedded directory for ${d.domain} (389-ds with FreeIPA's schema and tree)...`);
  const { run, watchdog } = await createRun(await ensureTemplate(d));
  try {
    const socket = instancePaths(runInstance(run)).socket;
    const facts = {
      ...d,
      adminLdapUri: `ldapi://${encodeURIComponent(socket)}`,
      ldapUrl: `ldap://127.0.0.1:${run.ldapPort}`,
    };
    say('Running ipa-hcc-ts install and register, starting ipa-hcc-tsd and a DNS server...');
    const world = await startServerSide(facts, () => restartRun(run.runDir));
    try {
      say((await world.admin(['status'])).out);
      say(`\nEnrolling ${MACHINES.length} new machines at once (separate client processes)...`);
      const results = await Promise.all(MACHINES.map((m) => enrollMachine(world, m)));
      report(results);
      return results.every((r) => r.code === 0 && r.record?.bind.ok) ? 0 : 1;
    } finally {
      await world.stop();
    }
  } finally {
    await destroyRun(run.runDir);
    watchdog.kill();
    say('Stopped the daemon, the DNS server and the directory; removed their files.');
  }
}

function report(results: EnrollResult[]): void {
  const sample = results.find((r) => r.record);
  if (sample?.record) {
    say('\nEach client ran its installer as (one-time password redacted):');
    say(`  ipa-client-install ${sample.record.argv.join(' ')}`);
    say('No live FreeIPA server runs here, so the real ipa-client-install was NOT run. A stand-in');
    say('did what ipa-join does first: an LDAP simple bind as the new host with its one-time');
    say('password. "OTP bind" below is the result of that bind.');
  }

  say('');
  say(`${'HOST'.padEnd(22)}${'RESULT'.padEnd(12)}${'OTP BIND'.padEnd(10)}TIME`);
  for (const r of results) {
    const result = r.code === 0 ? 'enrolled' : `exit ${r.code}`;
    const bind = r.record?.bind.ok ? 'ok' : 'failed';
    say(`${r.fqdn.padEnd(22)}${result.padEnd(12)}${bind.padEnd(10)}${r.seconds.toFixed(1)} s`);
    if (r.code !== 0) {
      say(`  ${r.err.split('\n').slice(-2).join('\n  ')}`);
    }
  }
}

process.exitCode = await main();
