// Request and response bodies of the enrollment endpoint, as TypeScript types and as JSON
// schemas (no unknown fields anywhere). Compatible with ipa-hcc / idmsvc where they overlap.

export const DOMAIN_TYPE = 'rhel-idm';

/** POST /hcc/host-conf/{inventory_id}/{fqdn}: every field optional. */
export interface HostConfRequest {
  domain_id?: string;
  domain_name?: string;
  domain_type?: typeof DOMAIN_TYPE;
  /** IPA location of the host; servers of that location are listed first. */
  location?: string;
}

export interface EnrollmentServer {
  fqdn: string;
  location?: string;
}

export interface HostConfResponse {
  auto_enrollment_enabled: boolean;
  domain_id: string;
  domain_name: string;
  domain_type: typeof DOMAIN_TYPE;
  /** Host token: a JWS in JSON serialization, as a string. */
  token: string;
  'rhel-idm': {
    realm_name: string;
    /** PEM certificates of the IPA CA. */
    cabundle: string;
    enrollment_servers: EnrollmentServer[];
    ipa_client_install_args?: string[];
    automount_location?: string;
  };
}

/** POST /hcc/{inventory_id}/{fqdn}. */
export interface RegisterRequest {
  domain_type: typeof DOMAIN_TYPE;
  domain_name: string;
  domain_id: string;
  token: string;
}

export interface RegisterResponse {
  status: 'ok';
  /** PEM certificates the KDC's certificate chains to (the IPA CA). */
  kdc_cabundle: string;
  /** One-time password for ipa-client-install --password. */
  otp: string;
  /** The IPA server whose directory holds the new host entry: pass it to --server. */
  enrollment_server: string;
}

/** GET /hcc/signing_keys */
export interface SigningKeysResponse {
  /** Public JWKs (JSON text each) of every enabled, unexpired key. */
  keys: string[];
  revoked_kids: string[];
}

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const DNS_NAME =
  '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

export const hostConfRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    domain_id: { type: 'string', pattern: UUID },
    domain_name: { type: 'string', pattern: DNS_NAME },
    domain_type: { type: 'string', const: DOMAIN_TYPE },
    location: { type: 'string', pattern: DNS_LABEL },
  },
} as const;

export const registerRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['domain_type', 'domain_name', 'domain_id', 'token'],
  properties: {
    domain_id: { type: 'string', pattern: UUID },
    domain_name: { type: 'string', pattern: DNS_NAME },
    domain_type: { type: 'string', const: DOMAIN_TYPE },
    token: { type: 'string', minLength: 1, maxLength: 8192 },
  },
} as const;

/** Path parameters of both POST endpoints. */
export const hostPathSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inventory_id', 'fqdn'],
  properties: {
    inventory_id: { type: 'string', pattern: UUID },
    fqdn: { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;
