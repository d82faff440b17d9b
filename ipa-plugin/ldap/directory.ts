// The directory connection: every read and write of LDAP data goes through this class.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Attribute, Change, Client } from 'ldapts';
import { type BindMethod, PasswordFileError } from './bind.js';
import { DirectoryError, toDirectoryError } from './errors.js';
import { LdapEntry } from './entry.js';
import type { Filter } from './filter.js';

export interface DirectoryOptions {
  /** ldap://host:port, ldaps://host:port or ldapi://%2Fpath%2Fto%2Fsocket */
  url: string;
  bind: BindMethod;
  /** Upgrade an ldap:// connection with StartTLS before binding. */
  startTls?: boolean;
  /** CA certificate(s) trusted for ldaps:// and StartTLS (PEM file). */
  caFile?: string;
  /** Name the server certificate must carry, when it differs from the URL's host. */
  tlsServerName?: string;
  connectTimeoutMs?: number;
  operationTimeoutMs?: number;
}

export type Scope = 'base' | 'one' | 'sub';

export interface SearchRequest {
  base: string;
  scope?: Scope;
  filter?: Filter;
  attributes?: string[];
  sizeLimit?: number;
}

export interface Modification {
  operation: 'add' | 'delete' | 'replace';
  attribute: string;
  values?: string[];
}

export type Attributes = Record<string, string | string[]>;

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_OPERATION_TIMEOUT_MS = 15_000;

/** Parses an LDAP URL into what the client needs; ldapi:// becomes a socket path. */
export function parseLdapUrl(url: string): {
  scheme: 'ldap' | 'ldaps' | 'ldapi';
  socketPath?: string;
} {
  const m = /^(ldaps?|ldapi):\/\/(.*)$/i.exec(url.trim());
  if (!m) {
    throw invalidUrl(url, 'not an LDAP URL');
  }

  const scheme = m[1]!.toLowerCase() as 'ldap' | 'ldaps' | 'ldapi';
  if (scheme !== 'ldapi') {
    return { scheme };
  }

  let socketPath: string;
  try {
    socketPath = decodeURIComponent(m[2]!.replace(/\/$/, ''));
  } catch {
    throw invalidUrl(url, 'the socket path is not URL-encoded properly');
  }

  if (!socketPath.startsWith('/')) {
    throw invalidUrl(url, 'an ldapi URL must name an absolute socket path');
  }

  return { scheme, socketPath };
}

/**
 * One logical connection to the directory. It connects lazily, re-establishes a lost connection
 * on the next operation, retries a read once when the connection dropped under it, and puts a
 * timeout on connecting and on every operation.
 */
export class Directory {
  readonly url: string;
  readonly #options: DirectoryOptions;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;

  constructor(options: DirectoryOptions) {
    parseLdapUrl(options.url);
    this.url = options.url;
    this.#options = options;
  }

  /** Who this connection binds as, for messages. */
  get bindDescription(): string {
    return this.#options.bind.description;
  }

  /** Connects and binds now, so configuration errors surface early. */
  async connect(): Promise<void> {
    await this.#connection();
  }

  /** Entries matching a search; an absent base gives an empty list. */
  async search(req: SearchRequest): Promise<LdapEntry[]> {
    return this.#read(req.base, async (c) => {
      try {
        const res = await c.search(req.base, {
          scope: req.scope ?? 'sub',
          filter: req.filter ?? '(objectClass=*)',
          attributes: req.attributes ?? ['*'],
          sizeLimit: req.sizeLimit ?? 0,
        });
        return res.searchEntries.map((e) => LdapEntry.fromRaw(e));
      } catch (err) {
        if (toDirectoryError(err).code === 'not-found') {
          return [];
        }

        throw err;
      }
    });
  }

  /** The entry at dn, or undefined when it does not exist. */
  async get(dn: string, attributes?: string[]): Promise<LdapEntry | undefined> {
    const found = await this.search({
      base: dn,
      scope: 'base',
      ...(attributes ? { attributes } : {}),
    });
    return found[0];
  }

  /** True when an entry exists at dn. */
  async exists(dn: string): Promise<boolean> {
    return (await this.get(dn, ['1.1'])) !== undefined;
  }

  /** Adds one entry; one atomic LDAP add. */
  async add(dn: string, attributes: Attributes): Promise<void> {
    await this.#write(dn, (c) => c.add(dn, toAttributeList(attributes)));
  }

  /** Applies modifications to one entry atomically. */
  async modify(dn: string, mods: Modification[]): Promise<void> {
    if (mods.length === 0) {
      return;
    }

    await this.#write(dn, (c) => c.modify(dn, mods.map(toChange)));
  }

  /** Deletes one (leaf) entry. */
  async delete(dn: string): Promise<void> {
    await this.#write(dn, (c) => c.del(dn));
  }

  /** Runs an LDAP compare; false when the entry lacks the value. */
  async compare(dn: string, attribute: string, value: string): Promise<boolean> {
    return this.#read(dn, (c) => c.compare(dn, attribute, value));
  }

  /** The DN this connection is bound as (RFC 4532 Who am I?), without the "dn:" prefix. */
  async whoami(): Promise<string> {
    return this.#read('', async (c) => {
      const res = await c.exop('1.3.6.1.4.1.4203.1.11.3');
      return (res.value ?? '').trim().replace(/^dn:\s*/i, '');
    });
  }

  /** Closes the connection; a later operation connects again. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#connecting = undefined;
    if (client?.isConnected) {
      await client.unbind().catch(() => undefined);
    }
  }

  async #read<T>(dn: string, op: (c: Client) => Promise<T>): Promise<T> {
    try {
      return await this.#once(dn, op);
    } catch (err) {
      if (!(err instanceof DirectoryError) || err.code !== 'unavailable' || !err.connectionLost) {
        throw err;
      }

      // The connection dropped under a read: reads are safe to repeat on a fresh connection.
      return this.#once(dn, op);
    }
  }

  // Writes are never repeated automatically: the first attempt may have been applied before the
  // connection dropped, and the caller must decide what a retry means.
  async #write(dn: string, op: (c: Client) => Promise<void>): Promise<void> {
    await this.#once(dn, op);
  }

  async #once<T>(dn: string, op: (c: Client) => Promise<T>): Promise<T> {
    const client = await this.#connection();
    try {
      return await op(client);
    } catch (err) {
      const mapped = toDirectoryError(err, dn || undefined);
      mapped.url ??= this.url;
      if (mapped.code === 'unavailable' || mapped.code === 'timeout') {
        this.#discard(client);
        mapped.connectionLost = true;
      }

      throw mapped;
    }
  }

  #discard(client: Client): void {
    if (this.#client === client) {
      this.#client = undefined;
    }

    client.unbind().catch(() => undefined);
  }

  async #connection(): Promise<Client> {
    if (this.#client?.isConnected) {
      return this.#client;
    }

    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    this.#client = await this.#connecting;
    return this.#client;
  }

  async #open(): Promise<Client> {
    this.#refuseCleartextSecret();
    const client = this.#newClient();
    try {
      if (this.#options.startTls) {
        await client.startTLS(this.#tlsOptions(true));
      }

      await this.#options.bind.bind(client);
      return client;
    } catch (err) {
      client.unbind().catch(() => undefined);
      if (isLocalFileError(err)) {
        throw err;
      }

      const mapped = toDirectoryError(err);
      mapped.url ??= this.url;
      throw mapped;
    }
  }

  #newClient(): Client {
    const { scheme, socketPath } = parseLdapUrl(this.#options.url);
    const tls = scheme === 'ldaps' ? { tlsOptions: this.#tlsOptions() } : {};
    let client: Client;
    try {
      client = new Client({
        url: scheme === 'ldapi' ? 'ldap://localhost' : this.#options.url,
        connectTimeout: this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        timeout: this.#options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
        ...tls,
      });
    } catch (err) {
      throw invalidUrl(this.#options.url, err instanceof Error ? err.message : 'unusable');
    }

    if (socketPath !== undefined) {
      // ldapts has no LDAPI support, but it opens plain sockets with net.connect(port, host), and
      // net.connect treats a non-numeric string as a unix socket path. Pinned ldapts version.
      (client as unknown as { port: string }).port = socketPath;
    }

    return client;
  }

  // A password never crosses an unencrypted network link; loopback and LDAPI stay on this machine.
  #refuseCleartextSecret(): void {
    const { scheme } = parseLdapUrl(this.#options.url);
    const cleartext = scheme === 'ldap' && !this.#options.startTls;
    if (cleartext && this.#options.bind.sendsSecret && !isLoopback(urlHost(this.#options.url))) {
      const err = new DirectoryError(
        'insecure',
        'refusing to send a password over ldap:// without StartTLS',
      );
      err.url = this.url;
      throw err;
    }
  }

  // After StartTLS the certificate is checked against the URL's host (ldapts passes no name).
  #tlsOptions(startTls = false): ConnectionOptions {
    const opts: ConnectionOptions = { minVersion: 'TLSv1.2' };
    if (startTls) {
      opts.host = urlHost(this.#options.url);
    }

    if (this.#options.caFile) {
      opts.ca = readFileSync(this.#options.caFile);
    }

    if (this.#options.tlsServerName) {
      opts.servername = this.#options.tlsServerName;
    }

    return opts;
  }
}

// A bind method that reads a password file fails with the file's error, not a directory error.
function isLocalFileError(err: unknown): boolean {
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  return err instanceof PasswordFileError || syscall === 'open' || syscall === 'read';
}

function invalidUrl(url: string, why: string): DirectoryError {
  const err = new DirectoryError('invalid-url', `${why}: ${url}`);
  err.url = url;
  return err;
}

/** The host part of an ldap:// or ldaps:// URL, without IPv6 brackets. */
function urlHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw invalidUrl(url, 'not an LDAP URL');
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function toAttributeList(attributes: Attributes): Attribute[] {
  return Object.entries(attributes).map(
    ([type, value]) => new Attribute({ type, values: Array.isArray(value) ? value : [value] }),
  );
}

function toChange(mod: Modification): Change {
  return new Change({
    operation: mod.operation,
    modification: new Attribute({ type: mod.attribute, values: mod.values ?? [] }),
  });
}
