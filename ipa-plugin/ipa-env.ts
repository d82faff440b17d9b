// The IPA server's own settings, read from /etc/ipa/default.conf the way IPA's tools read them.
import { readSmallFile } from '../common/files.js';
import { join } from 'node:path';
import { IniError, parseIni } from '../common/ini.js';

export interface IpaEnv {
  /** Directory of IPA's configuration (IPA_CONFDIR or /etc/ipa). */
  confDir: string;
  /** Base DN of the IPA tree, e.g. dc=ipa,dc=test. */
  basedn: string;
  realm: string;
  domain: string;
  /** This machine's fully qualified name. */
  host: string;
  /** The directory IPA's tools use (ldap_uri), when default.conf names one. */
  ldapUri: string | undefined;
}

/** IPA's configuration directory: $IPA_CONFDIR if set (as IPA's own tools honour), else /etc/ipa. */
export function ipaConfDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.IPA_CONFDIR ?? '/etc/ipa';
}

/** Why IPA's settings could not be used; `missing` means IPA is not configured on this machine. */
export class IpaEnvError extends Error {
  readonly path: string;
  readonly missing: boolean;

  constructor(message: string, path: string, missing: boolean, cause?: unknown) {
    super(message, { cause });
    this.name = 'IpaEnvError';
    this.path = path;
    this.missing = missing;
  }
}

/** Reads and validates default.conf from the given IPA configuration directory. */
export async function readIpaEnv(confDir = ipaConfDir()): Promise<IpaEnv> {
  const path = join(confDir, 'default.conf');
  const text = await readConf(path);
  let global: Map<string, string> | undefined;
  try {
    global = parseIni(text).get('global');
  } catch (err) {
    const detail = err instanceof IniError ? err.message : 'unreadable';
    throw new IpaEnvError(`${path} is not valid: ${detail}`, path, false, err);
  }

  const get = (key: string): string => requireKey(global, key, path);
  const env = { confDir, basedn: get('basedn'), realm: get('realm'), domain: get('domain') };
  const ldapUri = global?.get('ldap_uri')?.trim() || undefined;
  return { ...env, host: get('host').toLowerCase(), domain: env.domain.toLowerCase(), ldapUri };
}

async function readConf(path: string): Promise<string> {
  try {
    return await readSmallFile(path);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const msg = missing ? `${path} does not exist` : `cannot read ${path}`;
    throw new IpaEnvError(msg, path, missing, err);
  }
}

function requireKey(global: Map<string, string> | undefined, key: string, path: string): string {
  const value = global?.get(key)?.trim();
  if (!value) {
    throw new IpaEnvError(`${path} has no "${key}" in its [global] section`, path, false);
  }

  return value;
}

/** The LDAPI socket of the IPA server's directory instance, as IPA names it from the realm. */
export function ldapiUrlForRealm(realm: string): string {
  const socket = `/run/slapd-${realm.replace(/\./g, '-')}.socket`;
  return `ldapi://${encodeURIComponent(socket)}`;
}
