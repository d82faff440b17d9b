// Install step: containers, the enrollment host group with its automember rule, and this
// server's service entry under cn=masters.
import type { Directory } from '../ldap/directory.js';
import { eq } from '../ldap/filter.js';
import { firstRdnValue } from '../ldap/dn.js';
import { HOSTGROUP, type Layout } from '../layout.js';
import { type Change, ensureEntry, ensureValues } from './ensure.js';

/** cn=hcc below cn=etc, with cn=jwk (public keys) and cn=tokens (used host tokens). */
export async function ensureContainers(dir: Directory, l: Layout): Promise<Change[]> {
  const container = (cn: string) => ({ objectClass: ['top', 'nsContainer'], cn });
  return [
    ...(await ensureEntry(dir, l.hcc, container('hcc'), `container ${l.hcc}`)),
    ...(await ensureEntry(dir, l.jwk, container('jwk'), `container ${l.jwk}`)),
    ...(await ensureEntry(dir, l.tokens, container('tokens'), `container ${l.tokens}`)),
  ];
}

/** The host group enrolled hosts land in, written as IPA's hostgroup-add writes it. */
export async function ensureHostgroup(dir: Directory, l: Layout): Promise<Change[]> {
  return ensureEntry(
    dir,
    l.hostgroup,
    {
      objectClass: ['top', 'groupOfNames', 'nestedGroup', 'ipaobject', 'ipahostgroup'],
      cn: HOSTGROUP,
      description: 'Hosts enrolled automatically by ipa-hcc-ts',
      ipaUniqueID: 'autogenerate',
    },
    `host group ${HOSTGROUP}`,
  );
}

/**
 * The automember rule: a host carrying a subscription id joins the host group, an IPA server
 * never does. Servers are excluded both by membership of ipaservers (effective once memberOf is
 * set) and by name (effective already when the host entry is added).
 */
export async function ensureAutomemberRule(dir: Directory, l: Layout): Promise<Change[]> {
  if (!(await dir.exists(l.automemberHostgroup))) {
    throw new Error(`the automember definition ${l.automemberHostgroup} is missing`);
  }

  const exclusive = [
    `memberOf=^${regexEscape(l.ipaservers)}$`,
    ...(await serverNames(dir, l)).map((fqdn) => `fqdn=^${regexEscape(fqdn)}$`),
  ];
  const created = await ensureEntry(
    dir,
    l.automemberRule,
    {
      objectClass: ['top', 'autoMemberRegexRule'],
      cn: HOSTGROUP,
      autoMemberTargetGroup: l.hostgroup,
      autoMemberInclusiveRegex: 'HCCSubscriptionId=^.+$',
      autoMemberExclusiveRegex: exclusive,
      description: 'Hosts with an HCC subscription id, IPA servers excepted',
    },
    `automember rule ${HOSTGROUP}`,
  );
  if (created.length > 0) {
    return created;
  }

  const label = `automember rule ${HOSTGROUP} (IPA servers excluded)`;
  return ensureValues(dir, l.automemberRule, 'autoMemberExclusiveRegex', exclusive, label);
}

/** FQDNs of all IPA servers, from cn=masters. */
export async function serverNames(dir: Directory, l: Layout): Promise<string[]> {
  const masters = await dir.search({ base: l.masters, scope: 'one', attributes: ['cn'] });
  return masters.map((m) => (m.first('cn') ?? firstRdnValue(m.dn)).toLowerCase()).sort();
}

/** Registers this server as running the enrollment service, as IPA does for its services. */
export async function ensureMasterService(
  dir: Directory,
  l: Layout,
  fqdn: string,
): Promise<Change[]> {
  return ensureEntry(
    dir,
    l.masterServiceDn(fqdn),
    {
      objectClass: ['top', 'nsContainer', 'ipaConfigObject'],
      cn: 'HCC',
      ipaConfigString: ['enabledService', 'startOrder 90'],
    },
    `enrollment service entry for ${fqdn}`,
  );
}

/** True when the host is an IPA server (has an entry under cn=masters). */
export async function isIpaServer(dir: Directory, l: Layout, fqdn: string): Promise<boolean> {
  const found = await dir.search({ base: l.masters, scope: 'one', filter: eq('cn', fqdn) });
  return found.length > 0;
}

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
