import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { kidOf, parsePublicSigningJwk, toPublicSigningJwk } from '../../protocol/jwk.js';

describe('signing JWKs', () => {
  it('when the kid is computed then it is the SHA-256 RFC 7638 thumbprint, first 8 characters', async () => {
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    // RFC 7638 3.2: required members only, lexicographic order, no whitespace.
    const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
    const expected = createHash('sha256').update(canonical).digest('base64url').slice(0, 8);

    expect(await kidOf(jwk)).toBe(expected);
  });

  it('when a key is published then it has kid, use, alg and an integer exp, and no private part', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await toPublicSigningJwk(await exportJWK(publicKey), 1_900_000_000.7);

    expect(jwk).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      use: 'sig',
      alg: 'ES256',
      exp: 1_900_000_000,
    });
    expect(jwk.kid).toBe(await kidOf(jwk));
    expect(await parsePublicSigningJwk(JSON.stringify(jwk))).toEqual(jwk);
  });

  it('when a published key carries a private part or a wrong kid then parsing refuses it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await toPublicSigningJwk(await exportJWK(publicKey), 1_900_000_000);
    const priv = await exportJWK(privateKey);

    await expect(parsePublicSigningJwk(JSON.stringify({ ...jwk, d: priv.d }))).rejects.toThrow(
      TypeError,
    );
    await expect(
      parsePublicSigningJwk(JSON.stringify({ ...jwk, kid: 'AAAAAAAA' })),
    ).rejects.toThrow(/kid/);
    await expect(parsePublicSigningJwk(JSON.stringify({ ...jwk, exp: '1' }))).rejects.toThrow(
      TypeError,
    );
  });
});
