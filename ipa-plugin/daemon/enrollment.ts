// The enrollment decisions: host-conf hands out a host token, register creates the host entry
// with a one-time password. HTTP-free: the server turns outcomes into responses and audit lines.
import type { ErrorCode } from '../../protocol/errors.js';
import { HOST_TOKEN_LEEWAY_SECONDS } from '../../protocol/token.js';
import {
  DOMAIN_TYPE,
  type EnrollmentServer,
  type HostConfRequest,
  type HostConfResponse,
  type RegisterRequest,
  type RegisterResponse,
} from '../../protocol/messages.js';
import { DirectoryError } from '../ldap/errors.js';
import type { Registration } from '../domain/registration.js';
import { checkFqdn, inRealmDomains } from './fqdn.js';
import {
  signHostToken,
  type SigningKey,
  TokenError,
  type TokenSubject,
  verifyHostToken,
} from './host-token.js';
import type { ClientIdentity } from './identity.js';
import { generateOtp } from './otp.js';
import type { DomainState, EnrollmentStore } from './store.js';

/** A decision: the response to send, or a refusal with the caller's code and the log's reason. */
export type Outcome<T> =
  | { ok: true; body: T; reason: string }
  | { ok: false; code: ErrorCode; reason: string; detail?: string };

export interface EnrollmentContext {
  store: EnrollmentStore;
  /** This server's FQDN, named in register responses. */
  serverFqdn: string;
  realm: string;
  domain: string;
  caBundle: string;
  signingKeys: SigningKey[];
  now: () => Date;
}

export interface HostRequest {
  identity: ClientIdentity;
  inventoryId: string;
  fqdn: string;
}

const refuse = (code: ErrorCode, reason: string, detail?: string): Outcome<never> =>
  detail === undefined ? { ok: false, code, reason } : { ok: false, code, reason, detail };

/** host-conf: checks the domain, organisation and name, then signs a host token. */
export async function hostConf(
  ctx: EnrollmentContext,
  req: HostRequest,
  body: HostConfRequest,
): Promise<Outcome<HostConfResponse>> {
  const state = await ctx.store.domain();
  const checked = await checkPolicy(ctx, state, req, body);
  if (!checked.ok) {
    return checked;
  }

  // Keys are read once at start, but a key revoked or retired since then no longer signs.
  const states = await ctx.store.keyStates(ctx.now());
  const keys = ctx.signingKeys.filter((k) => states.get(k.kid) === 'active');
  if (keys.length === 0) {
    return refuse('unavailable', 'no-signing-key');
  }

  const { registration: reg, fqdn } = checked.body;
  const subject = tokenSubject(req, fqdn, reg.domainId);
  const { token } = await signHostToken(subject, keys, ctx.now());
  return {
    ok: true,
    reason: 'token-issued',
    body: hostConfBody(ctx, state, reg, token, body.location),
  };
}

function hostConfBody(
  ctx: EnrollmentContext,
  state: DomainState,
  reg: Registration,
  token: string,
  location: string | undefined,
): HostConfResponse {
  return {
    auto_enrollment_enabled: reg.autoEnrollment,
    domain_id: reg.domainId,
    domain_name: ctx.domain,
    domain_type: DOMAIN_TYPE,
    token,
    'rhel-idm': {
      realm_name: ctx.realm,
      cabundle: ctx.caBundle,
      enrollment_servers: orderServers(state.servers, location),
    },
  };
}

/** Servers of the requested location first, then the others; each group sorted by name. */
export function orderServers(
  servers: DomainState['servers'],
  location: string | undefined,
): EnrollmentServer[] {
  const byName = [...servers].sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  const local = byName.filter((s) => location !== undefined && s.location === location);
  const rest = byName.filter((s) => !local.includes(s));
  return [...local, ...rest].map((s) =>
    s.location ? { fqdn: s.fqdn, location: s.location } : { fqdn: s.fqdn },
  );
}

function tokenSubject(req: HostRequest, fqdn: string, domainId: string): TokenSubject {
  return {
    sub: req.identity.subscriptionId,
    rhorg: req.identity.orgId,
    rhinvid: req.inventoryId,
    rhfqdn: fqdn,
    rhdomid: domainId,
  };
}

// The checks both endpoints make, in order, each with its own reason for the audit log.
async function checkPolicy(
  ctx: EnrollmentContext,
  state: DomainState,
  req: HostRequest,
  body: { domain_id?: string; domain_name?: string },
): Promise<Outcome<{ registration: Registration; fqdn: string }>> {
  const reg = state.registration;
  if (!reg) {
    return refuse('not-authorized', 'domain-not-registered');
  }

  if (!reg.autoEnrollment) {
    return refuse('not-authorized', 'auto-enrollment-disabled');
  }

  if (body.domain_id !== undefined && body.domain_id.toLowerCase() !== reg.domainId.toLowerCase()) {
    return refuse('not-authorized', 'domain-id-mismatch');
  }

  if (body.domain_name !== undefined && body.domain_name !== ctx.domain) {
    return refuse('not-authorized', 'domain-name-mismatch');
  }

  if (req.identity.orgId !== reg.orgId) {
    return refuse('not-authorized', 'org-mismatch');
  }

  return checkName(ctx, reg, req.fqdn);
}

async function checkName(
  ctx: EnrollmentContext,
  reg: Registration,
  raw: string,
): Promise<Outcome<{ registration: Registration; fqdn: string }>> {
  const name = checkFqdn(raw);
  if (!name.ok) {
    return refuse('invalid-fqdn', 'fqdn-invalid', name.detail);
  }

  const domains = reg.realmDomains.length > 0 ? reg.realmDomains : [ctx.domain];
  if (!inRealmDomains(name.fqdn, domains)) {
    return refuse('not-authorized', 'fqdn-outside-realm-domains');
  }

  if (await ctx.store.isIpaServer(name.fqdn)) {
    return refuse('not-authorized', 'fqdn-is-ipa-server');
  }

  return { ok: true, reason: 'policy-ok', body: { registration: reg, fqdn: name.fqdn } };
}

/** register: validates the token, then creates or updates the host entry with a fresh OTP. */
export async function register(
  ctx: EnrollmentContext,
  req: HostRequest,
  body: RegisterRequest,
): Promise<Outcome<RegisterResponse>> {
  const state = await ctx.store.domain();
  const checked = await checkPolicy(ctx, state, req, body);
  if (!checked.ok) {
    return checked;
  }

  const { registration: reg, fqdn } = checked.body;
  const token = await checkToken(ctx, body.token, tokenSubject(req, fqdn, reg.domainId));
  if (!token.ok) {
    return token;
  }

  const otp = generateOtp();
  const written = await writeHost(ctx, req, fqdn, reg, otp);
  if (!written.ok) {
    return written;
  }

  const response: RegisterResponse = {
    status: 'ok',
    kdc_cabundle: ctx.caBundle,
    otp,
    enrollment_server: ctx.serverFqdn,
  };
  return { ok: true, reason: written.reason, body: response };
}

async function checkToken(
  ctx: EnrollmentContext,
  token: string,
  expected: TokenSubject,
): Promise<Outcome<null>> {
  const now = ctx.now();
  let jti: string;
  let exp: number;
  try {
    const claims = await verifyHostToken(
      token,
      await ctx.store.verificationKeys(now),
      expected,
      now,
    );
    ({ jti, exp } = claims);
  } catch (err) {
    if (err instanceof TokenError) {
      const claim = err.claim ? `:${err.claim}` : '';
      return refuse('invalid-token', `token-${err.reason}${claim}`);
    }

    throw err;
  }

  // One registration per token, on every server: the id is recorded in the replicated tree.
  if (!(await ctx.store.useToken(jti, new Date((exp + HOST_TOKEN_LEEWAY_SECONDS) * 1000)))) {
    return refuse('invalid-token', 'token-replayed');
  }

  return { ok: true, reason: 'token-ok', body: null };
}

async function writeHost(
  ctx: EnrollmentContext,
  req: HostRequest,
  fqdn: string,
  reg: Registration,
  otp: string,
): Promise<Outcome<null>> {
  const { subject } = req.identity;
  const owned = (await ctx.store.hostsBySubject(subject)).filter((h) => h.fqdn !== fqdn);
  if (owned.length > 0) {
    const other = owned[0]!.fqdn;
    return refuse(
      'host-conflict',
      'certificate-owns-other-host',
      `this certificate is already enrolled as ${other}`,
    );
  }

  const existing = await ctx.store.hostByFqdn(fqdn);
  if (!existing) {
    return addHost(ctx, req, fqdn, otp);
  }

  if (existing.certSubject !== subject) {
    return refuse(
      'host-conflict',
      existing.certSubject ? 'fqdn-owned-by-other-certificate' : 'fqdn-taken-by-unmanaged-host',
    );
  }

  if (!existing.enrolled) {
    await ctx.store.setOtp(existing.dn, otp);
    return { ok: true, reason: 'otp-renewed', body: null };
  }

  if (!reg.allowRebuild) {
    return refuse(
      'host-conflict',
      'host-already-enrolled',
      'the host is already enrolled and rebuilds are not allowed',
    );
  }

  await ctx.store.resetEnrolledHost(existing.dn, otp);
  return { ok: true, reason: 'host-rebuilt', body: null };
}

async function addHost(
  ctx: EnrollmentContext,
  req: HostRequest,
  fqdn: string,
  otp: string,
): Promise<Outcome<null>> {
  try {
    await ctx.store.addHost({
      fqdn,
      otp,
      subscriptionId: req.identity.subscriptionId,
      inventoryId: req.inventoryId,
      certSubject: req.identity.subject,
      orgId: req.identity.orgId,
    });
    return { ok: true, reason: 'host-added', body: null };
  } catch (err) {
    // Another registration of the same name, or of the same certificate, won the race.
    if (err instanceof DirectoryError && err.code === 'already-exists') {
      return refuse('host-conflict', 'fqdn-added-concurrently');
    }

    if (err instanceof DirectoryError && err.code === 'constraint-violation') {
      return refuse('host-conflict', 'certificate-added-concurrently');
    }

    throw err;
  }
}
