// Settings of the server side (admin command and daemon) from /etc/ipa-hcc-ts/ipa-hcc-ts.conf.
import { readOptionalFile } from '../common/files.js';
import { join } from 'node:path';
import { parseIni } from '../common/ini.js';

export interface ServerSettings {
  /** Directory of this file and the service password (IPA_HCC_TS_CONFDIR or /etc/ipa-hcc-ts). */
  confDir: string;
  /** Where private signing keys are kept; readable by the daemon's user only. */
  keyDir: string;
  /** System user the daemon runs as; owns the private keys. */
  daemonUser: string;
  /** Lifetime of a new signing key, in days. */
  keyLifetimeDays: number;
  /** Password of the enrollment service principal for simple binds (root-only file). */
  bindPasswordFile: string;
  /** The server's RHSM identity certificate, whose subject O is the organisation id. */
  rhsmCert: string;
}

export const SETTINGS_FILE = 'ipa-hcc-ts.conf';

/** Our configuration directory: $IPA_HCC_TS_CONFDIR if set, else /etc/ipa-hcc-ts. */
export function serverConfDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.IPA_HCC_TS_CONFDIR ?? '/etc/ipa-hcc-ts';
}

/** Reads the settings file; a missing file means all defaults. */
export async function readServerSettings(confDir = serverConfDir()): Promise<ServerSettings> {
  const path = join(confDir, SETTINGS_FILE);
  const text = await readOptionalFile(path);
  const global = parseIni(text).get('global') ?? new Map<string, string>();
  const get = (key: string, fallback: string) => global.get(key)?.trim() || fallback;
  return {
    confDir,
    keyDir: get('key_dir', '/var/lib/ipa-hcc-ts/keys'),
    daemonUser: get('daemon_user', 'ipa-hcc-ts'),
    keyLifetimeDays: positiveInt(get('key_lifetime_days', '90'), 'key_lifetime_days', path),
    bindPasswordFile: get('bind_password_file', join(confDir, 'service.password')),
    rhsmCert: get('rhsm_cert', '/etc/pki/consumer/cert.pem'),
  };
}

function positiveInt(text: string, key: string, path: string): number {
  const n = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 3650)) {
    throw new Error(`${path}: ${key} must be a whole number of days from 1 to 3650, not "${text}"`);
  }

  return n;
}
