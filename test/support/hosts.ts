// Host entries for tests, shaped as IPA's host-add writes them.
import type { Directory } from '../../ipa-plugin/ldap/directory.js';
import type { Layout } from '../../ipa-plugin/layout.js';
import { trackEntry } from '../harness/directory.js';

export interface HccAttributes {
  subscriptionId?: string;
  certSubject?: string;
  orgId?: string;
  inventoryId?: string;
}

/** Adds a host entry (optionally with HCC attributes) and returns its DN. */
export async function addHost(
  dir: Directory,
  l: Layout,
  fqdn: string,
  hcc: HccAttributes = {},
): Promise<string> {
  const dn = l.hostDn(fqdn);
  const attrs: Record<string, string | string[]> = {
    objectClass: ['top', 'ipaobject', 'nshost', 'ipahost', 'pkiuser', 'ipaservice'],
    fqdn,
    cn: fqdn,
    serverHostName: fqdn.split('.')[0]!,
    ipaUniqueID: 'autogenerate',
  };
  if (Object.keys(hcc).length > 0) {
    (attrs.objectClass as string[]).push('HCCHost');
  }

  const map: Array<[keyof HccAttributes, string]> = [
    ['subscriptionId', 'HCCSubscriptionId'],
    ['certSubject', 'HCCCertSubject'],
    ['orgId', 'HCCOrgId'],
    ['inventoryId', 'HCCInventoryId'],
  ];
  for (const [key, attr] of map) {
    if (hcc[key] !== undefined) {
      attrs[attr] = hcc[key];
    }
  }

  trackEntry(dn);
  await dir.add(dn, attrs);
  return dn;
}
