// The client's settings: defaults, then section [client] of client.conf, then command-line
// flags. Every key is checked here, so later phases work with typed, valid values.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { IniError, parseIni } from '../common/ini.js';
import { EnrollError } from './errors.js';
import { DEFAULT_SERVER_PORT, parseServerUrl } from './server-url.js';

export const SETTINGS_SECTION = 'client';

/** Every key of section [client], in the order the README lists them. */
export const SETTING_KEYS = [
  'servers',
  'ca_cert',
  'domain',
  'location',
  'cert',
  'key',
  'server_port',
  'dns_servers',
  'timeout',
  'deadline',
  'installer',
  'insights_machine_id',
  'machine_id',
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

/** Setting values as written, before checking. */
export type RawSettings = Partial<Record<SettingKey, string>>;

export interface ClientSettings {
  /** Server URLs from the flags or the file; empty means "discover through DNS". */
  servers: string[];
  caCert: string;
  domain?: string;
  location?: string;
  cert: string;
  key: string;
  serverPort: number;
  /** Resolvers as `ip`, `ip:port` or `[ipv6]:port`; empty means the system's. */
  dnsServers: string[];
  timeoutMs: number;
  deadlineMs: number;
  installer: string;
  insightsMachineId: string;
  machineId: string;
}

/** A layer of settings and where it came from, for messages. */
export interface SettingsLayer {
  source: string;
  values: RawSettings;
}

/** The directory of client.conf and the IPA CA file; IPA_HCC_TS_CONFDIR relocates it. */
export function confDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.IPA_HCC_TS_CONFDIR || '/etc/ipa-hcc-ts';
}

/** Default value of every key ("" for keys that are unset by default). */
export function settingDefaults(
  env: Readonly<Record<string, string | undefined>>,
): Record<SettingKey, string> {
  return {
    servers: '',
    ca_cert: join(confDir(env), 'ipa-ca.crt'),
    domain: '',
    location: '',
    cert: '/etc/pki/consumer/cert.pem',
    key: '/etc/pki/consumer/key.pem',
    server_port: String(DEFAULT_SERVER_PORT),
    dns_servers: '',
    timeout: '30',
    deadline: '900',
    installer: '/usr/sbin/ipa-client-install',
    insights_machine_id: '/etc/insights-client/machine-id',
    machine_id: '/etc/machine-id',
  };
}

/** Reads client.conf; a missing file is no error unless the user named it. */
export async function readSettingsFile(path: string, named: boolean): Promise<SettingsLayer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) {
      return { source: path, values: {} };
    }

    throw badConfig(`Cannot read the settings file ${path}.`, path, err);
  }

  return { source: path, values: parseSettingsText(text, path) };
}

/** Parses the text of client.conf: section [client], known keys only. */
export function parseSettingsText(text: string, source: string): RawSettings {
  let sections: Map<string, Map<string, string>>;
  try {
    sections = parseIni(text);
  } catch (err) {
    const where = err instanceof IniError ? `line ${err.line}` : 'syntax';
    throw badConfig(`${source}: ${where}: not a valid INI file.`, source, err);
  }

  const values: RawSettings = {};
  for (const [key, value] of sections.get(SETTINGS_SECTION) ?? []) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      throw badConfig(`${source}: unknown key "${key}" in [${SETTINGS_SECTION}].`, source);
    }

    values[key as SettingKey] = value;
  }

  return values;
}

/** Merges the layers over the defaults (later layers win) and checks every value. */
export function resolveSettings(
  layers: SettingsLayer[],
  env: Readonly<Record<string, string | undefined>>,
): ClientSettings {
  const raw = settingDefaults(env);
  const sources = new Map<SettingKey, string>(SETTING_KEYS.map((k) => [k, 'default']));
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values) as Array<[SettingKey, string]>) {
      raw[key] = value.trim();
      sources.set(key, layer.source);
    }
  }

  const check = <T>(key: SettingKey, parse: (v: string) => T): T => {
    try {
      return parse(raw[key]);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const source = sources.get(key) ?? 'default';
      throw badConfig(`${source}: ${key} = "${raw[key]}": ${why}.`, source, err);
    }
  };
  return buildSettings(check);
}

function buildSettings(check: <T>(key: SettingKey, parse: (v: string) => T) => T): ClientSettings {
  const serverPort = check('server_port', port);
  const settings: ClientSettings = {
    servers: check('servers', (v) => list(v).map((u) => parseServerUrl(u, serverPort))),
    caCert: check('ca_cert', path),
    cert: check('cert', path),
    key: check('key', path),
    serverPort,
    dnsServers: check('dns_servers', (v) => list(v).map(resolverAddress)),
    timeoutMs: check('timeout', seconds),
    deadlineMs: check('deadline', seconds),
    installer: check('installer', absolutePath),
    insightsMachineId: check('insights_machine_id', path),
    machineId: check('machine_id', path),
  };
  const domain = check('domain', optional(dnsName));
  const location = check('location', optional(dnsLabel));
  return {
    ...settings,
    ...(domain === undefined ? {} : { domain }),
    ...(location === undefined ? {} : { location }),
  };
}

function badConfig(message: string, source: string, cause?: unknown): EnrollError {
  return new EnrollError(
    'bad-config',
    message,
    `Fix ${source}; client/README.md lists every setting with its form and default.`,
    cause,
  );
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const optional =
  <T>(parse: (v: string) => T) =>
  (v: string): T | undefined =>
    v === '' ? undefined : parse(v);

function path(v: string): string {
  if (v === '') {
    throw new TypeError('a file name is required');
  }

  return v;
}

function absolutePath(v: string): string {
  if (!isAbsolute(v)) {
    throw new TypeError('must be an absolute path');
  }

  return v;
}

function port(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) {
    throw new TypeError('must be a port number from 1 to 65535');
  }

  return n;
}

/** Seconds as a positive decimal number, returned in milliseconds. */
function seconds(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n <= 0) {
    throw new TypeError('must be a positive number of seconds');
  }

  return Math.round(n * 1000);
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function dnsName(v: string): string {
  const name = v.toLowerCase().replace(/\.$/, '');
  if (name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
    throw new TypeError('must be a DNS name such as example.test');
  }

  return name;
}

function dnsLabel(v: string): string {
  const label = v.toLowerCase();
  if (!LABEL.test(label)) {
    throw new TypeError('must be a single DNS label such as dc1');
  }

  return label;
}

/** `ip`, `ip:port` or `[ipv6]:port`, as Resolver.setServers() takes them. */
function resolverAddress(v: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  const v4 = /^([\d.]+)(?::(\d+))?$/.exec(v);
  const [ip, p] = bracketed ? [bracketed[1]!, bracketed[2]] : v4 ? [v4[1]!, v4[2]] : [v, undefined];
  if (isIP(ip) === 0) {
    throw new TypeError('each resolver must be an IP address, ip:port or [ipv6]:port');
  }

  if (p !== undefined) {
    port(p);
  }

  return v;
}
