// Name resolution: SRV records of the domain's LDAP servers, and host addresses through the
// configured resolvers (dns_servers) instead of the system's when there are any.
import type { LookupAddress, LookupOptions, SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

/** How long one query waits for an answer, and how often it is sent. */
const QUERY_TIMEOUT_MS = 2000;
const QUERY_TRIES = 2;

/** A resolver using `servers` (ip, ip:port, [ipv6]:port), or the system's when empty. */
export function createResolver(servers: string[], timeoutMs = QUERY_TIMEOUT_MS): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: QUERY_TRIES });
  if (servers.length > 0) {
    resolver.setServers(servers);
  }

  return resolver;
}

/** The SRV name IPA publishes for its LDAP servers, which are also its enrollment servers. */
export function ldapSrvName(domain: string): string {
  return `_ldap._tcp.${domain}`;
}

/** SRV records by priority (lowest first), then weight (highest first), then name. */
export function sortSrv(records: readonly SrvRecord[]): SrvRecord[] {
  // RFC 2782: a target of "." means the service is decidedly not available.
  return records
    .filter((r) => r.name !== '' && r.name !== '.')
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.name.localeCompare(b.name));
}

/** An address lookup for https requests that asks `resolver` rather than the system. */
export function resolverLookup(resolver: Resolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolveAddresses(resolver, hostname, familyOf(options)).then(
      (addresses) => {
        if (options.all) {
          callback(null, addresses);
        } else {
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/** IPv4 and IPv6 addresses of a name; fails with the resolver's error when there are none. */
export async function resolveAddresses(
  resolver: Resolver,
  hostname: string,
  family: 0 | 4 | 6 = 0,
): Promise<LookupAddress[]> {
  const literal = isIP(hostname);
  if (literal !== 0) {
    return [{ address: hostname, family: literal }];
  }

  const [v4, v6] = await Promise.allSettled([
    family === 6 ? Promise.resolve([]) : resolver.resolve4(hostname),
    family === 4 ? Promise.resolve([]) : resolver.resolve6(hostname),
  ]);
  const addresses = [
    ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
    ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
  ];
  if (addresses.length === 0) {
    throw v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : notFound();
  }

  return addresses;
}

function familyOf(options: LookupOptions): 0 | 4 | 6 {
  const f = options.family;
  return f === 4 || f === 'IPv4' ? 4 : f === 6 || f === 'IPv6' ? 6 : 0;
}

function notFound(): NodeJS.ErrnoException {
  return Object.assign(new Error('no address found'), { code: 'ENOTFOUND' });
}
