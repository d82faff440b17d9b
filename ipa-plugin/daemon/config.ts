// Settings of the enrollment daemon: section [daemon] of /etc/ipa-hcc-ts/ipa-hcc-ts.conf, next to
// the [global] settings the admin command uses. Every key is optional; defaults below.
import { readOptionalFile } from '../../common/files.js';
import { join } from 'node:path';
import { parseIni } from '../../common/ini.js';
import { SETTINGS_FILE, serverConfDir } from '../settings.js';

export interface DaemonConfig {
  /** Address to listen on ("::" listens on every IPv6 and IPv4 address). */
  listenAddress: string;
  port: number;
  /** PEM certificate (with chain) and key the daemon presents to clients. */
  tlsCert: string;
  tlsKey: string;
  /** Directory of PEM CA certificates client certificates must chain to. */
  clientCaDir: string;
  /** The IPA CA bundle handed to clients (cabundle, kdc_cabundle). */
  ipaCaFile: string;
  /** Directory the daemon connects to (default: IPA's own, from default.conf). */
  ldapUri: string | undefined;
  /** Most connections open at once; more are refused at accept. */
  maxConnections: number;
  /** Most connections open at once from one address, so one client cannot take every slot. */
  maxConnectionsPerAddress: number;
  /** Requests per minute allowed from one certificate subject, and from one address. */
  rateLimitPerSubject: number;
  rateLimitPerAddress: number;
  /** Time allowed for the request headers, and for a whole request, in milliseconds. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Idle time after which a kept-alive connection is closed, in milliseconds. */
  idleTimeoutMs: number;
}

export const DAEMON_DEFAULTS: Record<string, string> = {
  listen_address: '::',
  port: '9443',
  tls_cert: '/etc/ipa-hcc-ts/tls/server.crt',
  tls_key: '/etc/ipa-hcc-ts/tls/server.key',
  client_ca_dir: '/etc/ipa-hcc-ts/client-ca',
  ipa_ca_file: '/etc/ipa/ca.crt',
  max_connections: '256',
  max_connections_per_address: '32',
  rate_limit_per_subject: '10',
  rate_limit_per_address: '60',
  headers_timeout_ms: '5000',
  request_timeout_ms: '15000',
  idle_timeout_ms: '10000',
};

/** A setting that cannot be used, naming the file, key and value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the [daemon] section; a missing file means all defaults. */
export async function readDaemonConfig(confDir = serverConfDir()): Promise<DaemonConfig> {
  const path = join(confDir, SETTINGS_FILE);
  const text = await readOptionalFile(path);
  const section = parseIni(text).get('daemon') ?? new Map<string, string>();
  return toConfig((key) => section.get(key)?.trim() || DAEMON_DEFAULTS[key], path, section);
}

function toConfig(
  get: (key: string) => string | undefined,
  path: string,
  section: Map<string, string>,
): DaemonConfig {
  const int = (key: string, min: number, max: number) => integer(get(key), key, path, min, max);
  return {
    listenAddress: get('listen_address')!,
    port: int('port', 1, 65535),
    tlsCert: get('tls_cert')!,
    tlsKey: get('tls_key')!,
    clientCaDir: get('client_ca_dir')!,
    ipaCaFile: get('ipa_ca_file')!,
    ldapUri: section.get('ldap_uri')?.trim() || undefined,
    maxConnections: int('max_connections', 1, 100_000),
    maxConnectionsPerAddress: int('max_connections_per_address', 1, 100_000),
    rateLimitPerSubject: int('rate_limit_per_subject', 1, 100_000),
    rateLimitPerAddress: int('rate_limit_per_address', 1, 1_000_000),
    headersTimeoutMs: int('headers_timeout_ms', 100, 600_000),
    requestTimeoutMs: int('request_timeout_ms', 100, 600_000),
    idleTimeoutMs: int('idle_timeout_ms', 100, 600_000),
  };
}

function integer(
  text: string | undefined,
  key: string,
  path: string,
  min: number,
  max: number,
): number {
  const n = /^\d{1,9}$/.test(text ?? '') ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${path}: [daemon] ${key} must be a whole number from ${min} to ${max}, not "${text}"`,
    );
  }

  return n;
}
