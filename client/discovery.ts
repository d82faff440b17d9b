// Which enrollment servers to ask, in which order: for host-conf, the configured servers or
// else the domain's LDAP servers from DNS; for register, the servers host-conf named (those of
// the requested location first), then the same list host-conf used.
import type { SrvRecord } from 'node:dns';
import type { Resolver } from 'node:dns/promises';
import type { EnrollmentServer } from '../protocol/messages.js';
import { ldapSrvName, sortSrv } from './dns.js';
import { Retryable } from './retry.js';
import { serverUrl } from './server-url.js';

export interface Discovered {
  servers: string[];
  /** Where the list came from: "settings" (flags or client.conf) or the SRV name asked. */
  source: string;
}

/** The servers for host-conf: the configured ones, else those of the domain's SRV records. */
export async function discoverServers(
  configured: string[],
  domain: string,
  serverPort: number,
  resolver: Pick<Resolver, 'resolveSrv' | 'cancel'>,
  timeoutMs: number,
): Promise<Discovered> {
  if (configured.length > 0) {
    return { servers: configured, source: 'settings' };
  }

  const name = ldapSrvName(domain);
  let records: SrvRecord[];
  // cancel() ends the lookup with ECANCELLED, so a silent resolver cannot outlast the deadline
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  try {
    records = await resolver.resolveSrv(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Retryable(`DNS lookup of ${name} SRV failed (${code})`);
  } finally {
    clearTimeout(timer);
  }

  const servers = srvServers(records, serverPort);
  if (servers.length === 0) {
    throw new Retryable(`DNS has no usable ${name} SRV record`);
  }

  return { servers, source: name };
}

/** Server URLs of SRV records in their order of preference, each once. */
export function srvServers(records: readonly SrvRecord[], serverPort: number): string[] {
  return unique(sortSrv(records).map((r) => serverUrl(r.name, serverPort)));
}

/**
 * The order to try register in: the servers host-conf named, those of `location` first (each
 * group in the order given), then the servers host-conf was asked on; each URL once.
 */
export function registerOrder(
  named: readonly EnrollmentServer[],
  location: string | undefined,
  asked: readonly string[],
  serverPort: number,
): string[] {
  const local = named.filter((s) => location !== undefined && s.location === location);
  const others = named.filter((s) => !local.includes(s));
  const fromAnswer = [...local, ...others].map((s) => serverUrl(s.fqdn, serverPort));
  return unique([...fromAnswer, ...asked]);
}

function unique(urls: string[]): string[] {
  return [...new Set(urls)];
}
