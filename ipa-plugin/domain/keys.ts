// Signing keys: ES256 key pairs whose private half stays on this server (a file only the
// daemon's user can read) and whose public half is published in LDAP under cn=jwk.
import { chmod, chown, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import {
  isKid,
  SIGNING_ALG,
  toPublicSigningJwk,
  type PublicSigningJwk,
} from '../../protocol/jwk.js';
import type { Directory } from '../ldap/directory.js';
import type { LdapEntry } from '../ldap/entry.js';
import { eq } from '../ldap/filter.js';
import type { Layout } from '../layout.js';
import { writeSecretFile } from '../../common/secret-file.js';
import { formatGeneralizedTime, parseGeneralizedTime } from './time.js';

export type KeyState = 'active' | 'retired' | 'revoked' | 'expired';

export interface SigningKeyInfo {
  kid: string;
  server: string | undefined;
  state: KeyState;
  expires: Date;
  created: Date | undefined;
  jwk: string;
}

export interface KeyOwner {
  uid: number;
  gid: number;
}

/** All published keys, newest first, with their state at `now`. */
export async function listKeys(
  dir: Directory,
  l: Layout,
  now = new Date(),
): Promise<SigningKeyInfo[]> {
  const entries = await dir.search({
    base: l.jwk,
    scope: 'one',
    filter: eq('objectClass', 'HCCPublicJWKObject'),
  });
  // An entry whose name is not a kid is ignored: kids become file names of private keys.
  return entries
    .filter((e) => isKid(e.first('cn')))
    .map((e) => keyInfo(e, now))
    .sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0));
}

function keyInfo(e: LdapEntry, now: Date): SigningKeyInfo {
  const expires = parseGeneralizedTime(e.first('ipaTokenNotAfter') ?? '');
  const created = e.first('hccTsKeyCreated');
  return {
    kid: e.first('cn') ?? '',
    server: e.first('hccTsKeyServer')?.toLowerCase(),
    state: stateOf(e, expires, now),
    expires,
    created: created ? parseGeneralizedTime(created) : undefined,
    jwk: e.first('HCCPublicJWK') ?? '',
  };
}

function stateOf(e: LdapEntry, expires: Date, now: Date): KeyState {
  if (e.first('ipaEnabledFlag')?.toUpperCase() !== 'TRUE') {
    return 'revoked';
  }

  if (expires.getTime() <= now.getTime()) {
    return 'expired';
  }

  return e.has('hccTsKeyRetired') ? 'retired' : 'active';
}

/** Makes a new key for this server: private key file first, then the public JWK in LDAP. */
export async function createKey(
  dir: Directory,
  l: Layout,
  opts: { server: string; keyDir: string; owner: KeyOwner; lifetimeDays: number; now?: Date },
): Promise<SigningKeyInfo> {
  const now = opts.now ?? new Date();
  const expires = new Date(now.getTime() + opts.lifetimeDays * 86_400_000);
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await toPublicSigningJwk(await exportJWK(publicKey), expires.getTime() / 1000);
  const file = privateKeyPath(opts.keyDir, jwk.kid);
  await ensureKeyDir(opts.keyDir, opts.owner);
  await writeSecretFile(
    file,
    (await exportPKCS8(privateKey)).trim(),
    opts.owner.uid,
    opts.owner.gid,
  );
  try {
    await dir.add(l.jwkDn(jwk.kid), jwkEntry(jwk, opts.server, now, expires));
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }

  const text = JSON.stringify(jwk);
  return { kid: jwk.kid, server: opts.server, state: 'active', expires, created: now, jwk: text };
}

function jwkEntry(jwk: PublicSigningJwk, server: string, now: Date, expires: Date) {
  return {
    objectClass: ['top', 'nsContainer', 'HCCPublicJWKObject', 'hccTsSigningKey'],
    cn: jwk.kid,
    HCCPublicJWK: JSON.stringify(jwk),
    ipaTokenNotAfter: formatGeneralizedTime(expires),
    ipaEnabledFlag: 'TRUE',
    ipaKeyUsage: 'sig',
    algorithmId: SIGNING_ALG,
    hccTsKeyServer: server,
    hccTsKeyCreated: formatGeneralizedTime(now),
  };
}

/** Path of a private key file; throws for anything that is not a kid (no path can escape). */
export function privateKeyPath(keyDir: string, kid: string): string {
  if (!isKid(kid)) {
    throw new TypeError('not a key id');
  }

  return join(keyDir, `${kid}.pem`);
}

/** The key directory cannot be used safely; nothing was changed in it. */
export class KeyDirError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'KeyDirError';
  }
}

// The key directory is the daemon user's own, mode 0700. An existing directory is taken over only
// when it is empty and root's (as a package creates it); a directory that belongs to someone else,
// a symbolic link or a file is refused rather than changed.
async function ensureKeyDir(keyDir: string, owner: KeyOwner): Promise<void> {
  const st = await lstat(keyDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      return undefined;
    }

    throw err;
  });
  if (!st) {
    await createKeyDir(keyDir, owner);
    return;
  }

  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new KeyDirError(`${keyDir} is not a directory`, keyDir);
  }

  const adoptable = st.uid === 0 && (await readdir(keyDir)).length === 0;
  if (st.uid !== owner.uid && !adoptable) {
    throw new KeyDirError(`${keyDir} belongs to uid ${st.uid}, not to the daemon's user`, keyDir);
  }

  await chown(keyDir, owner.uid, owner.gid);
  await chmod(keyDir, 0o700);
}

// Parents made here are 0755 whatever root's umask is, so the daemon's user can reach its keys.
async function createKeyDir(keyDir: string, owner: KeyOwner): Promise<void> {
  const parent = dirname(keyDir);
  const first = await mkdir(parent, { recursive: true });
  for (let d = parent; first !== undefined && d.length >= first.length; d = dirname(d)) {
    await chmod(d, 0o755);
  }

  await mkdir(keyDir, { mode: 0o700 });
  await chown(keyDir, owner.uid, owner.gid);
  await chmod(keyDir, 0o700);
}

/** Stops the given active keys from signing new tokens; they verify tokens until they expire. */
export async function retireKeys(
  dir: Directory,
  l: Layout,
  kids: string[],
  now = new Date(),
): Promise<void> {
  for (const kid of kids) {
    await dir.modify(l.jwkDn(kid), [
      { operation: 'replace', attribute: 'hccTsKeyRetired', values: [formatGeneralizedTime(now)] },
    ]);
  }
}

/** Refuses a key at once: tokens it signed stop validating; its private key file is deleted. */
export async function revokeKey(
  dir: Directory,
  l: Layout,
  kid: string,
  keyDir: string,
): Promise<void> {
  await dir.modify(l.jwkDn(kid), [
    { operation: 'replace', attribute: 'ipaEnabledFlag', values: ['FALSE'] },
  ]);
  await rm(privateKeyPath(keyDir, kid), { force: true });
}

/** Removes every published key and the private key files of those keys (unregister). */
export async function removeAllKeys(dir: Directory, l: Layout, keyDir: string): Promise<number> {
  const keys = await listKeys(dir, l);
  for (const k of keys) {
    await dir.delete(l.jwkDn(k.kid));
    await rm(privateKeyPath(keyDir, k.kid), { force: true });
  }

  return keys.length;
}

/** Deletes the private key files of keys that no longer sign (retired, revoked or expired). */
export async function removeUnusedPrivateKeys(
  keys: SigningKeyInfo[],
  keyDir: string,
): Promise<void> {
  for (const k of keys.filter((key) => key.state !== 'active')) {
    await rm(privateKeyPath(keyDir, k.kid), { force: true });
  }
}
