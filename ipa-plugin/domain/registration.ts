// The domain's registration: identifiers on cn=ipaConfig (where ipa-hcc keeps them), enrollment
// settings on cn=hcc, enrollment servers from cn=masters.
import { randomUUID, X509Certificate } from 'node:crypto';
import { readSmallFile } from '../../common/files.js';
import type { Directory, Modification } from '../ldap/directory.js';
import { firstRdnValue } from '../ldap/dn.js';
import { present } from '../ldap/filter.js';
import type { Layout } from '../layout.js';
import { MASTER_SERVICE } from '../layout.js';
import { formatGeneralizedTime, parseGeneralizedTime } from './time.js';

export interface Registration {
  domainId: string;
  orgId: string;
  autoEnrollment: boolean;
  allowRebuild: boolean;
  realmDomains: string[];
  registeredAt: Date | undefined;
}

export interface ServerInfo {
  fqdn: string;
  location: string | undefined;
  /** Services IPA lists for the server under cn=masters (e.g. CA, KDC, HCC), enabled ones only. */
  roles: string[];
  enrollment: boolean;
}

const ORG_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why an organisation id is unacceptable, or undefined when it is fine. */
export function orgIdProblem(orgId: string): string | undefined {
  if (ORG_ID.test(orgId)) {
    return undefined;
  }

  return 'an organisation id is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';
}

/** The organisation id (subject O) of an RHSM identity certificate. */
export async function orgIdFromCertificate(path: string): Promise<string> {
  const cert = new X509Certificate(await readSmallFile(path, 256 * 1024));
  const o = cert.subject
    .split('\n')
    .map((line) => /^O=(.*)$/.exec(line)?.[1])
    .find((v) => v !== undefined);
  if (!o) {
    throw new Error(`the certificate ${path} has no organisation (O) in its subject`);
  }

  return o;
}

/** The current registration, or undefined when the domain is not registered. */
export async function readRegistration(
  dir: Directory,
  l: Layout,
): Promise<Registration | undefined> {
  const config = await dir.get(l.ipaConfig, ['HCCDomainId', 'HCCOrgId']);
  const domainId = config?.first('HCCDomainId');
  const orgId = config?.first('HCCOrgId');
  if (!domainId || !orgId) {
    return undefined;
  }

  const hcc = await dir.get(l.hcc, ['*']);
  const at = hcc?.first('hccTsRegisteredAt');
  return {
    domainId,
    orgId,
    autoEnrollment: hcc?.first('hccTsAutoEnrollment')?.toUpperCase() === 'TRUE',
    allowRebuild: hcc?.first('hccTsAllowRebuild')?.toUpperCase() === 'TRUE',
    realmDomains: hcc?.all('hccTsRealmDomain') ?? [],
    registeredAt: at ? parseGeneralizedTime(at) : undefined,
  };
}

/** DNS domains whose hosts may enroll: IPA's realm domains, else the IPA domain. */
export async function realmDomains(
  dir: Directory,
  l: Layout,
  ipaDomain: string,
): Promise<string[]> {
  const entry = await dir.get(l.realmDomains, ['associatedDomain']);
  const domains = entry?.all('associatedDomain').map((d) => d.toLowerCase()) ?? [];
  return domains.length > 0 ? [...new Set(domains)].sort() : [ipaDomain.toLowerCase()];
}

/** IPA servers with their location and enabled services. */
export async function listServers(dir: Directory, l: Layout): Promise<ServerInfo[]> {
  const masters = await dir.search({
    base: l.masters,
    scope: 'one',
    attributes: ['cn', 'ipaLocation'],
  });
  const servers: ServerInfo[] = [];
  for (const m of masters) {
    const fqdn = (m.first('cn') ?? firstRdnValue(m.dn)).toLowerCase();
    const location = m.first('ipaLocation');
    const roles = await enabledServices(dir, m.dn);
    const enrollment = roles.includes(MASTER_SERVICE);
    servers.push({
      fqdn,
      location: location ? firstRdnValue(location) : undefined,
      roles,
      enrollment,
    });
  }

  return servers.sort((a, b) => a.fqdn.localeCompare(b.fqdn));
}

async function enabledServices(dir: Directory, masterDn: string): Promise<string[]> {
  const services = await dir.search({
    base: masterDn,
    scope: 'one',
    attributes: ['cn', 'ipaConfigString'],
  });
  return services
    .filter((s) => s.hasValue('ipaConfigString', 'enabledService'))
    .map((s) => s.first('cn') ?? '')
    .sort();
}

/** Writes a registration: identifiers on cn=ipaConfig, settings on cn=hcc. */
export async function writeRegistration(
  dir: Directory,
  l: Layout,
  reg: Omit<Registration, 'registeredAt'>,
  now = new Date(),
): Promise<void> {
  const config = await dir.get(l.ipaConfig, ['objectClass']);
  const hcc = await dir.get(l.hcc, ['objectClass']);
  await dir.modify(l.ipaConfig, [
    ...addClass(config?.hasValue('objectClass', 'HCCConfig'), 'HCCConfig'),
    { operation: 'replace', attribute: 'HCCDomainId', values: [reg.domainId] },
    { operation: 'replace', attribute: 'HCCOrgId', values: [reg.orgId] },
  ]);
  await dir.modify(l.hcc, [
    ...addClass(hcc?.hasValue('objectClass', 'hccTsDomainConfig'), 'hccTsDomainConfig'),
    { operation: 'replace', attribute: 'hccTsAutoEnrollment', values: [bool(reg.autoEnrollment)] },
    { operation: 'replace', attribute: 'hccTsAllowRebuild', values: [bool(reg.allowRebuild)] },
    { operation: 'replace', attribute: 'hccTsRegisteredAt', values: [formatGeneralizedTime(now)] },
    { operation: 'replace', attribute: 'hccTsRealmDomain', values: reg.realmDomains },
  ]);
}

/** Removes the registration; auto-enrollment stops. Enrolled hosts are not touched. */
export async function removeRegistration(dir: Directory, l: Layout): Promise<void> {
  await dir.modify(l.hcc, [
    { operation: 'replace', attribute: 'hccTsAutoEnrollment', values: ['FALSE'] },
  ]);
  await dir.modify(l.ipaConfig, [
    { operation: 'replace', attribute: 'HCCDomainId', values: [] },
    { operation: 'replace', attribute: 'HCCOrgId', values: [] },
  ]);
  await dir.modify(l.hcc, [
    { operation: 'replace', attribute: 'hccTsRegisteredAt', values: [] },
    { operation: 'replace', attribute: 'hccTsRealmDomain', values: [] },
    { operation: 'replace', attribute: 'hccTsAllowRebuild', values: [] },
  ]);
}

/** A fresh domain id. */
export function newDomainId(): string {
  return randomUUID();
}

/** Number of hosts carrying an HCC subscription id. */
export async function countEnrolledHosts(dir: Directory, l: Layout): Promise<number> {
  const hosts = await dir.search({
    base: l.computers,
    scope: 'one',
    filter: present('HCCSubscriptionId'),
    attributes: ['1.1'],
  });
  return hosts.length;
}

function addClass(has: boolean | undefined, name: string): Modification[] {
  return has ? [] : [{ operation: 'add', attribute: 'objectClass', values: [name] }];
}

function bool(v: boolean): string {
  return v ? 'TRUE' : 'FALSE';
}
