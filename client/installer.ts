// The last step: ipa-client-install with the one-time password. It takes the password only on
// its command line, so the client passes it as one argument of a direct exec (no shell), masks
// it everywhere it prints, and keeps the installer's output free of it too.
import { constants } from 'node:fs';
import { access, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnrollError } from './errors.js';
import type { Io } from './io.js';

/** What the password is shown as. */
export const PASSWORD_MASK = '********';

export interface InstallerParams {
  otp: string;
  /** The IPA server that holds the host entry (register's enrollment_server). */
  server: string;
  domain: string;
  realm: string;
  fqdn: string;
  caFile: string;
  /** ipa_client_install_args from host-conf, already checked. */
  extra: readonly string[];
}

/** The installer's arguments, in the order ipa-hcc documented them. */
export function installerArgs(p: InstallerParams): string[] {
  return [
    '--unattended',
    '--password',
    p.otp,
    '--server',
    p.server,
    '--domain',
    p.domain,
    '--realm',
    p.realm,
    '--hostname',
    p.fqdn,
    '--ca-cert-file',
    p.caFile,
    ...p.extra,
  ];
}

/** The command as a shell line, the password replaced by the mask. */
export function displayCommand(installer: string, args: readonly string[]): string {
  const shown = args.map((a, i) => (args[i - 1] === '--password' ? PASSWORD_MASK : quote(a)));
  return [quote(installer), ...shown].join(' ');
}

/** Refuses an installer that is not there or not executable, before any server is asked. */
export async function checkInstaller(installer: string): Promise<void> {
  try {
    await access(installer, constants.X_OK);
  } catch (err) {
    throw new EnrollError(
      'bad-config',
      `The installer ${installer} is missing or not executable.`,
      'Install the IPA client (dnf install ipa-client), or set installer to its path.',
      err,
    );
  }
}

/** Writes the CA bundle for --ca-cert-file; remove() deletes it again. */
export async function writeCaBundle(
  pem: string,
): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ipa-hcc-ts-enroll-'));
  const file = join(dir, 'ca.crt');
  await writeFile(file, pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o644 });
  // mode on create is filtered by the umask; the installer reads it as root either way
  await chmod(file, 0o644);
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs the installer, relaying its output line by line with the password masked. */
export async function runInstaller(
  installer: string,
  args: readonly string[],
  otp: string,
  io: Pick<Io, 'out' | 'err'>,
): Promise<void> {
  const child = execa(installer, args, {
    reject: false,
    stdin: 'ignore',
    buffer: false,
    shell: false,
    verbose: 'none',
  });
  relay(child.stdout, otp, io.out);
  relay(child.stderr, otp, io.err);
  const result = await child;
  if (result.exitCode === 0) {
    return;
  }

  throw installerFailure(installer, result);
}

function installerFailure(
  installer: string,
  result: { exitCode?: number; signal?: string; code?: string },
): EnrollError {
  const retry =
    'The host entry keeps its one-time password until it is used: run ipa-hcc-ts-enroll ' +
    'again for a new one.';
  if (result.exitCode === undefined && result.signal === undefined) {
    return new EnrollError(
      'installer-failed',
      `The installer ${installer} could not be started (${result.code ?? 'error'}).`,
      'Check the installer setting and that the file is executable by root.',
    );
  }

  const how =
    result.signal === undefined
      ? `exited with status ${result.exitCode}`
      : `was stopped by ${result.signal}`;
  return new EnrollError(
    'installer-failed',
    `${installer} ${how}.`,
    `See its messages above and /var/log/ipaclient-install.log. ${retry}`,
  );
}

function relay(
  stream: NodeJS.ReadableStream | null,
  otp: string,
  write: (line: string) => void,
): void {
  let pending = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach((l) => write(l.replaceAll(otp, PASSWORD_MASK)));
  });
  stream?.on('end', () => {
    if (pending !== '') {
      write(pending.replaceAll(otp, PASSWORD_MASK));
    }
  });
}

// POSIX shell quoting, only where needed, so the printed line can be pasted.
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
