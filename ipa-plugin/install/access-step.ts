// Install step: what the enrollment service may do, expressed the way FreeIPA expresses it:
// permissions (each with the ACI it stands for), privileges grouping them, a role, and the
// service principal that is a member of the role.
import type { Directory } from '../ldap/directory.js';
import type { Layout } from '../layout.js';
import { ROLE } from '../layout.js';
import { type Change, ensureEntry, ensureValues } from './ensure.js';

interface Permission {
  name: string;
  rights: string[];
  /** Entry that carries the ACI. */
  location: (l: Layout) => string;
  target?: (l: Layout) => string;
  filter?: (l: Layout) => string;
  attrs?: string[];
}

const HOST_ATTRS = ['HCCOrgId', 'HCCSubscriptionId', 'HCCInventoryId', 'HCCCertSubject'];
// Everything a host entry made by the daemon holds (as `ipa host-add --random` writes it, plus
// the HCC attributes): an add carrying anything else (an ACI, memberOf, Kerberos names,
// delegation rights) is refused.
const NEW_HOST_ATTRS = [
  'objectClass',
  'fqdn',
  'cn',
  'serverHostName',
  'managedBy',
  'ipaUniqueID',
  'userPassword',
  ...HOST_ATTRS,
];
// 389-ds does not apply targetattr to an add, so the add permission's filter refuses entries that
// carry what a host made by the daemon never has: access rules, group memberships, Kerberos
// names and keys, delegation rights, certificates, SSH keys, or a class that allows anything.
const FORBIDDEN_ON_ADD = [
  'aci',
  'memberOf',
  'krbPrincipalName',
  'krbCanonicalName',
  'ipaKrbPrincipalAlias',
  'krbPrincipalKey',
  'ipaAllowedToPerform',
  'userCertificate',
  'ipaSshPubKey',
  'memberPrincipal',
  'ipaAssignedIdView',
  'krbTicketFlags',
  'krbPrincipalAuthInd',
  'member',
];
const NEW_HOST_FILTER =
  '(&(objectclass=ipahost)(objectclass=hcchost)(!(objectclass=extensibleObject))' +
  FORBIDDEN_ON_ADD.map((a) => `(!(${a}=*))`).join('') +
  ')';
const KEY_ATTRS = [
  'cn',
  'objectClass',
  'HCCPublicJWK',
  'ipaTokenNotAfter',
  'ipaEnabledFlag',
  'ipaKeyUsage',
  'algorithmId',
  'hccTsKeyServer',
  'hccTsKeyCreated',
  'hccTsKeyRetired',
];

// The enrollment service changes only hosts enrolled through HCC, never an IPA server's entry.
const hccHostNotServer = (l: Layout) =>
  `(&(objectclass=ipahost)(objectclass=hcchost)(!(memberOf=${l.ipaservers})))`;

export const PERMISSIONS: readonly Permission[] = [
  {
    name: 'HCC Enrollment - Add Hosts',
    rights: ['add'],
    location: (l) => l.computers,
    target: (l) => `fqdn=*,${l.computers}`,
    filter: () => NEW_HOST_FILTER,
    attrs: NEW_HOST_ATTRS,
  },
  {
    // A new one-time password, and for a rebuild the old keys dropped; nothing else.
    name: 'HCC Enrollment - Modify Host Enrollment',
    rights: ['write'],
    location: (l) => l.computers,
    filter: hccHostNotServer,
    attrs: ['userPassword', 'krbPrincipalKey', 'krbLastPwdChange'],
  },
  {
    name: 'HCC Enrollment - Read Hosts',
    rights: ['read', 'search', 'compare'],
    location: (l) => l.computers,
    filter: () => '(objectclass=ipahost)',
    attrs: [
      ...HOST_ATTRS,
      'objectClass',
      'fqdn',
      'cn',
      'serverHostName',
      'krbPrincipalName',
      'krbCanonicalName',
      'memberOf',
      'ipaUniqueID',
      'managedBy',
      'description',
    ],
  },
  {
    // Search without read: the service can test whether a host has keys, never see them.
    name: 'HCC Enrollment - Check Host Keys',
    rights: ['search', 'compare'],
    location: (l) => l.computers,
    filter: () => '(objectclass=ipahost)',
    attrs: ['krbPrincipalKey', 'userPassword'],
  },
  {
    name: 'HCC Enrollment - Read Configuration',
    rights: ['read', 'search', 'compare'],
    location: (l) => l.etc,
    filter: () =>
      '(|(objectclass=HCCConfig)(objectclass=hccTsDomainConfig)(objectclass=ipaConfigObject)(objectclass=domainRelatedObject)(objectclass=nsContainer))',
    attrs: [
      'cn',
      'objectClass',
      'HCCOrgId',
      'HCCDomainId',
      'hccTsAutoEnrollment',
      'hccTsAllowRebuild',
      'hccTsRegisteredAt',
      'hccTsRealmDomain',
      'associatedDomain',
      'ipaConfigString',
      'ipaLocation',
      'ipaReplTopoManagedSuffix',
    ],
  },
  {
    // Replay protection: a used token's id is added once; expired ones are deleted.
    name: 'HCC Enrollment - Record Used Tokens',
    rights: ['read', 'search', 'compare', 'add', 'delete'],
    location: (l) => l.tokens,
    target: (l) => `cn=*,${l.tokens}`,
    attrs: ['cn', 'objectClass', 'hccTsTokenExpires'],
  },
  {
    // Keys are made, rotated and revoked by the admin command as Directory Manager; the daemon
    // only reads them, so a compromised daemon cannot revive a revoked key or publish its own.
    name: 'HCC Enrollment - Read Signing Keys',
    rights: ['read', 'search', 'compare'],
    location: (l) => l.jwk,
    target: (l) => `cn=*,${l.jwk}`,
    attrs: KEY_ATTRS,
  },
];

interface Privilege {
  name: string;
  description: string;
  permissions: string[];
}

export const PRIVILEGES: readonly Privilege[] = [
  {
    name: 'HCC Host Enrollment',
    description: 'Add hosts enrolled by ipa-hcc-ts and manage their enrollment attributes',
    permissions: PERMISSIONS.filter((p) => p.name !== 'HCC Enrollment - Read Signing Keys').map(
      (p) => p.name,
    ),
  },
  {
    name: 'HCC Signing Key Readers',
    description: 'Read the public keys that sign host tokens',
    permissions: ['HCC Enrollment - Read Signing Keys', 'HCC Enrollment - Read Configuration'],
  },
];

/** The ACI a permission stands for, in the form FreeIPA generates for managed permissions. */
export function permissionAci(p: Permission, l: Layout): string {
  const parts: string[] = [];
  if (p.attrs) {
    parts.push(`(targetattr = "${p.attrs.join(' || ')}")`);
  }

  if (p.target) {
    parts.push(`(target = "ldap:///${p.target(l)}")`);
  }

  if (p.filter) {
    parts.push(`(targetfilter = "${p.filter(l)}")`);
  }

  const rule = `groupdn = "ldap:///${l.permissionDn(p.name)}"`;
  parts.push(`(version 3.0;acl "permission:${p.name}";allow (${p.rights.join(',')}) ${rule};)`);
  return parts.join('');
}

async function ensurePermission(dir: Directory, l: Layout, p: Permission): Promise<Change[]> {
  const attrs: Record<string, string | string[]> = {
    objectClass: ['top', 'groupOfNames', 'ipaPermission', 'ipaPermissionV2'],
    cn: p.name,
    ipaPermissionType: ['SYSTEM', 'V2', 'MANAGED'],
    ipaPermBindRuleType: 'permission',
    ipaPermLocation: p.location(l),
    ipaPermRight: p.rights,
  };
  if (p.attrs) {
    attrs.ipaPermDefaultAttr = p.attrs;
  }

  if (p.target) {
    attrs.ipaPermTarget = p.target(l);
  }

  if (p.filter) {
    attrs.ipaPermTargetFilter = p.filter(l);
  }

  return [
    ...(await ensureEntry(dir, l.permissionDn(p.name), attrs, `permission "${p.name}"`)),
    ...(await ensureAci(dir, p.location(l), p.name, permissionAci(p, l))),
  ];
}

// The permission's ACI, replacing an older form of it (an upgrade that narrowed the permission).
async function ensureAci(
  dir: Directory,
  location: string,
  name: string,
  aci: string,
): Promise<Change[]> {
  const entry = await dir.get(location, ['aci']);
  const marker = `acl "permission:${name}"`;
  const stale = (entry?.all('aci') ?? []).filter((a) => a.includes(marker) && a !== aci);
  if (stale.length === 0) {
    return ensureValues(dir, location, 'aci', [aci], `ACI "permission:${name}"`);
  }

  await dir.modify(location, [
    { operation: 'delete', attribute: 'aci', values: stale },
    { operation: 'add', attribute: 'aci', values: [aci] },
  ]);
  return [`Updated ACI "permission:${name}"`];
}

async function ensurePrivilege(dir: Directory, l: Layout, p: Privilege): Promise<Change[]> {
  const dn = l.privilegeDn(p.name);
  const changes = await ensureEntry(
    dir,
    dn,
    {
      objectClass: ['top', 'groupOfNames', 'nestedGroup'],
      cn: p.name,
      description: p.description,
      member: l.role,
    },
    `privilege "${p.name}"`,
  );
  changes.push(...(await ensureValues(dir, dn, 'member', [l.role], `privilege "${p.name}"`)));
  for (const name of p.permissions) {
    const label = `permission "${name}" in privilege "${p.name}"`;
    changes.push(...(await ensureValues(dir, l.permissionDn(name), 'member', [dn], label)));
  }

  return changes;
}

/** Role, privileges and permissions of the enrollment service. */
export async function ensureAccess(dir: Directory, l: Layout): Promise<Change[]> {
  const changes = await ensureEntry(
    dir,
    l.role,
    {
      objectClass: ['top', 'groupOfNames', 'nestedGroup'],
      cn: ROLE,
      description: 'Enrollment servers of ipa-hcc-ts: add hosts, manage HCC attributes and keys',
    },
    `role "${ROLE}"`,
  );
  for (const p of PERMISSIONS) {
    changes.push(...(await ensurePermission(dir, l, p)));
  }

  for (const p of PRIVILEGES) {
    changes.push(...(await ensurePrivilege(dir, l, p)));
  }

  return changes;
}
