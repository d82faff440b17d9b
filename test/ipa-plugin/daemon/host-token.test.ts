import { Buffer } from 'node:buffer';
import { createHmac, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toPublicSigningJwk, type PublicSigningJwk } from '../../../protocol/jwk.js';
import type { HostTokenClaims } from '../../../protocol/token.js';
import {
  loadSigningKey,
  signHostToken,
  TOKEN_REJECTIONS,
  TokenError,
  verifyHostToken,
  type SigningKey,
  type TokenSubject,
  type VerificationKey,
} from '../../../ipa-plugin/daemon/host-token.js';

// The frozen clock every case runs on; tokens are signed and verified at explicit instants.
const NOW = new Date('2030-06-01T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const KEY_EXPIRY = new Date('2031-06-01T00:00:00.000Z');

const SUBJECT: TokenSubject = {
  sub: '3f1c2a9e-7b4d-4e8a-9c61-0d2b5e7f8a90',
  rhorg: '1234567',
  rhinvid: 'b4f6e0c2-5a1d-4c3e-8f97-2e6a1b0c9d84',
  rhfqdn: 'vm1.ipa.example',
  rhdomid: '6d2f9b1e-0c4a-4f7d-a3e5-8b1c2d3e4f50',
};

interface TestKey {
  signing: SigningKey;
  verification: VerificationKey;
  jwk: PublicSigningJwk;
  pem: string;
  spki: string;
}

let keyA: TestKey;
let keyB: TestKey;
/** A valid ES256 key of another domain: never among the verification keys. */
let foreign: TestKey;

async function makeKey(): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await toPublicSigningJwk(await exportJWK(publicKey), KEY_EXPIRY.getTime() / 1000);
  const pem = await exportPKCS8(privateKey);
  return {
    signing: await loadSigningKey(pem, jwk.kid),
    verification: { jwk, enabled: true, notAfter: KEY_EXPIRY },
    jwk,
    pem,
    spki: await exportSPKI(publicKey),
  };
}

beforeAll(async () => {
  [keyA, keyB, foreign] = await Promise.all([makeKey(), makeKey(), makeKey()]);
});

afterEach(() => {
  vi.useRealTimers();
});

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function claimsAt(seconds: number): HostTokenClaims {
  return {
    iss: 'idmsvc/v1',
    aud: ['join host'],
    ...SUBJECT,
    exp: seconds + 600,
    nbf: seconds,
    iat: seconds,
    jti: 'bm90LWEtcmFuZG9tLWlk',
  };
}

// ES256 over "protected.payload" with a raw P-256 key, for tokens the module would never make.
function es256(pem: string, protectedB64: string, payloadB64: string): string {
  const input = Buffer.from(`${protectedB64}.${payloadB64}`);
  const key = createPrivateKey(pem);
  return cryptoSign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

interface Crafted {
  header?: unknown;
  payload?: unknown;
  pem?: string;
}

/** A flattened token with any header and payload, ES256-signed with `pem` (key A by default). */
function craft(opts: Crafted = {}): string {
  const protectedB64 = b64(opts.header ?? { alg: 'ES256', kid: keyA.jwk.kid });
  const payload = b64(opts.payload ?? claimsAt(NOW_S));
  const signature = es256(opts.pem ?? keyA.pem, protectedB64, payload);
  return JSON.stringify({ payload, protected: protectedB64, signature });
}

function hs256(secret: string | Buffer, kid: string): string {
  const protectedB64 = b64({ alg: 'HS256', kid });
  const payload = b64(claimsAt(NOW_S));
  const mac = createHmac('sha256', secret).update(`${protectedB64}.${payload}`);
  return JSON.stringify({ payload, protected: protectedB64, signature: mac.digest('base64url') });
}

function verify(
  token: unknown,
  keys: VerificationKey[] = [keyA.verification, keyB.verification],
  now: Date = NOW,
  expected: TokenSubject = SUBJECT,
): Promise<HostTokenClaims> {
  return verifyHostToken(token, keys, expected, now);
}

async function rejection(p: Promise<unknown>): Promise<TokenError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  return err as TokenError;
}

async function reasonFor(p: Promise<unknown>): Promise<[string, string | undefined]> {
  const err = await rejection(p);
  return [err.reason, err.claim];
}

const unb64 = (text: string): unknown =>
  JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown;
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);
const jsonOf = (token: string): Record<string, unknown> =>
  JSON.parse(token) as Record<string, unknown>;

describe('signHostToken', () => {
  it('when a token is signed then its claims are the subject, issuer, audience and a 600 s window', async () => {
    const { claims } = await signHostToken(SUBJECT, [keyA.signing], at(999));

    expect(claims).toEqual({
      iss: 'idmsvc/v1',
      aud: ['join host'],
      ...SUBJECT,
      exp: NOW_S + 600,
      nbf: NOW_S,
      iat: NOW_S,
      jti: claims.jti,
    });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('when two keys sign then the token is the general form with one {alg, kid} header per key', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing, keyB.signing], NOW);
    const jws = JSON.parse(token) as { payload: string; signatures: Record<string, string>[] };

    expect(Object.keys(jws).sort()).toEqual(['payload', 'signatures']);
    expect(unb64(jws.payload)).toEqual(claims);
    expect(jws.signatures.map((s) => Object.keys(s).sort())).toEqual([
      ['protected', 'signature'],
      ['protected', 'signature'],
    ]);
    expect(jws.signatures.map((s) => unb64(s.protected!))).toEqual([
      { alg: 'ES256', kid: keyA.jwk.kid },
      { alg: 'ES256', kid: keyB.jwk.kid },
    ]);
  });

  it('when no key is given then it refuses with no-signing-key', async () => {
    expect(await reasonFor(signHostToken(SUBJECT, [], NOW))).toEqual(['no-signing-key', undefined]);
  });

  it('when more keys are given than a verifier accepts then it refuses', async () => {
    const keys = Array.from({ length: 11 }, () => keyA.signing);

    await expect(signHostToken(SUBJECT, keys, NOW)).rejects.toThrow(RangeError);
  });

  it('when many tokens are signed then every jti is distinct 128-bit base64url', async () => {
    const jtis = new Set<string>();
    for (let i = 0; i < 500; i++) {
      jtis.add((await signHostToken(SUBJECT, [keyA.signing], NOW)).claims.jti);
    }

    expect(jtis.size).toBe(500);
    expect([...jtis].every((j) => Buffer.from(j, 'base64url').length === 16)).toBe(true);
  });
});

describe('loadSigningKey', () => {
  it('when the PEM holds the key named by the kid then it signs tokens that verify', async () => {
    const loaded = await loadSigningKey(`\n${keyA.pem}\n`, keyA.jwk.kid);
    const { token, claims } = await signHostToken(SUBJECT, [loaded], NOW);

    expect(loaded.kid).toBe(keyA.jwk.kid);
    expect(await verify(token)).toEqual(claims);
  });

  it('when the PEM holds another key than the kid names then it refuses without quoting the key', async () => {
    const err = await rejection(loadSigningKey(keyA.pem, keyB.jwk.kid));

    expect(err.reason).toBe('no-signing-key');
    expect(err.message).toBe(`signing key ${keyB.jwk.kid} holds another key`);
  });

  it('when the PEM is not a PKCS #8 P-256 key then it refuses with no-signing-key', async () => {
    const p384 = await generateKeyPair('ES384', { extractable: true });
    const bad = [
      'not a key',
      keyA.spki,
      await exportPKCS8(p384.privateKey),
      keyA.pem.replace(/\n[^\n]+\n-----END/, '\n-----END'),
    ];

    for (const pem of bad) {
      const err = await rejection(loadSigningKey(pem, keyA.jwk.kid));
      expect(err.reason).toBe('no-signing-key');
      expect(err.message).toBe(`signing key ${keyA.jwk.kid} is not a PKCS #8 EC P-256 private key`);
    }
  });
});

describe('verifyHostToken: signatures and keys', () => {
  it('when a freshly signed token is verified then it returns the signed claims', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing], NOW);

    expect(await verify(token)).toEqual(claims);
  });

  it('when a token carries two signatures then each key alone verifies it', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing, keyB.signing], NOW);

    expect(await verify(token, [keyA.verification])).toEqual(claims);
    expect(await verify(token, [keyB.verification])).toEqual(claims);
  });

  it('when one of two signing keys is revoked then the other signature still verifies', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing, keyB.signing], NOW);
    const revokedA = { ...keyA.verification, enabled: false };

    expect(await verify(token, [revokedA, keyB.verification])).toEqual(claims);
  });

  it('when a signed token is sent in the flattened form then it verifies', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyB.signing], NOW);
    const jws = JSON.parse(token) as { payload: string; signatures: [Record<string, string>] };
    const flattened = JSON.stringify({ payload: jws.payload, ...jws.signatures[0] });

    expect(await verify(flattened)).toEqual(claims);
  });

  it('when the aud claim is the single string "join host" then it is accepted and returned as an array', async () => {
    const token = craft({ payload: { ...claimsAt(NOW_S), aud: 'join host' } });

    expect((await verify(token)).aud).toEqual(['join host']);
  });

  it('when the signing key is revoked then it refuses with revoked-key', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const keys = [{ ...keyA.verification, enabled: false }, keyB.verification];

    expect(await reasonFor(verify(token, keys))).toEqual(['revoked-key', undefined]);
  });

  it('when the signing key expires at or before now then it refuses with expired-key', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing], NOW);

    for (const notAfter of [NOW, at(-1)]) {
      const keys = [{ ...keyA.verification, notAfter }];
      expect(await reasonFor(verify(token, keys))).toEqual(['expired-key', undefined]);
    }

    expect(await verify(token, [{ ...keyA.verification, notAfter: at(1) }])).toEqual(claims);
  });

  it('when a key is both revoked and expired then revocation is the reason', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const keys = [{ ...keyA.verification, enabled: false, notAfter: at(-1) }];

    expect(await reasonFor(verify(token, keys))).toEqual(['revoked-key', undefined]);
  });

  it('when no published key has the kid then it refuses with unknown-kid', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);

    expect(await reasonFor(verify(token, [keyB.verification]))).toEqual(['unknown-kid', undefined]);
    expect(await reasonFor(verify(token, []))).toEqual(['unknown-kid', undefined]);
  });

  it("when another domain's valid key signed the token then it refuses with unknown-kid", async () => {
    const { token } = await signHostToken(SUBJECT, [foreign.signing], NOW);

    expect(await reasonFor(verify(token))).toEqual(['unknown-kid', undefined]);
  });

  it('when a token names a published kid but another key signed it then it refuses with bad-signature', async () => {
    const forged = await signHostToken(SUBJECT, [{ ...foreign.signing, kid: keyA.jwk.kid }], NOW);

    expect(await reasonFor(verify(forged.token))).toEqual(['bad-signature', undefined]);
  });

  it('when the payload is swapped after signing then it refuses with bad-signature', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing, keyB.signing], NOW);
    const jws = jsonOf(token);
    const tampered = JSON.stringify({
      ...jws,
      payload: b64({ ...claimsAt(NOW_S), rhorg: '7654321' }),
    });

    expect(await reasonFor(verify(tampered))).toEqual(['bad-signature', undefined]);
  });

  it('when one character of the signature changes then it refuses with bad-signature', async () => {
    const token = JSON.parse(craft()) as Record<string, string>;
    const sig = token.signature!;
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;

    const err = await rejection(verify(JSON.stringify({ ...token, signature: flipped })));
    expect(err.reason).toBe('bad-signature');
  });

  it('when no signature verifies then the most specific reason is given', async () => {
    const forged = { ...foreign.signing, kid: keyB.jwk.kid };
    const { token } = await signHostToken(SUBJECT, [foreign.signing, forged, keyA.signing], NOW);
    const revokedA = { ...keyA.verification, enabled: false };

    expect(await reasonFor(verify(token, [revokedA, keyB.verification]))).toEqual([
      'bad-signature',
      undefined,
    ]);
    expect(await reasonFor(verify(token, [revokedA]))).toEqual(['revoked-key', undefined]);
  });

  it('when two published keys share the kid then the one that verifies is used', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const impostor = { ...foreign.verification, jwk: { ...foreign.jwk, kid: keyA.jwk.kid } };

    expect(await verify(token, [impostor, keyA.verification])).toEqual(claims);
  });
});

describe('verifyHostToken: headers and algorithms', () => {
  it('when the header says alg none then it refuses with unsupported-alg', async () => {
    const header = b64({ alg: 'none', kid: keyA.jwk.kid });
    const payload = b64(claimsAt(NOW_S));

    for (const signature of ['', es256(keyA.pem, header, payload)]) {
      const token = JSON.stringify({ payload, protected: header, signature });
      expect(await reasonFor(verify(token))).toEqual(['unsupported-alg', undefined]);
    }
  });

  it('when an HS256 token uses the public key as HMAC secret then it refuses with unsupported-alg', async () => {
    const secrets = [JSON.stringify(keyA.jwk), keyA.spki, Buffer.from(keyA.jwk.x, 'base64url')];

    for (const secret of secrets) {
      const token = hs256(secret, keyA.jwk.kid);
      expect(await reasonFor(verify(token))).toEqual(['unsupported-alg', undefined]);
    }
  });

  it('when the header names another algorithm then it refuses with unsupported-alg', async () => {
    for (const alg of ['RS256', 'ES384', 'PS256', 'EdDSA', 'es256', '']) {
      const token = craft({ header: { alg, kid: keyA.jwk.kid } });
      expect(await reasonFor(verify(token))).toEqual(['unsupported-alg', undefined]);
    }
  });

  it('when the header carries its own key or a key URL then it refuses with unsupported-alg', async () => {
    const own = { alg: 'ES256', kid: keyA.jwk.kid, jwk: foreign.jwk };
    const url = { alg: 'ES256', kid: keyA.jwk.kid, jku: 'https://attacker.example/jwks' };

    expect(await reasonFor(verify(craft({ header: own, pem: foreign.pem })))).toEqual([
      'unsupported-alg',
      undefined,
    ]);
    expect(await reasonFor(verify(craft({ header: url })))).toEqual(['unsupported-alg', undefined]);
  });

  it('when the header has extensions, no kid or a non-string kid then it refuses with unsupported-alg', async () => {
    const kid = keyA.jwk.kid;
    const headers = [
      { alg: 'ES256', kid, b64: false, crit: ['b64'] },
      { alg: 'ES256', kid, typ: 'JWT' },
      { alg: 'ES256' },
      { alg: 'ES256', kid: 42 },
      { kid },
    ];

    for (const header of headers) {
      expect(await reasonFor(verify(craft({ header })))).toEqual(['unsupported-alg', undefined]);
    }
  });

  it('when one of two signatures has a refused header then the whole token is refused', async () => {
    const good = jsonOf(craft());
    const none = { protected: b64({ alg: 'none', kid: keyB.jwk.kid }), signature: '' };
    const first = { protected: good.protected, signature: good.signature };
    const token = JSON.stringify({ payload: good.payload, signatures: [first, none] });

    expect(await reasonFor(verify(token))).toEqual(['unsupported-alg', undefined]);
  });

  it('when a signature brings an unprotected header then it refuses with malformed', async () => {
    const good = jsonOf(craft());
    const header = { alg: 'ES256' };
    const protectedB64 = b64({ kid: keyA.jwk.kid });
    const flattened = { ...good, protected: protectedB64, header };
    const signatures = [{ protected: good.protected, signature: good.signature, header: {} }];

    expect(await reasonFor(verify(JSON.stringify(flattened)))).toEqual(['malformed', undefined]);
    expect(await reasonFor(verify(JSON.stringify({ payload: good.payload, signatures })))).toEqual([
      'malformed',
      undefined,
    ]);
  });
});

describe('verifyHostToken: shape and size', () => {
  it('when the token is not a string then it refuses with malformed', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const notStrings = [undefined, null, 42, true, jsonOf(token), Buffer.from(token), [token]];

    for (const value of notStrings) {
      expect(await reasonFor(verify(value))).toEqual(['malformed', undefined]);
    }
  });

  it('when the token is not JSON, or a compact JWS, then it refuses with malformed', async () => {
    const p = b64({ alg: 'ES256', kid: keyA.jwk.kid });
    const compact = `${p}.${b64(claimsAt(NOW_S))}.${es256(keyA.pem, p, b64(claimsAt(NOW_S)))}`;

    for (const text of ['', 'not json', '{"payload":', compact, '"a string"', 'null', '[]']) {
      expect(await reasonFor(verify(text))).toEqual(['malformed', undefined]);
    }
  });

  it('when the JSON has the wrong shape then it refuses with malformed', async () => {
    const good = jsonOf(craft());
    const sig = { protected: good.protected, signature: good.signature };
    const shapes: unknown[] = [
      {},
      { payload: good.payload },
      { payload: good.payload, signatures: [] },
      { payload: good.payload, signatures: sig },
      { payload: good.payload, signatures: [sig, 'x'] },
      { payload: good.payload, signatures: [{ ...sig, signature: 7 }] },
      { payload: good.payload, signatures: Array.from({ length: 11 }, () => sig) },
      { payload: good.payload, signatures: [sig], extra: 'x' },
      { payload: good.payload, signatures: [sig], ...sig },
      { ...good, payload: 12 },
      { ...good, payload: null },
      { ...good, protected: `${String(good.protected)}=` },
      { ...good, signature: `${String(good.signature).slice(1)}+` },
      { ...good, payload: `${String(good.payload)}.` },
      { ...good, kid: keyA.jwk.kid },
    ];

    for (const shape of shapes) {
      expect(await reasonFor(verify(JSON.stringify(shape)))).toEqual(['malformed', undefined]);
    }
  });

  it('when the protected header is not a JSON object then it refuses with malformed', async () => {
    const good = jsonOf(craft());

    const notUtf8 = Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url');
    for (const header of [b64('not json'), b64('["ES256"]'), '', notUtf8]) {
      const token = JSON.stringify({ ...good, protected: header });
      expect(await reasonFor(verify(token))).toEqual(['malformed', undefined]);
    }
  });

  it('when a validly signed payload is not a JSON object then it refuses with malformed', async () => {
    for (const payload of ['not json', '["idmsvc/v1"]', 'null']) {
      expect(await reasonFor(verify(craft({ payload })))).toEqual(['malformed', undefined]);
    }
  });

  it('when the token is 9 KiB then it refuses with too-large', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const padded = token + ' '.repeat(9 * 1024 - token.length);

    expect(await reasonFor(verify(padded))).toEqual(['too-large', undefined]);
    expect(await reasonFor(verify('x'.repeat(9 * 1024)))).toEqual(['too-large', undefined]);
  });

  it('when the token is at most 8 KiB counted in UTF-8 bytes then only the size decides', async () => {
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const exact = token + ' '.repeat(8192 - token.length);
    // 4,100 characters of two bytes each: under 8192 characters, over 8192 bytes.
    const wide = `${token.slice(0, -1)},"x":"${'é'.repeat(4100)}"}`;

    expect(await verify(exact)).toEqual(claims);
    expect(wide.length).toBeLessThan(8192);
    expect(await reasonFor(verify(wide))).toEqual(['too-large', undefined]);
  });
});

describe('verifyHostToken: claims', () => {
  const SUBJECT_CLAIMS = ['sub', 'rhorg', 'rhinvid', 'rhfqdn', 'rhdomid'] as const;

  it.each(SUBJECT_CLAIMS)(
    'when the %s claim differs from the expected value then it refuses naming the claim',
    async (claim) => {
      const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
      const expected = { ...SUBJECT, [claim]: `${SUBJECT[claim]}0` };

      expect(await reasonFor(verify(token, undefined, NOW, expected))).toEqual([
        'claim-mismatch',
        claim,
      ]);
    },
  );

  it('when sub or rhfqdn differ only in case or surrounding space then they still mismatch', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const variants: [keyof TokenSubject, string][] = [
      ['sub', SUBJECT.sub.toUpperCase()],
      ['rhfqdn', 'VM1.ipa.example'],
      ['rhfqdn', 'vm1.ipa.example.'],
      ['rhfqdn', ' vm1.ipa.example'],
      ['rhorg', '1234567 '],
    ];

    for (const [claim, value] of variants) {
      const expected = { ...SUBJECT, [claim]: value };
      const err = await rejection(verify(token, undefined, NOW, expected));
      expect([err.reason, err.claim]).toEqual(['claim-mismatch', claim]);
    }
  });

  it.each([
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
  ])('when the %s claim is absent then it refuses with claim-missing naming it', async (claim) => {
    const payload: Record<string, unknown> = { ...claimsAt(NOW_S) };
    delete payload[claim];

    expect(await reasonFor(verify(craft({ payload })))).toEqual(['claim-missing', claim]);
  });

  it('when a claim has the wrong JSON type then it refuses with claim-mismatch naming it', async () => {
    const cases: [string, unknown][] = [
      ['iss', null],
      ['sub', 1234],
      ['jti', ['x']],
      ['rhdomid', { id: SUBJECT.rhdomid }],
      ['exp', String(NOW_S + 600)],
      ['exp', NOW_S + 600.5],
      ['nbf', null],
      ['iat', 1e300],
      ['aud', ['join host', 'another']],
      ['aud', [['join host']]],
      ['aud', []],
      ['aud', 'Join Host'],
    ];

    for (const [claim, value] of cases) {
      const payload = { ...claimsAt(NOW_S), [claim]: value };
      expect(await reasonFor(verify(craft({ payload })))).toEqual(['claim-mismatch', claim]);
    }
  });

  it('when the issuer is not idmsvc/v1 then it refuses with claim-mismatch on iss', async () => {
    const payload = { ...claimsAt(NOW_S), iss: 'idmsvc/v2' };

    expect(await reasonFor(verify(craft({ payload })))).toEqual(['claim-mismatch', 'iss']);
  });

  it('when the payload has extra claims then they are ignored and not returned', async () => {
    const payload = { ...claimsAt(NOW_S), admin: true };

    expect(await verify(craft({ payload }))).toEqual(claimsAt(NOW_S));
  });
});

describe('verifyHostToken: validity window', () => {
  async function tokenAt(when: Date): Promise<string> {
    return (await signHostToken(SUBJECT, [keyA.signing], when)).token;
  }

  it('when exp passed 59 s ago then it is accepted within the leeway', async () => {
    const token = await tokenAt(at(-(600 + 59) * 1000));

    expect((await verify(token)).exp).toBe(NOW_S - 59);
  });

  it('when exp passed 61 s ago then it refuses with expired', async () => {
    const token = await tokenAt(at(-(600 + 61) * 1000));

    expect(await reasonFor(verify(token))).toEqual(['expired', undefined]);
  });

  it('when now is exactly exp + 60 s then it is accepted, and a millisecond later it is expired', async () => {
    const token = await tokenAt(NOW);
    const edge = at((600 + 60) * 1000);

    expect((await verify(token, undefined, edge)).exp).toBe(NOW_S + 600);
    expect(await reasonFor(verify(token, undefined, at((600 + 60) * 1000 + 1)))).toEqual([
      'expired',
      undefined,
    ]);
  });

  it('when nbf is 30 s ahead then it is accepted within the leeway', async () => {
    const token = await tokenAt(at(30_000));

    expect((await verify(token)).nbf).toBe(NOW_S + 30);
  });

  it('when nbf is 90 s ahead then it refuses with not-yet-valid', async () => {
    const token = await tokenAt(at(90_000));

    expect(await reasonFor(verify(token))).toEqual(['not-yet-valid', undefined]);
  });

  it('when now is exactly nbf - 60 s then it is accepted, and a millisecond earlier it is not', async () => {
    const token = await tokenAt(at(60_000));

    expect((await verify(token)).nbf).toBe(NOW_S + 60);
    expect(await reasonFor(verify(token, undefined, at(-1)))).toEqual(['not-yet-valid', undefined]);
  });

  it('when the system clock is years off then only the given now counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('1999-01-01T00:00:00Z'));
    const { token, claims } = await signHostToken(SUBJECT, [keyA.signing], NOW);

    expect(claims.iat).toBe(NOW_S);
    expect(await verify(token)).toEqual(claims);
  });

  it('when now is an invalid date then signing and verifying throw TypeError', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const invalid = new Date(Number.NaN);

    await expect(signHostToken(SUBJECT, [keyA.signing], invalid)).rejects.toThrow(TypeError);
    await expect(verify(token, undefined, invalid)).rejects.toThrow(TypeError);
  });
});

describe('TokenError', () => {
  it('when the reasons are listed then they are the twelve stable codes', () => {
    expect(TOKEN_REJECTIONS).toEqual([
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
    ]);
  });

  it('when tokens are refused then no message or cause quotes token text, kid or key', async () => {
    const marker = 'Zq9MARKERq9Z';
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const jws = jsonOf(token);
    const tokens = [
      `{"payload":"${marker}`,
      `${marker}${token}`,
      craft({ header: { alg: 'ES256', kid: marker } }),
      craft({ header: { alg: marker, kid: keyA.jwk.kid } }),
      craft({ payload: { ...claimsAt(NOW_S), rhfqdn: marker } }),
      craft({ payload: { ...claimsAt(NOW_S), exp: marker } }),
      craft({ payload: `{"${marker}"` }),
      JSON.stringify({ ...jws, payload: b64({ ...claimsAt(NOW_S), sub: marker }) }),
      JSON.stringify({ ...jsonOf(craft()), signature: `${marker}AAAA` }),
    ];
    const secrets = [keyA.jwk.x, keyA.jwk.y, String(jws.payload).slice(0, 24), marker];

    for (const t of tokens) {
      const err = await rejection(verify(t));
      const text = `${err.message} ${String((err.cause as Error | undefined)?.message)}`;
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('when a claim is refused then the message names the claim and nothing else of the token', async () => {
    const { token } = await signHostToken(SUBJECT, [keyA.signing], NOW);
    const err = await rejection(
      verify(token, undefined, NOW, { ...SUBJECT, rhfqdn: 'vm2.ipa.example' }),
    );

    expect(err).toMatchObject({ name: 'TokenError', reason: 'claim-mismatch', claim: 'rhfqdn' });
    expect(err.message).toBe('host token claim does not match: rhfqdn');
  });
});
