// TEST STAND-IN for ipa-client-install. NOT the real installer and never shipped.
//
// The real ipa-client-install needs a live FreeIPA server (Kerberos, the enrollment extended
// operation, IPA's API) that the test world does not have. This stand-in takes the same command
// line options the client uses, parses them strictly as the real one's optparse would (an
// unknown or misspelled option is an error), and does the first thing ipa-join does with a
// one-time password: an LDAP simple bind as fqdn=<hostname>,cn=computers,cn=accounts,<suffix>.
//
// Environment (set by the test):
//   FAKE_IPA_LDAP_URL  the directory, e.g. ldap://127.0.0.1:40123
//   FAKE_IPA_SUFFIX    its base DN, e.g. dc=ipa,dc=test
//   FAKE_IPA_RECORD    file to write the JSON record to
//
// The record holds the argv with the password replaced by "********", the parsed options, the
// CA file as the installer found it, the SHA-256 of the password (so a test can look for the
// password in other output without it being written anywhere) and the bind result.
// Exit status: 0 when the bind succeeds, 1 when it fails, 2 for a bad command line.
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Client } from 'ldapts';

const MASK = '********';

export interface FakeInstallRecord {
  argv: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  caCertFile?: { mode: string; pem: string };
  passwordSha256?: string;
  bindDn?: string;
  /** ok: the bind succeeded and Who am I? (RFC 4532) names the host entry. */
  bind: { ok: boolean; whoami?: string; error?: string };
}

const OPTIONS = {
  unattended: { type: 'boolean', short: 'U' },
  password: { type: 'string', short: 'w' },
  server: { type: 'string', multiple: true },
  domain: { type: 'string' },
  realm: { type: 'string' },
  hostname: { type: 'string' },
  'ca-cert-file': { type: 'string', multiple: true },
  mkhomedir: { type: 'boolean' },
  'no-ntp': { type: 'boolean', short: 'N' },
  'ntp-server': { type: 'string', multiple: true },
  force: { type: 'boolean', short: 'f' },
} as const;

/** The argv with the value of --password / -w replaced by the mask. */
function redactArgv(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    const prev = argv[i - 1];
    if (prev === '--password' || prev === '-w') {
      return MASK;
    }

    return a.startsWith('--password=') ? `--password=${MASK}` : a;
  });
}

async function bindAsHost(
  url: string,
  dn: string,
  password: string,
): Promise<FakeInstallRecord['bind']> {
  // An empty password would be an unauthenticated bind (RFC 4513 5.1.2), which proves nothing.
  if (password === '') {
    return { ok: false, error: 'empty password' };
  }

  const client = new Client({ url, timeout: 5000, connectTimeout: 5000 });
  try {
    await client.bind(dn, password);
    const res = await client.exop('1.3.6.1.4.1.4203.1.11.3');
    const whoami = (res.value ?? '').trim().replace(/^dn:\s*/i, '');
    return { ok: whoami.toLowerCase() === dn.toLowerCase(), whoami };
  } catch (err) {
    return { ok: false, error: (err as Error).constructor.name };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

async function caFile(path: string | undefined): Promise<FakeInstallRecord['caCertFile']> {
  if (path === undefined) {
    return undefined;
  }

  const s = await stat(path);
  return { mode: (s.mode & 0o777).toString(8), pem: await readFile(path, 'utf8') };
}

async function run(argv: string[]): Promise<number> {
  const recordFile = process.env.FAKE_IPA_RECORD;
  const url = process.env.FAKE_IPA_LDAP_URL;
  const suffix = process.env.FAKE_IPA_SUFFIX;
  if (!recordFile || !url || !suffix) {
    process.stderr.write('fake-ipa-client-install: FAKE_IPA_* variables are not set\n');
    return 2;
  }

  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    process.stderr.write(`fake-ipa-client-install: error: ${(err as Error).message}\n`);
    return 2;
  }

  const { password, hostname } = values;
  const record: FakeInstallRecord = {
    argv: redactArgv(argv),
    options: { ...values, ...(password === undefined ? {} : { password: MASK }) },
    caCertFile: await caFile(values['ca-cert-file']?.[0]),
    bind: { ok: false, error: 'no --password or --hostname' },
  };
  if (password !== undefined && hostname !== undefined) {
    record.bindDn = `fqdn=${hostname},cn=computers,cn=accounts,${suffix}`;
    record.passwordSha256 = createHash('sha256').update(password).digest('hex');
    record.bind = await bindAsHost(url, record.bindDn, password);
  }

  await writeFile(recordFile, JSON.stringify(record, null, 2));
  process.stdout.write(
    `fake-ipa-client-install: bind as host ${record.bind.ok ? 'ok' : 'failed'}\n`,
  );
  return record.bind.ok ? 0 : 1;
}

process.exitCode = await run(process.argv.slice(2));
