// Where the test directory comes from and which FreeIPA domain it describes (environment).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DomainSettings {
  suffix: string;
  realm: string;
  domain: string;
  serverFqdn: string;
}

export interface ExternalSettings {
  uri: string;
  bindDn: string;
  bindPasswordFile: string;
  caCertFile?: string;
}

export const DEFAULT_SUFFIX = 'dc=ipa,dc=test';
export const DIRECTORY_MANAGER = 'cn=Directory Manager';

// Absolute path of the project root (two levels above this folder).
export function projectRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

// The DNS domain a suffix such as dc=ipa,dc=test stands for (ipa.test).
export function domainFromSuffix(suffix: string): string {
  const labels = suffix
    .split(',')
    .map((rdn) => rdn.trim().match(/^dc=(.+)$/i)?.[1])
    .filter((label): label is string => label !== undefined);
  return labels.join('.').toLowerCase();
}

// The test domain: IPA_HCC_TEST_{SUFFIX,REALM,DOMAIN,SERVER}, each derived from the one before.
export function domainSettings(env: NodeJS.ProcessEnv = process.env): DomainSettings {
  const suffix = env.IPA_HCC_TEST_SUFFIX || DEFAULT_SUFFIX;
  const domain = env.IPA_HCC_TEST_DOMAIN || domainFromSuffix(suffix) || 'ipa.test';
  const realm = env.IPA_HCC_TEST_REALM || domain.toUpperCase();
  const serverFqdn = env.IPA_HCC_TEST_SERVER || `ipa.${domain}`;
  return { suffix, realm, domain, serverFqdn };
}

// The external directory given by IPA_HCC_TEST_LDAP_URI, or undefined to start a 389-ds.
export function externalSettings(
  env: NodeJS.ProcessEnv = process.env,
): ExternalSettings | undefined {
  const uri = env.IPA_HCC_TEST_LDAP_URI;
  if (!uri) return undefined;
  const bindPasswordFile = env.IPA_HCC_TEST_BIND_PASSWORD_FILE;
  if (!bindPasswordFile) {
    throw new Error('IPA_HCC_TEST_LDAP_URI is set, so IPA_HCC_TEST_BIND_PASSWORD_FILE is required');
  }
  if (!existsSync(bindPasswordFile)) {
    throw new Error(`IPA_HCC_TEST_BIND_PASSWORD_FILE ${bindPasswordFile} does not exist`);
  }
  return {
    uri,
    bindDn: env.IPA_HCC_TEST_BIND_DN || DIRECTORY_MANAGER,
    bindPasswordFile: path.resolve(bindPasswordFile),
    ...(env.IPA_HCC_TEST_CA_CERT ? { caCertFile: path.resolve(env.IPA_HCC_TEST_CA_CERT) } : {}),
  };
}
