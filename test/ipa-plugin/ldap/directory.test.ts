// The LDAP data layer against the real directory: transports, binds, escaping, error mapping,
// timeouts and reconnection.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalBind, simpleBind, simpleBindWithSecret } from '../../../ipa-plugin/ldap/bind.js';
import { Directory, type DirectoryOptions } from '../../../ipa-plugin/ldap/directory.js';
import { DirectoryError } from '../../../ipa-plugin/ldap/errors.js';
import { and, eq, present } from '../../../ipa-plugin/ldap/filter.js';
import { layout } from '../../../ipa-plugin/layout.js';
import { directoryFailure } from '../../support/errors.js';
import { directory, resetDirectory, restartDirectory } from '../../harness/directory.js';
import { dmOptions } from '../../support/admin.js';
import { addHost } from '../../support/hosts.js';

const opened: Directory[] = [];

function open(options: DirectoryOptions): Directory {
  const dir = new Directory(options);
  opened.push(dir);
  return dir;
}

const dm = () => simpleBind(directory().bindDn, directory().bindPasswordFile);

beforeAll(async () => {
  await resetDirectory();
});

afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
});

describe('Directory transports and binds', () => {
  it('when binding as Directory Manager over ldap:// then whoami names it', async () => {
    const dir = open({ url: directory().ldapUrl, bind: dm() });

    expect((await dir.whoami()).toLowerCase()).toBe(directory().bindDn.toLowerCase());
  });

  it('when using ldaps:// with the CA and server name then it connects', async () => {
    const { ldapsUrl, caCertFile, tlsServerName } = directory();
    if (!ldapsUrl || !caCertFile) {
      return; // the external directory was given without LDAPS
    }

    const dir = open({
      url: ldapsUrl,
      bind: dm(),
      caFile: caCertFile,
      ...(tlsServerName ? { tlsServerName } : {}),
    });
    expect(await dir.exists(directory().suffix)).toBe(true);
  });

  it('when using ldaps:// without trusting the CA then it fails with a TLS error', async () => {
    const { ldapsUrl } = directory();
    if (!ldapsUrl) {
      return;
    }

    const err = await directoryFailure(open({ url: ldapsUrl, bind: dm() }).connect());
    expect(err.code).toBe('tls');
  });

  it('when StartTLS is asked for on ldap:// then the connection is upgraded before the bind', async () => {
    const { caCertFile, tlsServerName, ldapUrl } = directory();
    if (!caCertFile) {
      return;
    }

    const dir = open({
      url: ldapUrl,
      bind: dm(),
      startTls: true,
      caFile: caCertFile,
      ...(tlsServerName ? { tlsServerName } : {}),
    });
    expect(await dir.exists(directory().suffix)).toBe(true);
  });

  it('when binding with SASL EXTERNAL over LDAPI as root then the server maps root to Directory Manager', async () => {
    const { ldapiSocket } = directory();
    if (!ldapiSocket) {
      return; // LDAPI exists only on the harness's own server
    }

    const dir = open({ url: `ldapi://${encodeURIComponent(ldapiSocket)}`, bind: externalBind() });
    expect((await dir.whoami()).toLowerCase()).toBe('cn=directory manager');
  });

  it('when the password is wrong then the error code is invalid-credentials', async () => {
    const dir = open({
      url: directory().ldapUrl,
      bind: simpleBindWithSecret(directory().bindDn, 'not-the-password'),
    });

    const err = await directoryFailure(dir.connect());
    expect(err.code).toBe('invalid-credentials');
    expect(err.message).not.toContain('not-the-password');
  });

  it('when a simple bind is given an empty password then it is refused before any bind', () => {
    expect(() => simpleBindWithSecret(directory().bindDn, '')).toThrow(/empty password/);
  });

  it('when nothing listens on the port then the error code is unavailable', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));

    const err = await directoryFailure(
      open({ url: `ldap://127.0.0.1:${port}`, bind: dm() }).connect(),
    );
    expect(err.code).toBe('unavailable');
    expect(err.transient).toBe(true);
  });

  it('when the server accepts but never answers then the operation times out', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = open({ url: `ldap://127.0.0.1:${port}`, bind: dm(), operationTimeoutMs: 300 });

    const err = await directoryFailure(dir.connect());

    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
    expect(err.code).toBe('timeout');
  });

  it('when the URL is not an LDAP URL then the constructor refuses it', () => {
    expect(() => new Directory({ url: 'http://127.0.0.1', bind: dm() })).toThrow(DirectoryError);
    expect(() => new Directory({ url: 'ldapi://relative.sock', bind: dm() })).toThrow(/absolute/);
  });
});

describe('Directory entries, filters and errors', () => {
  const l = () => layout(directory().suffix);

  it('when a filter value carries filter syntax then it matches literally, not as a filter', async () => {
    const dir = open(dmOptions());
    await addHost(dir, l(), `inject.${directory().domain}`);

    const hostile = await dir.search({
      base: l().computers,
      filter: eq('fqdn', '*)(objectClass=*'),
    });
    const real = await dir.search({
      base: l().computers,
      filter: and(eq('fqdn', `inject.${directory().domain}`), present('objectClass')),
    });

    expect(hostile).toEqual([]);
    expect(real).toHaveLength(1);
  });

  it('when an entry is added twice then the second add fails with already-exists and its DN', async () => {
    const dir = open(dmOptions());
    const dn = await addHost(dir, l(), `twice.${directory().domain}`);

    const err = await directoryFailure(addHost(dir, l(), `twice.${directory().domain}`));
    expect(err.code).toBe('already-exists');
    expect(err.dn).toBe(dn);
  });

  it('when an entry breaks the schema then the code is schema-violation', async () => {
    const dir = open(dmOptions());

    const err = await directoryFailure(
      dir.add(l().hostDn(`bad.${directory().domain}`), {
        objectClass: ['top', 'ipahost'],
        fqdn: 'x',
        noSuchAttr: 'x',
      }),
    );
    expect(err.code).toBe('schema-violation');
  });

  it('when reading an absent entry then get gives undefined and search an empty list', async () => {
    const dir = open(dmOptions());

    expect(await dir.get(`cn=absent,${directory().suffix}`)).toBeUndefined();
    expect(await dir.search({ base: `cn=absent,${directory().suffix}` })).toEqual([]);
  });

  it('when the directory restarts under an open connection then the next read reconnects', async () => {
    const dir = open({ url: directory().ldapUrl, bind: dm() });
    expect(await dir.exists(directory().suffix)).toBe(true);

    if (!(await restartDirectory())) {
      return;
    }

    expect(await dir.exists(directory().suffix)).toBe(true);
  });
});
