import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  HOST_TOKEN_AUDIENCE,
  HOST_TOKEN_ISSUER,
  HOST_TOKEN_LEEWAY_SECONDS,
  HOST_TOKEN_LIFETIME_SECONDS,
  HOST_TOKEN_MAX_BYTES,
  HOST_TOKEN_MAX_SIGNATURES,
  type FlattenedHostTokenJws,
  type GeneralHostTokenJws,
  type HostTokenClaims,
} from '../../protocol/token.js';

describe('host token contract', () => {
  it('when the constants are read then they are the wire values shared with idmsvc', () => {
    expect(HOST_TOKEN_ISSUER).toBe('idmsvc/v1');
    expect(HOST_TOKEN_AUDIENCE).toBe('join host');
    expect(HOST_TOKEN_LIFETIME_SECONDS).toBe(600);
    expect(HOST_TOKEN_LEEWAY_SECONDS).toBe(60);
    expect(HOST_TOKEN_MAX_BYTES).toBe(8192);
    expect(HOST_TOKEN_MAX_SIGNATURES).toBe(10);
  });

  it('when the claims type is read then it has exactly the eleven claims with their JSON types', () => {
    expectTypeOf<HostTokenClaims>().toEqualTypeOf<{
      iss: string;
      aud: string[];
      sub: string;
      exp: number;
      nbf: number;
      iat: number;
      jti: string;
      rhorg: string;
      rhinvid: string;
      rhfqdn: string;
      rhdomid: string;
    }>();
  });

  it('when the JWS types are read then they are the general and flattened JSON serializations', () => {
    expectTypeOf<GeneralHostTokenJws>().toEqualTypeOf<{
      payload: string;
      signatures: { protected: string; signature: string }[];
    }>();
    expectTypeOf<FlattenedHostTokenJws>().toEqualTypeOf<{
      payload: string;
      protected: string;
      signature: string;
    }>();
  });
});
