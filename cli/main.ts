// The `ipa-hcc-ts` admin command: one program, one exit path.
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { ConnectionFlags } from '../ipa-plugin/admin-context.js';
import { clientConfigCommand } from './commands/client-config.js';
import { installCommand } from './commands/install.js';
import { keysListCommand, keysRevokeCommand, keysRotateCommand } from './commands/keys.js';
import { registerCommand } from './commands/register.js';
import { statusCommand } from './commands/status.js';
import { unregisterCommand } from './commands/unregister.js';
import { ExitCode } from './errors.js';
import { toCliError } from './failure.js';
import type { Io } from './io.js';

// package.json sits one level up in the source tree and two levels up in the built dist/.
const VERSION =
  ['../package.json', '../../package.json']
    .map((rel) => new URL(rel, import.meta.url))
    .filter((url) => existsSync(url))
    .map((url) => (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version)[0] ??
  'unknown';

const DESCRIPTION = `Manage automatic enrollment of new hosts into this IPA domain.

Run as root on an IPA server. The directory is reached over LDAPI with root's
autobind unless --ldap-uri and --bind-dn say otherwise.`;

const EXIT_CODES = `
Exit codes:
  0  success
  1  failure
  2  this machine is not an IPA server, or ipa-hcc-ts is not installed
  3  already done: nothing was changed`;

/** Runs the command line and returns the exit code; never exits the process itself. */
export async function main(argv: string[], io: Io): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return report(io, err);
  }
}

function report(io: Io, err: unknown): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? ExitCode.OK : ExitCode.FAILED;
  }

  const failure = toCliError(err);
  io.err(`ipa-hcc-ts: ERROR: ${failure.message}`);
  io.err(`ipa-hcc-ts: ${failure.hint}`);
  return failure.exitCode;
}

function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('ipa-hcc-ts')
    .description(DESCRIPTION)
    .version(VERSION, '--version', 'show the version and exit')
    .addHelpText('after', EXIT_CODES)
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError('(run "ipa-hcc-ts --help" for usage)')
    .option('--ldap-uri <uri>', "directory to use (default: the IPA server's LDAPI socket)")
    .option('-D, --bind-dn <dn>', 'bind with this DN and a password instead of LDAPI autobind')
    .option('-y, --bind-password-file <file>', 'file holding the password for --bind-dn')
    .option('--ca-cert <file>', 'CA certificate for ldaps:// and StartTLS (e.g. /etc/ipa/ca.crt)')
    .option('--start-tls', 'upgrade an ldap:// connection with StartTLS');

  const flags = (): ConnectionFlags => program.opts<ConnectionFlags>();
  const run = (p: Promise<number>) => p.then(setExit);

  program
    .command('install')
    .summary('prepare the directory for automatic enrollment (safe to repeat)')
    .description(
      'Add what automatic enrollment needs to the directory: schema, containers, the ' +
        'hcc-enrollment host group and its automember rule, indexes, certificate subject ' +
        "uniqueness, the role with its privileges and permissions, and this server's service " +
        'principal. Safe to run again: only what is missing is added.',
    )
    .action(() => run(installCommand(io, flags())));

  program
    .command('register')
    .summary('register this domain for automatic enrollment')
    .description(
      'Register this domain for automatic enrollment: a new domain id, the organisation id, ' +
        "realm domains and enrollment servers, and this server's signing key.",
    )
    .option('--org-id <id>', 'organisation id (default: subject O of the RHSM certificate)')
    .option('--allow-rebuild', 'let an enrolled host enroll again after a rebuild')
    .option('--force', 'register again even if already registered (new domain id)')
    .option('-U, --unattended', 'do not ask for confirmation')
    .action(
      (o: { orgId?: string; allowRebuild?: boolean; force?: boolean; unattended?: boolean }) =>
        run(registerCommand(io, flags(), o)),
    );

  program
    .command('status')
    .summary('show the registration, servers, signing keys and enrolled hosts')
    .description(
      'Show the registration, the servers and their roles, the signing keys and the number ' +
        'of enrolled hosts, and whether the directory is reachable.',
    )
    .option('--json', 'print the same information as JSON')
    .action((o: { json?: boolean }) => run(statusCommand(io, flags(), o.json ?? false)));

  program
    .command('unregister')
    .summary('turn automatic enrollment off and remove the registration')
    .description(
      'Turn automatic enrollment off and remove the registration and the signing keys. ' +
        'Hosts that already enrolled are not changed.',
    )
    .option('-U, --unattended', 'do not ask for confirmation')
    .action((o: { unattended?: boolean }) =>
      run(unregisterCommand(io, flags(), o.unattended ?? false)),
    );

  program
    .command('client-config')
    .summary('print the settings a golden image needs to enroll')
    .description(
      'Print client.conf for ipa-hcc-ts-enroll: the enrollment server URLs, the IPA CA ' +
        'location and the domain. With --output-dir, write client.conf and ipa-ca.crt there. ' +
        'Nothing in them is secret.',
    )
    .option('--output-dir <dir>', 'write client.conf and ipa-ca.crt into this directory')
    .action((o: { outputDir?: string }) => run(clientConfigCommand(io, flags(), o.outputDir)));

  addKeyCommands(program, io, flags, run);
  return program;
}

function addKeyCommands(
  program: Command,
  io: Io,
  flags: () => ConnectionFlags,
  run: (p: Promise<number>) => Promise<void>,
): void {
  const keys = program
    .command('keys')
    .summary('list, rotate or revoke the keys that sign host tokens')
    .description('Manage the keys that sign host tokens.');
  keys
    .command('list')
    .description('List the signing keys of all servers with state and expiry.')
    .addOption(new Option('--json', 'print as JSON'))
    .action((o: { json?: boolean }) => run(keysListCommand(io, flags(), o.json ?? false)));
  keys
    .command('rotate')
    .description(
      "Create a new signing key for this server. The server's previous keys stop signing " +
        'but stay valid for tokens until they expire.',
    )
    .action(() => run(keysRotateCommand(io, flags())));
  keys
    .command('revoke')
    .description('Revoke a signing key: tokens it signed are refused at once.')
    .argument('<kid>', 'key id, as shown by "keys list"')
    // A kid is base64url and may start with "-": take it as the argument, not as an option.
    .allowUnknownOption()
    .action((kid: string) => run(keysRevokeCommand(io, flags(), kid)));
}
