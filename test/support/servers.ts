// A second IPA server in the test directory: its cn=masters entry, an IPA location, and the
// enrollment service entry `install` writes on every server.
import { directory } from '../harness/directory.js';
import type { AdminEnv } from './admin.js';

/** Adds an IPA server running the enrollment service, in the given IPA location. */
export async function addEnrollmentServer(
  env: AdminEnv,
  fqdn: string,
  location: string,
): Promise<void> {
  const loc = `idnsname=${location},${env.layout.locations}`;
  if (!(await env.dm.exists(loc))) {
    await env.dm.add(loc, { objectClass: ['top', 'ipaLocationObject'], idnsName: location });
  }

  await env.dm.add(env.layout.masterDn(fqdn), {
    objectClass: [
      'top',
      'nsContainer',
      'ipaReplTopoManagedServer',
      'ipaConfigObject',
      'ipaLocationMember',
    ],
    cn: fqdn,
    ipaReplTopoManagedSuffix: directory().suffix,
    ipaLocation: loc,
  });
  await env.dm.add(env.layout.masterServiceDn(fqdn), {
    objectClass: ['top', 'nsContainer', 'ipaConfigObject'],
    cn: 'HCC',
    ipaConfigString: ['enabledService'],
  });
}
