// Install step: the enrollment service principal hcc-enrollment/<fqdn>, a member of the role,
// with a password for simple binds kept in a root-only file.
import { randomBytes } from 'node:crypto';
import { Directory } from '../ldap/directory.js';
import { readPasswordFile, simpleBindWithSecret } from '../ldap/bind.js';
import { type Layout, SERVICE_NAME } from '../layout.js';
import { writeSecretFile } from '../../common/secret-file.js';
import { type Change, ensureEntry, ensureValues } from './ensure.js';

export interface ServiceTarget {
  fqdn: string;
  realm: string;
  passwordFile: string;
  /** URL the service binds to when its password is checked. */
  ldapUrl: string;
  connect?: Partial<ConstructorParameters<typeof Directory>[0]>;
}

/** Principal name of this server's enrollment service. */
export function servicePrincipal(fqdn: string, realm: string): string {
  return `${SERVICE_NAME}/${fqdn}@${realm}`;
}

/** The service entry as IPA's service-add writes it, plus role membership and bind password. */
export async function ensureService(
  dir: Directory,
  l: Layout,
  t: ServiceTarget,
): Promise<Change[]> {
  const principal = servicePrincipal(t.fqdn, t.realm);
  const dn = l.serviceDn(principal);
  const changes = await ensureEntry(
    dir,
    dn,
    {
      objectClass: [
        'top',
        'ipaobject',
        'ipaservice',
        'pkiuser',
        'ipakrbprincipal',
        'krbprincipal',
        'krbprincipalaux',
        'krbTicketPolicyAux',
      ],
      krbPrincipalName: principal,
      krbCanonicalName: principal,
      ipaKrbPrincipalAlias: principal,
      managedBy: l.hostDn(t.fqdn),
      ipaUniqueID: 'autogenerate',
    },
    `service principal ${principal}`,
  );
  changes.push(...(await ensureValues(dir, l.role, 'member', [dn], `role member ${principal}`)));
  changes.push(...(await ensurePassword(dir, dn, principal, t)));
  return changes;
}

// The password is (re)set only when the file is missing or no longer lets the service bind.
async function ensurePassword(
  dir: Directory,
  dn: string,
  principal: string,
  t: ServiceTarget,
): Promise<Change[]> {
  if (await passwordWorks(dn, t)) {
    return [];
  }

  const password = randomBytes(24).toString('base64url');
  const entry = await dir.get(dn, ['objectClass']);
  // Principals carry no password attribute; simpleSecurityObject adds one for simple binds.
  const addClass = entry?.hasValue('objectClass', 'simpleSecurityObject')
    ? []
    : [{ operation: 'add' as const, attribute: 'objectClass', values: ['simpleSecurityObject'] }];
  // The file first: if it cannot be written, the directory keeps the password that still works.
  await writeSecretFile(t.passwordFile, password);
  await dir.modify(dn, [
    ...addClass,
    { operation: 'replace', attribute: 'userPassword', values: [password] },
  ]);
  return [`Set the bind password of ${principal} (stored in ${t.passwordFile})`];
}

async function passwordWorks(dn: string, t: ServiceTarget): Promise<boolean> {
  let password: string;
  try {
    password = await readPasswordFile(t.passwordFile);
  } catch {
    return false;
  }

  const probe = new Directory({
    ...t.connect,
    url: t.ldapUrl,
    bind: simpleBindWithSecret(dn, password),
  });
  try {
    await probe.connect();
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}
