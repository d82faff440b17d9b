// Where the product's data and IPA's own entries live in the tree below the suffix.
import { childDn, dnOf } from './ldap/dn.js';

/** Name of the host group that enrolled hosts join through the automember rule. */
export const HOSTGROUP = 'hcc-enrollment';
/** Name of the role the enrollment service is a member of. */
export const ROLE = 'HCC Enrollment Administrators';
/** Name of this server's service entry under cn=masters (its "role" in `ipa server-role-find`). */
export const MASTER_SERVICE = 'HCC';
/** Service principal name of the enrollment daemon, without host and realm. */
export const SERVICE_NAME = 'hcc-enrollment';

/** DNs of every entry the product reads or writes, for one suffix. */
export function layout(suffix: string) {
  const etc = `cn=etc,${suffix}`;
  const accounts = `cn=accounts,${suffix}`;
  const hcc = `cn=hcc,${etc}`;
  const pbac = `cn=pbac,${suffix}`;
  return {
    suffix,
    etc,
    ipaConfig: `cn=ipaConfig,${etc}`,
    realmDomains: `cn=Realm Domains,cn=ipa,${etc}`,
    masters: `cn=masters,cn=ipa,${etc}`,
    locations: `cn=locations,${etc}`,
    hcc,
    jwk: `cn=jwk,${hcc}`,
    tokens: `cn=tokens,${hcc}`,
    computers: `cn=computers,${accounts}`,
    services: `cn=services,${accounts}`,
    hostgroups: `cn=hostgroups,${accounts}`,
    hostgroup: `cn=${HOSTGROUP},cn=hostgroups,${accounts}`,
    ipaservers: `cn=ipaservers,cn=hostgroups,${accounts}`,
    automemberHostgroup: `cn=Hostgroup,cn=automember,${etc}`,
    automemberRule: `cn=${HOSTGROUP},cn=Hostgroup,cn=automember,${etc}`,
    roles: `cn=roles,${accounts}`,
    role: `cn=${ROLE},cn=roles,${accounts}`,
    privileges: `cn=privileges,${pbac}`,
    permissions: `cn=permissions,${pbac}`,
    hostDn: (fqdn: string) => childDn('fqdn', fqdn, `cn=computers,${accounts}`),
    masterDn: (fqdn: string) => childDn('cn', fqdn, `cn=masters,cn=ipa,${etc}`),
    masterServiceDn: (fqdn: string) =>
      dnOf(
        [
          ['cn', MASTER_SERVICE],
          ['cn', fqdn],
        ],
        `cn=masters,cn=ipa,${etc}`,
      ),
    jwkDn: (kid: string) => childDn('cn', kid, `cn=jwk,${hcc}`),
    tokenDn: (jti: string) => childDn('cn', jti, `cn=tokens,${hcc}`),
    privilegeDn: (name: string) => childDn('cn', name, `cn=privileges,${pbac}`),
    permissionDn: (name: string) => childDn('cn', name, `cn=permissions,${pbac}`),
    serviceDn: (principal: string) =>
      childDn('krbprincipalname', principal, `cn=services,${accounts}`),
  };
}

export type Layout = ReturnType<typeof layout>;
