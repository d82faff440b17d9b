// The host token as the wire contract describes it: what host-conf hands a new machine and
// register takes back. It binds the machine's certificate and FQDN to one domain for a few
// minutes and is signed by one or more IPA servers' ES256 keys.
//
// On the wire the token is a string holding the JSON text of a JWS in JSON serialization
// (RFC 7515 7.2): the general form with one signature per active signing key, or the flattened
// form with one. Every protected header is exactly `{"alg": "ES256", "kid": <kid>}`.

/** Issuer of every host token, as idmsvc named it. */
export const HOST_TOKEN_ISSUER = 'idmsvc/v1';
/** The single audience of a host token; the `aud` claim is `["join host"]`. */
export const HOST_TOKEN_AUDIENCE = 'join host';
/** Seconds from issue to expiry. */
export const HOST_TOKEN_LIFETIME_SECONDS = 600;
/** Clock skew tolerated between IPA servers, in seconds, on `exp` and `nbf`. */
export const HOST_TOKEN_LEEWAY_SECONDS = 60;
/** Largest token accepted, in bytes of its UTF-8 JSON text. */
export const HOST_TOKEN_MAX_BYTES = 8192;
/** Most signatures a token may carry. */
export const HOST_TOKEN_MAX_SIGNATURES = 10;

/** The claims of a host token. Every claim is required. */
export interface HostTokenClaims {
  /** Issuer: always `"idmsvc/v1"`. */
  iss: string;
  /** Audience: always `["join host"]`. */
  aud: string[];
  /** Subject: the CN of the machine's certificate, i.e. its subscription id. */
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Start of validity, seconds since the epoch. */
  nbf: number;
  /** Time of issue, seconds since the epoch. */
  iat: number;
  /** Random token id (base64url); servers record it to refuse a second registration. */
  jti: string;
  /** The O of the machine's certificate, i.e. its organisation id. */
  rhorg: string;
  /** The inventory id from the host-conf URL path. */
  rhinvid: string;
  /** The FQDN from the host-conf URL path. */
  rhfqdn: string;
  /** The id of the domain that issued the token. */
  rhdomid: string;
}

/** One signature of a general-form token. */
export interface HostTokenSignature {
  /** base64url of the protected header's JSON. */
  protected: string;
  /** base64url of the ES256 signature (R || S, 64 bytes). */
  signature: string;
}

/** A host token in general JWS JSON serialization; the form servers issue. */
export interface GeneralHostTokenJws {
  /** base64url of the claims' JSON. */
  payload: string;
  signatures: HostTokenSignature[];
}

/** A host token in flattened JWS JSON serialization; accepted, never issued. */
export interface FlattenedHostTokenJws extends HostTokenSignature {
  payload: string;
}
