// What the enrollment daemon reads and writes in the directory, through the LDAP data layer.
import { parsePublicSigningJwk } from '../../protocol/jwk.js';
import { listKeys } from '../domain/keys.js';
import { listServers, readRegistration, type Registration } from '../domain/registration.js';
import { formatGeneralizedTime, parseGeneralizedTime } from '../domain/time.js';
import type { Attributes, Directory } from '../ldap/directory.js';
import { DirectoryError } from '../ldap/errors.js';
import { and, eq, present } from '../ldap/filter.js';
import type { Layout } from '../layout.js';
import type { VerificationKey } from './host-token.js';

export interface DomainState {
  registration: Registration | undefined;
  servers: Array<{ fqdn: string; location: string | undefined }>;
}

export interface HostRecord {
  dn: string;
  fqdn: string;
  certSubject: string | undefined;
  /** ipa-join has run: the host has Kerberos keys. */
  enrolled: boolean;
}

export interface NewHost {
  fqdn: string;
  otp: string;
  subscriptionId: string;
  inventoryId: string;
  certSubject: string;
  orgId: string;
}

const HOST_ATTRS = ['fqdn', 'HCCCertSubject', 'objectClass'];

/** The daemon's directory operations for one IPA domain. */
export class EnrollmentStore {
  constructor(
    readonly dir: Directory,
    readonly layout: Layout,
  ) {}

  /** The registration and the enrollment servers with their locations. */
  async domain(): Promise<DomainState> {
    const registration = await readRegistration(this.dir, this.layout);
    const servers = (await listServers(this.dir, this.layout))
      .filter((s) => s.enrollment)
      .map((s) => ({ fqdn: s.fqdn, location: s.location }));
    return { registration, servers };
  }

  /** Every published key, in the form the token verifier takes. Malformed JWKs are skipped. */
  async verificationKeys(now = new Date()): Promise<VerificationKey[]> {
    const keys: VerificationKey[] = [];
    for (const k of await listKeys(this.dir, this.layout, now)) {
      const jwk = await parsePublicSigningJwk(k.jwk).catch(() => undefined);
      if (jwk && jwk.kid === k.kid) {
        keys.push({ jwk, enabled: k.state !== 'revoked', notAfter: k.expires });
      }
    }

    return keys;
  }

  /** The state of every published key by kid (active, retired, revoked, expired). */
  async keyStates(now = new Date()): Promise<Map<string, string>> {
    return new Map((await listKeys(this.dir, this.layout, now)).map((k) => [k.kid, k.state]));
  }

  /** The host with that (lower-case) name, or undefined. */
  async hostByFqdn(fqdn: string): Promise<HostRecord | undefined> {
    const entry = await this.dir.get(this.layout.hostDn(fqdn), HOST_ATTRS);
    return entry
      ? this.#record(entry.dn, entry.first('fqdn') ?? fqdn, entry.first('HCCCertSubject'))
      : undefined;
  }

  /** Hosts registered with that certificate subject (at most one, by the uniqueness plugin). */
  async hostsBySubject(subject: string): Promise<HostRecord[]> {
    const found = await this.dir.search({
      base: this.layout.computers,
      scope: 'one',
      filter: eq('HCCCertSubject', subject),
      attributes: HOST_ATTRS,
    });
    return Promise.all(
      found.map((e) => this.#record(e.dn, e.first('fqdn') ?? '', e.first('HCCCertSubject'))),
    );
  }

  async #record(dn: string, fqdn: string, certSubject: string | undefined): Promise<HostRecord> {
    const withKeys = await this.dir.search({
      base: dn,
      scope: 'base',
      filter: and(eq('objectClass', 'ipahost'), present('krbPrincipalKey')),
      attributes: ['1.1'],
    });
    return { dn, fqdn: fqdn.toLowerCase(), certSubject, enrolled: withKeys.length > 0 };
  }

  /** True when the name is an IPA server's (under cn=masters). */
  async isIpaServer(fqdn: string): Promise<boolean> {
    return this.dir.exists(this.layout.masterDn(fqdn));
  }

  /** Adds the host entry as `ipa host-add --random --force` writes it, plus the HCC attributes. */
  async addHost(host: NewHost): Promise<string> {
    const dn = this.layout.hostDn(host.fqdn);
    await this.dir.add(dn, hostEntry(dn, host));
    return dn;
  }

  /** Replaces the one-time password of a host that has not joined yet. */
  async setOtp(dn: string, otp: string): Promise<void> {
    await this.dir.modify(dn, [{ operation: 'replace', attribute: 'userPassword', values: [otp] }]);
  }

  /** For a rebuilt host: drops its Kerberos keys (as `ipa host-disable` does) and sets a new OTP. */
  async resetEnrolledHost(dn: string, otp: string): Promise<void> {
    await this.dir.modify(dn, [
      { operation: 'replace', attribute: 'krbPrincipalKey', values: [] },
      { operation: 'replace', attribute: 'krbLastPwdChange', values: [] },
      { operation: 'replace', attribute: 'userPassword', values: [otp] },
    ]);
  }

  /** Records a token id as used; false when it was used already (replay). */
  async useToken(jti: string, expires: Date): Promise<boolean> {
    try {
      await this.dir.add(this.layout.tokenDn(jti), {
        objectClass: ['top', 'hccTsUsedToken'],
        cn: jti,
        hccTsTokenExpires: formatGeneralizedTime(expires),
      });
      return true;
    } catch (err) {
      if (err instanceof DirectoryError && err.code === 'already-exists') {
        return false;
      }

      throw err;
    }
  }

  /** Deletes used-token records whose token expired before `before`; returns how many. */
  async purgeUsedTokens(before: Date): Promise<number> {
    const entries = await this.dir.search({
      base: this.layout.tokens,
      scope: 'one',
      filter: eq('objectClass', 'hccTsUsedToken'),
      attributes: ['hccTsTokenExpires'],
    });
    const stale = entries.filter(
      (e) => parseGeneralizedTime(e.first('hccTsTokenExpires') ?? '') < before,
    );
    for (const e of stale) {
      await this.dir.delete(e.dn).catch(() => undefined);
    }

    return stale.length;
  }
}

function hostEntry(dn: string, h: NewHost): Attributes {
  // With a one-time password, IPA writes no Kerberos principal or Kerberos object classes:
  // ipa-join adds them when the host joins.
  return {
    objectClass: [
      'top',
      'ipaobject',
      'nshost',
      'ipahost',
      'pkiuser',
      'ipaservice',
      'ieee802device',
      'ipasshhost',
      'HCCHost',
    ],
    fqdn: h.fqdn,
    cn: h.fqdn,
    serverHostName: h.fqdn.split('.')[0]!,
    managedBy: dn,
    ipaUniqueID: 'autogenerate',
    userPassword: h.otp,
    HCCSubscriptionId: h.subscriptionId,
    HCCInventoryId: h.inventoryId,
    HCCCertSubject: h.certSubject,
    HCCOrgId: h.orgId,
  };
}
