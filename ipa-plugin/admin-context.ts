// Everything an admin command needs: IPA's settings, ours, the directory connection and the
// tree layout, established once and checked (root, IPA configured, this host an IPA server).
import { ipaConfDir, type IpaEnv, readIpaEnv } from './ipa-env.js';
import { externalBind, simpleBind } from './ldap/bind.js';
import { Directory, type DirectoryOptions } from './ldap/directory.js';
import { layout, type Layout } from './layout.js';
import { readServerSettings, type ServerSettings } from './settings.js';
import { ldapiUrlForRealm } from './ipa-env.js';

export interface ConnectionFlags {
  ldapUri?: string;
  bindDn?: string;
  bindPasswordFile?: string;
  caCert?: string;
  startTls?: boolean;
}

export interface AdminContext {
  env: IpaEnv;
  settings: ServerSettings;
  dir: Directory;
  layout: Layout;
  /** Connection settings without the bind, for connections made as other identities. */
  connect: Omit<DirectoryOptions, 'bind'>;
}

/**
 * Connection options for the admin command: the directory named by --ldap-uri, else IPA's own
 * (ldap_uri in default.conf, else the LDAPI socket named after the realm), with root's LDAPI
 * autobind unless a bind DN is given.
 */
export function adminDirectoryOptions(env: IpaEnv, flags: ConnectionFlags): DirectoryOptions {
  const url = flags.ldapUri ?? env.ldapUri ?? ldapiUrlForRealm(env.realm);
  const bind =
    flags.bindDn !== undefined
      ? simpleBind(flags.bindDn, flags.bindPasswordFile ?? '')
      : externalBind();
  return {
    url,
    bind,
    ...(flags.startTls ? { startTls: true } : {}),
    ...(flags.caCert ? { caFile: flags.caCert } : {}),
  };
}

/** Reads the settings and opens the directory connection (lazily connected). */
export async function openAdminContext(flags: ConnectionFlags): Promise<AdminContext> {
  const env = await readIpaEnv(ipaConfDir());
  const settings = await readServerSettings();
  const options = adminDirectoryOptions(env, flags);
  const connect = { ...options, bind: undefined };
  return { env, settings, dir: new Directory(options), layout: layout(env.basedn), connect };
}
