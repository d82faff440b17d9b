// Public signing keys as the wire contract describes them: EC P-256 JWKs used for ES256, with a
// kid derived from the key itself and an integer expiry.
import { calculateJwkThumbprint, type JWK } from 'jose';

export const SIGNING_ALG = 'ES256';
/** Length of a kid: the first characters of the base64url RFC 7638 thumbprint. */
export const KID_LENGTH = 8;

/** What a kid looks like: 8 base64url characters. Anything else is refused wherever it is read. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{8}$/;

/** True when the value has the form of a kid. */
export function isKid(value: string | undefined): boolean {
  return typeof value === 'string' && KID_PATTERN.test(value);
}

export interface PublicSigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use: 'sig';
  alg: typeof SIGNING_ALG;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** The kid of an EC public key: first 8 characters of its SHA-256 JWK thumbprint. */
export async function kidOf(jwk: Pick<JWK, 'kty' | 'crv' | 'x' | 'y'>): Promise<string> {
  const thumbprint = await calculateJwkThumbprint(
    { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    'sha256',
  );
  return thumbprint.slice(0, KID_LENGTH);
}

/** Builds the published form of a public key. */
export async function toPublicSigningJwk(publicJwk: JWK, exp: number): Promise<PublicSigningJwk> {
  if (publicJwk.kty !== 'EC' || publicJwk.crv !== 'P-256' || !publicJwk.x || !publicJwk.y) {
    throw new TypeError('signing keys must be EC P-256 public keys');
  }

  const { x, y } = publicJwk;
  const kid = await kidOf({ kty: 'EC', crv: 'P-256', x, y });
  return { kty: 'EC', crv: 'P-256', x, y, kid, use: 'sig', alg: SIGNING_ALG, exp: Math.floor(exp) };
}

/** Parses and validates a published public JWK (JSON text); throws TypeError when malformed. */
export async function parsePublicSigningJwk(json: string): Promise<PublicSigningJwk> {
  const v = JSON.parse(json) as Record<string, unknown>;
  const ok =
    v.kty === 'EC' &&
    v.crv === 'P-256' &&
    typeof v.x === 'string' &&
    typeof v.y === 'string' &&
    typeof v.kid === 'string' &&
    v.use === 'sig' &&
    Number.isInteger(v.exp) &&
    !('d' in v);
  if (!ok) {
    throw new TypeError('not a public EC P-256 signing JWK');
  }

  const jwk = v as unknown as PublicSigningJwk;
  if ((await kidOf(jwk)) !== jwk.kid) {
    throw new TypeError('kid does not match the key thumbprint');
  }

  return jwk;
}
