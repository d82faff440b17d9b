// ldapts clients for the test directory: over the LDAPI unix socket, or by URL with a password.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { ClientOptions } from 'ldapts';

export interface ConnectTarget {
  ldapUrl: string;
  caCertFile?: string;
  tlsServerName?: string;
  bindDn: string;
  bindPasswordFile: string;
}

// A client that talks LDAP over a unix socket (LDAPI); not connected until its first operation.
export function ldapiClient(socketPath: string, options: Partial<ClientOptions> = {}): Client {
  const client = new Client({ url: 'ldap://localhost', ...options });
  // ldapts 8 refuses ldapi:// URLs and has no socket option, but it connects with
  // net.connect(this.port, this.host), and net.connect treats a non-numeric port as a socket path.
  const internals = client as unknown as { port: unknown; secure: unknown };
  if (typeof internals.port !== 'number' || internals.secure !== false) {
    throw new Error('ldapts internals changed: cannot point the client at an LDAPI socket');
  }
  internals.port = socketPath;
  return client;
}

// Node TLS options that trust the directory's CA and verify the name its certificate carries.
export function tlsOptions(target: Pick<ConnectTarget, 'caCertFile' | 'tlsServerName'>) {
  const options: ConnectionOptions = {};
  if (target.caCertFile) options.ca = readFileSync(target.caCertFile);
  if (target.tlsServerName) options.servername = target.tlsServerName;
  return options;
}

// The bind password from its file (trailing newline ignored).
export function readBindPassword(target: Pick<ConnectTarget, 'bindPasswordFile'>): string {
  return readFileSync(target.bindPasswordFile, 'utf8').replace(/\r?\n$/, '');
}

// A client bound as the configured bind DN (Directory Manager) over target.ldapUrl.
export async function bindClient(target: ConnectTarget, timeoutMs = 30_000): Promise<Client> {
  const secure = target.ldapUrl.startsWith('ldaps:');
  const client = new Client({
    url: target.ldapUrl,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    ...(secure ? { tlsOptions: tlsOptions(target) } : {}),
  });
  try {
    // never send the password in clear text when a CA is known: upgrade with StartTLS
    if (!secure && target.caCertFile) {
      const servername = target.tlsServerName ?? new URL(target.ldapUrl).hostname;
      await client.startTLS({ ...tlsOptions(target), servername });
    }
    await client.bind(target.bindDn, readBindPassword(target));
  } catch (err) {
    await client.unbind().catch(() => undefined);
    throw err;
  }
  return client;
}

// A client bound by SASL EXTERNAL over LDAPI (root maps to cn=Directory Manager).
export async function bindLdapiExternal(socketPath: string, timeoutMs = 30_000): Promise<Client> {
  const client = ldapiClient(socketPath, { timeout: timeoutMs, connectTimeout: timeoutMs });
  try {
    await client.bind('EXTERNAL');
  } catch (err) {
    await client.unbind().catch(() => undefined);
    throw err;
  }
  return client;
}
