// Host tokens on the IPA server: signed at host-conf with this server's keys, verified at
// register with the keys every IPA server publishes in LDAP. The module never logs; a refusal's
// reason is for the caller's audit line, and the client only ever hears one plain answer.
import { Buffer } from 'node:buffer';
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { flattenedVerify, GeneralSign, importJWK, importPKCS8, type CryptoKey } from 'jose';
import { kidOf, SIGNING_ALG, type PublicSigningJwk } from '../../protocol/jwk.js';
import {
  HOST_TOKEN_AUDIENCE,
  HOST_TOKEN_ISSUER,
  HOST_TOKEN_LEEWAY_SECONDS,
  HOST_TOKEN_LIFETIME_SECONDS,
  HOST_TOKEN_MAX_BYTES,
  HOST_TOKEN_MAX_SIGNATURES,
  type GeneralHostTokenJws,
  type HostTokenClaims,
  type HostTokenSignature,
} from '../../protocol/token.js';

/** A private key this server signs host tokens with. */
export interface SigningKey {
  kid: string;
  /** ES256 (EC P-256) private key. */
  privateKey: CryptoKey | KeyObject;
}

/** A published public key, as read from LDAP. */
export interface VerificationKey {
  jwk: PublicSigningJwk;
  /** False once the key is revoked. */
  enabled: boolean;
  /** The key verifies nothing from this instant on. */
  notAfter: Date;
}

/** What a token is bound to: the machine's certificate, its FQDN and the domain. */
export interface TokenSubject {
  /** Certificate CN: the subscription id. */
  sub: string;
  /** Certificate O: the organisation id. */
  rhorg: string;
  /** Inventory id from the URL path. */
  rhinvid: string;
  /** FQDN from the URL path. */
  rhfqdn: string;
  /** Domain id. */
  rhdomid: string;
}

/**
 * Why a token was refused or could not be made. A claim of the wrong JSON type (null included)
 * is `claim-mismatch`; only an absent claim is `claim-missing`.
 */
export const TOKEN_REJECTIONS = [
  'malformed',
  'too-large',
  'unsupported-alg',
  'unknown-kid',
  'revoked-key',
  'expired-key',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'claim-missing',
  'claim-mismatch',
  'no-signing-key',
] as const;

export type TokenRejection = (typeof TOKEN_REJECTIONS)[number];

const MESSAGES: Record<TokenRejection, string> = {
  malformed: 'host token is not a JWS in JSON serialization of the expected shape',
  'too-large': `host token is larger than ${HOST_TOKEN_MAX_BYTES} bytes`,
  'unsupported-alg': 'host token header is not exactly alg ES256 with a kid',
  'unknown-kid': 'host token is signed by no published key',
  'revoked-key': 'host token is signed by a revoked key',
  'expired-key': 'host token is signed by an expired key',
  'bad-signature': 'host token signature does not verify',
  expired: 'host token has expired',
  'not-yet-valid': 'host token is not valid yet',
  'claim-missing': 'host token lacks a claim',
  'claim-mismatch': 'host token claim does not match',
  'no-signing-key': 'no key to sign host tokens with',
};

/** A refused token (or one that could not be made); messages never quote token or key text. */
export class TokenError extends Error {
  readonly reason: TokenRejection;
  /** The offending claim, for claim-missing and claim-mismatch. */
  readonly claim: string | undefined;

  constructor(
    reason: TokenRejection,
    options: { claim?: string; cause?: unknown; message?: string } = {},
  ) {
    const { claim, cause } = options;
    const message = options.message ?? (claim ? `${MESSAGES[reason]}: ${claim}` : MESSAGES[reason]);
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TokenError';
    this.reason = reason;
    this.claim = claim;
  }
}

type Json = Record<string, unknown>;
type KidSignature = HostTokenSignature & { kid: string };

/** 16 random bytes: 128 bits, 22 base64url characters. */
const JTI_BYTES = 16;
const GENERAL_MEMBERS = ['payload', 'signatures'];
const FLATTENED_MEMBERS = ['payload', 'protected', 'signature'];
const SIGNATURE_MEMBERS = ['protected', 'signature'];
const HEADER_MEMBERS = ['alg', 'kid'];
const CLAIM_NAMES = [
  'iss',
  'aud',
  'sub',
  'exp',
  'nbf',
  'iat',
  'jti',
  'rhorg',
  'rhinvid',
  'rhfqdn',
  'rhdomid',
] as const satisfies readonly (keyof HostTokenClaims)[];
const SUBJECT_CLAIMS = [
  'sub',
  'rhorg',
  'rhinvid',
  'rhfqdn',
  'rhdomid',
] as const satisfies readonly (keyof TokenSubject)[];
// When no signature verifies, the failure that got furthest is the auditor's best lead: a
// signature that did not verify, then a refused key, then a kid nobody published.
const SPECIFICITY: TokenRejection[] = [
  'bad-signature',
  'revoked-key',
  'expired-key',
  'unknown-kid',
];
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads this server's private key (PKCS #8 PEM) and checks that it is the key named `kid`. */
export async function loadSigningKey(pem: string, kid: string): Promise<SigningKey> {
  // jose takes the PEM only when it starts with its first line, so surrounding space is dropped.
  const privateKey = await importPrivateKey(pem.trim(), kid);
  const publicJwk = createPublicKey(pem.trim()).export({ format: 'jwk' });
  // A key under the wrong name would sign tokens that every server refuses as bad-signature.
  if ((await kidOf(publicJwk)) !== kid) {
    throw new TokenError('no-signing-key', { message: `signing key ${kid} holds another key` });
  }

  return { kid, privateKey };
}

async function importPrivateKey(pem: string, kid: string): Promise<CryptoKey> {
  try {
    return await importPKCS8(pem, SIGNING_ALG);
  } catch (cause) {
    const message = `signing key ${kid} is not a PKCS #8 EC P-256 private key`;
    throw new TokenError('no-signing-key', { message, cause });
  }
}

/** Signs a host token for `subject` with each key in `keys`, valid from `now` for 600 s. */
export async function signHostToken(
  subject: TokenSubject,
  keys: SigningKey[],
  now: Date,
): Promise<{ token: string; claims: HostTokenClaims }> {
  assertValidDate(now);
  if (keys.length === 0) {
    throw new TokenError('no-signing-key');
  }

  // A token with more signatures than verifiers accept would be refused by every server.
  if (keys.length > HOST_TOKEN_MAX_SIGNATURES) {
    throw new RangeError(`at most ${HOST_TOKEN_MAX_SIGNATURES} keys sign a host token`);
  }

  const claims = newClaims(subject, now);
  const signer = new GeneralSign(new TextEncoder().encode(JSON.stringify(claims)));
  for (const key of keys) {
    signer.addSignature(key.privateKey).setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid });
  }

  return { token: JSON.stringify(await signer.sign()), claims };
}

function newClaims(subject: TokenSubject, now: Date): HostTokenClaims {
  const iat = Math.floor(now.getTime() / 1000);
  return {
    iss: HOST_TOKEN_ISSUER,
    aud: [HOST_TOKEN_AUDIENCE],
    sub: subject.sub,
    exp: iat + HOST_TOKEN_LIFETIME_SECONDS,
    nbf: iat,
    iat,
    jti: randomBytes(JTI_BYTES).toString('base64url'),
    rhorg: subject.rhorg,
    rhinvid: subject.rhinvid,
    rhfqdn: subject.rhfqdn,
    rhdomid: subject.rhdomid,
  };
}

/**
 * Verifies a host token with the published keys and checks that it is bound to `expected` and
 * valid at `now`; returns its claims. Replay is the caller's business (it records `jti`).
 */
export async function verifyHostToken(
  token: unknown,
  keys: VerificationKey[],
  expected: TokenSubject,
  now: Date,
): Promise<HostTokenClaims> {
  assertValidDate(now);
  const jws = parseToken(token);
  const signatures = jws.signatures.map((s) => ({ ...s, kid: headerKid(s.protected) }));
  const claims = readClaims(await verifiedPayload(jws.payload, signatures, keys, now));
  checkClaims(claims, expected, now);
  return claims;
}

// An invalid date compares false with everything and would make every token look current.
function assertValidDate(now: Date): void {
  if (Number.isNaN(now.getTime())) {
    throw new TypeError('now is not a valid date');
  }
}

function parseToken(token: unknown): GeneralHostTokenJws {
  if (typeof token !== 'string') {
    throw new TokenError('malformed');
  }

  // A string's UTF-16 length never exceeds its UTF-8 length, so the cheap test goes first.
  if (token.length > HOST_TOKEN_MAX_BYTES || Buffer.byteLength(token) > HOST_TOKEN_MAX_BYTES) {
    throw new TokenError('too-large');
  }

  const value = parseJson(token);
  const jws = isObject(value) ? (generalForm(value) ?? flattenedForm(value)) : undefined;
  if (!jws) {
    throw new TokenError('malformed');
  }

  return jws;
}

function generalForm(v: Json): GeneralHostTokenJws | undefined {
  const { payload, signatures } = v;
  if (!hasExactly(v, GENERAL_MEMBERS) || !isBase64url(payload) || !Array.isArray(signatures)) {
    return undefined;
  }

  if (signatures.length === 0 || signatures.length > HOST_TOKEN_MAX_SIGNATURES) {
    return undefined;
  }

  const parsed = (signatures as unknown[]).map(signatureOf);
  return parsed.every((s) => s !== undefined) ? { payload, signatures: parsed } : undefined;
}

function flattenedForm(v: Json): GeneralHostTokenJws | undefined {
  const { payload } = v;
  const signature = signatureOf({ protected: v.protected, signature: v.signature });
  if (!hasExactly(v, FLATTENED_MEMBERS) || !isBase64url(payload) || !signature) {
    return undefined;
  }

  return { payload, signatures: [signature] };
}

// An unprotected "header" member is refused with everything else: jose would merge it into the
// header it reads "alg" from, yet nothing signs it.
function signatureOf(v: unknown): HostTokenSignature | undefined {
  if (!isObject(v) || !hasExactly(v, SIGNATURE_MEMBERS)) {
    return undefined;
  }

  const { protected: header, signature } = v;
  return isBase64url(header) && isBase64url(signature)
    ? { protected: header, signature }
    : undefined;
}

// Exactly {alg: ES256, kid}: the token neither chooses the algorithm nor brings its own key (jwk,
// jku, x5c, x5u) nor asks for extensions (crit, b64); the verifier's keys come from LDAP only.
function headerKid(encoded: string): string {
  const header = parseJson(Buffer.from(encoded, 'base64url'));
  if (!isObject(header)) {
    throw new TokenError('malformed');
  }

  const { alg, kid } = header;
  if (!hasExactly(header, HEADER_MEMBERS) || alg !== SIGNING_ALG || typeof kid !== 'string') {
    throw new TokenError('unsupported-alg');
  }

  return kid;
}

// One signature that verifies with a usable key is enough: servers sign with all their active
// keys, and revoking one server's key must not void the other signatures.
async function verifiedPayload(
  payload: string,
  signatures: KidSignature[],
  keys: VerificationKey[],
  now: Date,
): Promise<Uint8Array> {
  const failures: TokenError[] = [];
  for (const signature of signatures) {
    const result = await verifySignature(payload, signature, keys, now);
    if (!(result instanceof TokenError)) {
      return result;
    }

    failures.push(result);
  }

  throw failures.reduce((best, e) => (specificity(e) < specificity(best) ? e : best));
}

function specificity(e: TokenError): number {
  return SPECIFICITY.indexOf(e.reason);
}

async function verifySignature(
  payload: string,
  signature: KidSignature,
  keys: VerificationKey[],
  now: Date,
): Promise<Uint8Array | TokenError> {
  const candidates = keys.filter((k) => k.jwk.kid === signature.kid);
  if (candidates.length === 0) {
    return new TokenError('unknown-kid');
  }

  const usable = candidates.filter((k) => k.enabled && k.notAfter.getTime() > now.getTime());
  if (usable.length === 0) {
    return new TokenError(candidates.some((k) => !k.enabled) ? 'revoked-key' : 'expired-key');
  }

  return tryKeys(payload, signature, usable);
}

async function tryKeys(
  payload: string,
  signature: KidSignature,
  keys: VerificationKey[],
): Promise<Uint8Array | TokenError> {
  let cause: unknown;
  for (const key of keys) {
    try {
      return await checkSignature(payload, signature, key.jwk);
    } catch (err) {
      cause = err;
    }
  }

  return new TokenError('bad-signature', { cause });
}

// The key is built from the published point alone with the algorithm fixed here, so neither the
// token nor stray members of the stored JWK decide how it is used.
async function checkSignature(
  payload: string,
  signature: KidSignature,
  jwk: PublicSigningJwk,
): Promise<Uint8Array> {
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, SIGNING_ALG);
  const jws = { payload, protected: signature.protected, signature: signature.signature };
  const result = await flattenedVerify(jws, key, { algorithms: [SIGNING_ALG] });
  return result.payload;
}

function readClaims(payload: Uint8Array): HostTokenClaims {
  const p = parseJson(payload);
  if (!isObject(p)) {
    throw new TokenError('malformed');
  }

  const missing = CLAIM_NAMES.find((name) => !Object.hasOwn(p, name));
  if (missing) {
    throw new TokenError('claim-missing', { claim: missing });
  }

  return {
    iss: stringClaim(p, 'iss'),
    aud: audienceClaim(p),
    sub: stringClaim(p, 'sub'),
    exp: timeClaim(p, 'exp'),
    nbf: timeClaim(p, 'nbf'),
    iat: timeClaim(p, 'iat'),
    jti: stringClaim(p, 'jti'),
    rhorg: stringClaim(p, 'rhorg'),
    rhinvid: stringClaim(p, 'rhinvid'),
    rhfqdn: stringClaim(p, 'rhfqdn'),
    rhdomid: stringClaim(p, 'rhdomid'),
  };
}

function stringClaim(p: Json, name: string): string {
  const value = p[name];
  if (typeof value !== 'string') {
    throw new TokenError('claim-mismatch', { claim: name });
  }

  return value;
}

function timeClaim(p: Json, name: string): number {
  const value = p[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TokenError('claim-mismatch', { claim: name });
  }

  return value;
}

// RFC 7519 4.1.3 allows a single audience as a plain string; both forms are read, the array
// form returned. Any other audience, or a second one, is refused.
function audienceClaim(p: Json): string[] {
  const { aud } = p;
  const single: unknown = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (single !== HOST_TOKEN_AUDIENCE) {
    throw new TokenError('claim-mismatch', { claim: 'aud' });
  }

  return [HOST_TOKEN_AUDIENCE];
}

// Compared exactly, without case folding or trimming: the token binds the strings host-conf saw,
// and folding here would let a token issued for one spelling register another.
function checkClaims(claims: HostTokenClaims, expected: TokenSubject, now: Date): void {
  if (claims.iss !== HOST_TOKEN_ISSUER) {
    throw new TokenError('claim-mismatch', { claim: 'iss' });
  }

  const differing = SUBJECT_CLAIMS.find((name) => claims[name] !== expected[name]);
  if (differing) {
    throw new TokenError('claim-mismatch', { claim: differing });
  }

  checkValidity(claims, now);
}

function checkValidity(claims: HostTokenClaims, now: Date): void {
  const leeway = HOST_TOKEN_LEEWAY_SECONDS * 1000;
  if (now.getTime() > claims.exp * 1000 + leeway) {
    throw new TokenError('expired');
  }

  if (now.getTime() < claims.nbf * 1000 - leeway) {
    throw new TokenError('not-yet-valid');
  }
}

// JSON.parse's error message quotes its input, so the error is dropped rather than kept as cause.
function parseJson(text: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : UTF8.decode(text));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasExactly(v: Json, members: string[]): boolean {
  const keys = Object.keys(v);
  return keys.length === members.length && members.every((m) => Object.hasOwn(v, m));
}

// Unpadded base64url only; a length of 4n+1 holds no whole byte and decoders disagree about it.
// Empty passes: an "alg: none" token has an empty signature and is refused for its header.
function isBase64url(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]*$/.test(v) && v.length % 4 !== 1;
}
