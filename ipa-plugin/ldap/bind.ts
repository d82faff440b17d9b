// How a connection authenticates. Pluggable so the daemon can move to Kerberos (GSSAPI with a
// keytab) without touching the code that reads and writes entries.
import { readSmallFile } from '../../common/files.js';
import type { Client } from 'ldapts';

export interface BindMethod {
  /** Who binds, for messages and logs; never contains a secret. */
  readonly description: string;
  /** True when the bind sends a password, which must then travel encrypted. */
  readonly sendsSecret: boolean;
  bind(client: Client): Promise<void>;
}

/** Simple bind with a DN and a password read from a file each time a connection is made. */
export function simpleBind(dn: string, passwordFile: string): BindMethod {
  return {
    description: `simple bind as ${dn}`,
    sendsSecret: true,
    async bind(client) {
      const password = await readPasswordFile(passwordFile);
      await client.bind(dn, password);
    },
  };
}

/** Simple bind with a password the caller already holds (e.g. a host's one-time password). */
export function simpleBindWithSecret(dn: string, secret: string): BindMethod {
  if (secret.length === 0) {
    // An empty password turns a simple bind into an anonymous one that "succeeds" (RFC 4513 5.1.2).
    throw new TypeError('refusing a simple bind with an empty password');
  }

  return {
    description: `simple bind as ${dn}`,
    sendsSecret: true,
    bind: (client) => client.bind(dn, secret),
  };
}

/** SASL EXTERNAL over LDAPI: the server maps root to Directory Manager, as IPA's tools rely on. */
export function externalBind(): BindMethod {
  return {
    description: 'SASL EXTERNAL (LDAPI autobind)',
    sendsSecret: false,
    bind: (client) => client.bind('EXTERNAL'),
  };
}

/** Reads a password file: first line, trailing newline removed; an empty file is an error. */
export async function readPasswordFile(path: string): Promise<string> {
  const text = await readSmallFile(path, 4096);
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password.length === 0) {
    throw new PasswordFileError(path);
  }

  return password;
}

/** The password file exists but holds no password. */
export class PasswordFileError extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`password file ${path} is empty`);
    this.name = 'PasswordFileError';
    this.path = path;
  }
}
