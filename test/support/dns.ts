// A real DNS server on loopback for tests: Debian's dnsmasq serving only the records a test
// gives it (no upstream, no /etc/hosts), on a free port. It can be started late, to play the
// resolver that is not up yet at first boot, and is stopped by its pid.
import { Resolver } from 'node:dns/promises';
import { execa, type ResultPromise } from 'execa';
import { freeLoopbackPorts } from '../harness/ports.js';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface SrvEntry {
  /** e.g. _ldap._tcp.ipa.test */
  name: string;
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsRecords {
  srv?: SrvEntry[];
  /** A records: name (and every name below it) to an IPv4 address. */
  addresses?: Array<{ name: string; ip: string }>;
}

export interface TestDns {
  port: number;
  /** The resolver address for dns_servers: 127.0.0.1:<port>. */
  address: string;
  /** Starts dnsmasq and resolves once it answers. */
  start(): Promise<void>;
  /** Stops dnsmasq (by pid) and waits for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

/** The dnsmasq arguments for these records on this port. */
export function dnsmasqArgs(port: number, records: DnsRecords): string[] {
  return [
    '--no-daemon',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    ...(records.srv ?? []).map(
      (s) => `--srv-host=${s.name},${s.target},${s.port},${s.priority},${s.weight}`,
    ),
    ...(records.addresses ?? []).map((a) => `--address=/${a.name}/${a.ip}`),
  ];
}

/** Picks a free port for a DNS server without starting it yet. */
export async function prepareDns(records: DnsRecords): Promise<TestDns> {
  const [port] = (await freeLoopbackPorts(1)) as [number];
  let proc: ResultPromise<{ reject: false; stdin: 'ignore'; all: true }> | undefined;
  return {
    port,
    address: `127.0.0.1:${port}`,
    start: async () => {
      proc = execa(DNSMASQ, dnsmasqArgs(port, records), {
        reject: false,
        stdin: 'ignore',
        all: true,
      });
      await untilAnswering(port, proc);
    },
    stop: async () => {
      if (proc?.pid !== undefined && proc.exitCode === null) {
        process.kill(proc.pid, 'SIGTERM');
      }

      await proc;
    },
  };
}

/** Starts a DNS server with these records now. */
export async function startDns(records: DnsRecords): Promise<TestDns> {
  const dns = await prepareDns(records);
  await dns.start();
  return dns;
}

// Any answer, even "refused" for a name it does not serve, shows dnsmasq is listening.
async function untilAnswering(
  port: number,
  proc: ResultPromise<{ reject: false; stdin: 'ignore'; all: true }>,
): Promise<void> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  for (let i = 0; i < 50; i++) {
    if (proc.exitCode !== null) {
      const r = await proc;
      throw new Error(`dnsmasq exited with ${r.exitCode}: ${r.all}`);
    }

    const code = await resolver.resolve4('probe.invalid').then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    if (code !== 'ECONNREFUSED' && code !== 'ETIMEOUT') {
      return;
    }

    await new Promise((r) => setTimeout(r, 100));
  }

  throw new Error(`dnsmasq did not answer on 127.0.0.1:${port} within 5 s`);
}
