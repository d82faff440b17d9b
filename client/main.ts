// The `ipa-hcc-ts-enroll` command: one program, one exit path; main() returns the exit code.
import { Command, CommanderError } from 'commander';
import { enroll, type EnrollFlags } from './enroll.js';
import { ExitCode, toEnrollError } from './errors.js';
import { type Io, PROGRAM } from './io.js';
import type { RawSettings } from './settings.js';

const DESCRIPTION = `Enroll this machine into its FreeIPA domain, once, at first boot.

Asks an enrollment server (ipa-hcc-tsd) for the domain's configuration and a host
token over mutual TLS with the machine's identity certificate, registers the host,
then runs ipa-client-install with the one-time password it receives. Settings come
from /etc/ipa-hcc-ts/client.conf, section [client]; every flag below overrides the
key of the same name.`;

const EXIT_CODES = `
Exit codes:
  0  enrolled, or already an IPA client
  1  unexpected failure
  2  bad configuration or precondition (host name, certificate, clock)
  3  refused by the enrollment server
  4  no enrollment server reachable before the deadline
  5  ipa-client-install failed`;

interface Options {
  config?: string;
  server: string[];
  caCert?: string;
  domain?: string;
  location?: string;
  cert?: string;
  key?: string;
  serverPort?: string;
  dnsServer: string[];
  timeout?: string;
  deadline?: string;
  installer?: string;
  insightsMachineId?: string;
  machineId?: string;
  hostname?: string;
  force?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
}

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
    return err.exitCode === 0 ? ExitCode.OK : ExitCode.CONFIG;
  }

  const failure = toEnrollError(err);
  io.err(`${PROGRAM}: ERROR: ${failure.message}`);
  io.err(`${PROGRAM}: ${failure.hint}`);
  return failure.exitCode;
}

function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  return new Command(PROGRAM)
    .description(DESCRIPTION)
    .addHelpText('after', EXIT_CODES)
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError(`(run "${PROGRAM} --help" for usage)`)
    .option('-c, --config <file>', 'settings file (default: /etc/ipa-hcc-ts/client.conf)')
    .option('--server <url>', 'enrollment server https://host[:port]; repeat for more', collect, [])
    .option('--ca-cert <file>', 'IPA CA certificate the servers chain to (key ca_cert)')
    .option('--domain <name>', "IPA domain (default: the host name's domain part)")
    .option('--location <name>', 'IPA location: its servers are tried first')
    .option('--cert <file>', 'identity certificate (default: /etc/pki/consumer/cert.pem)')
    .option('--key <file>', 'its private key (default: /etc/pki/consumer/key.pem)')
    .option('--server-port <port>', 'port of servers found in DNS (default: 9443)')
    .option('--dns-server <address>', 'resolver ip or ip:port to use; repeat for more', collect, [])
    .option('--timeout <seconds>', 'time allowed for one request (default: 30)')
    .option(
      '--deadline <seconds>',
      'time allowed for finding a server, with retries (default: 900)',
    )
    .option(
      '--installer <path>',
      'ipa-client-install to run (default: /usr/sbin/ipa-client-install)',
    )
    .option('--insights-machine-id <file>', 'Insights machine id file (an inventory id source)')
    .option('--machine-id <file>', "systemd's machine id file (the other inventory id source)")
    .option('--hostname <fqdn>', "this machine's fully qualified name (default: the system's)")
    .option('--force', 'enroll even if /etc/ipa/default.conf exists')
    .option('--dry-run', 'ask host-conf and show the installer command; register nothing')
    .option('-v, --verbose', 'show each phase and its duration on stderr')
    .action(async (o: Options) => {
      setExit(await enroll(toFlags(o), io));
    });
}

function toFlags(o: Options): EnrollFlags {
  const settings: RawSettings = {
    servers: o.server.length > 0 ? o.server.join(',') : undefined,
    ca_cert: o.caCert,
    domain: o.domain,
    location: o.location,
    cert: o.cert,
    key: o.key,
    server_port: o.serverPort,
    dns_servers: o.dnsServer.length > 0 ? o.dnsServer.join(',') : undefined,
    timeout: o.timeout,
    deadline: o.deadline,
    installer: o.installer,
    insights_machine_id: o.insightsMachineId,
    machine_id: o.machineId,
  };
  const given = Object.fromEntries(
    Object.entries(settings).filter(([, v]) => v !== undefined),
  ) as RawSettings;
  return {
    ...(o.config === undefined ? {} : { config: o.config }),
    ...(o.hostname === undefined ? {} : { hostname: o.hostname }),
    settings: given,
    force: o.force ?? false,
    dryRun: o.dryRun ?? false,
    verbose: o.verbose ?? false,
  };
}
