// The directory the tests use, for test files (vitest workers): what it is, reset, restart.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { deleteTracked, track } from './external.js';
import { resetRun, restartRun } from './run.js';

export interface DirectoryInfo {
  kind: '389ds' | 'external';
  ldapUrl: string; // e.g. ldap://127.0.0.1:40123 (external: the given URI)
  ldapsUrl?: string; // ldaps://127.0.0.1:40124 (389ds)
  ldapiSocket?: string; // absolute path of the LDAPI socket (389ds only)
  caCertFile?: string; // CA that signed the server certificate (ldaps / StartTLS)
  tlsServerName?: string; // name to verify the server certificate against ('localhost' for 389ds)
  bindDn: string; // cn=Directory Manager
  bindPasswordFile: string; // file with the password, mode 0600
  suffix: string;
  realm: string;
  domain: string;
  serverFqdn: string;
  runDir?: string; // this run's instance root (389ds)
  trackFile?: string; // external: DNs passed to trackEntry(), deleted by resetDirectory()
}

declare module 'vitest' {
  export interface ProvidedContext {
    directory: DirectoryInfo;
  }
}

// The directory of this test run, as the globalSetup provided it.
export function directory(): DirectoryInfo {
  return inject('directory');
}

// Back to the pristine directory (389-ds: data and cn=config; external: tracked entries deleted).
export async function resetDirectory(): Promise<void> {
  const info = directory();
  if (info.kind === 'external') return deleteTracked(info);
  await resetRun(runDirOf(info));
}

// Graceful restart keeping the data; false if this directory cannot be restarted (external).
export async function restartDirectory(): Promise<boolean> {
  const info = directory();
  if (info.kind === 'external') return false;
  await restartRun(runDirOf(info));
  return true;
}

// Registers an entry a test created, for deletion by resetDirectory() in external mode.
export function trackEntry(dn: string): void {
  const info = directory();
  if (info.kind === 'external') track(info, dn);
}

function runDirOf(info: DirectoryInfo): string {
  if (!info.runDir) throw new Error('389-ds directory info without runDir');
  return info.runDir;
}

// Writes <dir>/default.conf as on this directory's IPA server; returns its path.
export async function writeIpaDefaultConf(
  dir: string,
  overrides: Record<string, string> = {},
): Promise<string> {
  const info = directory();
  // an IPA server's own default.conf points at its LDAPI socket
  const ldapUri = info.ldapiSocket
    ? `ldapi://${encodeURIComponent(info.ldapiSocket)}`
    : info.ldapUrl;
  const settings: Record<string, string> = {
    host: info.serverFqdn,
    basedn: info.suffix,
    realm: info.realm,
    domain: info.domain,
    server: info.serverFqdn,
    xmlrpc_uri: `https://${info.serverFqdn}/ipa/xml`,
    ldap_uri: ldapUri,
    mode: 'production',
    enable_ra: 'True',
    ra_plugin: 'dogtag',
    dogtag_version: '10',
    ...overrides,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${value}`);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'default.conf');
  await writeFile(file, `[global]\n${lines.join('\n')}\n`);
  await chmod(file, 0o644);
  return file;
}
