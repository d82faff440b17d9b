// The LDAP schema the product needs: ipa-hcc's (so a domain that ran ipa-hcc can switch) and our
// own, under an OID arc of our own.

/** ipa-hcc's arc below FreeIPA's; names and OIDs must stay exactly as ipa-hcc defined them. */
const HCC_ARC = '2.16.840.1.113730.3.8.100';
/** This project's arc: 2.25 + a UUID as an integer (ITU-T X.667), needs no registration. */
export const OWN_ARC = '2.25.34958946784790024735927290689497441328';

export interface SchemaElement {
  kind: 'attributeTypes' | 'objectClasses';
  oid: string;
  name: string;
  definition: string;
}

const DIRECTORY_STRING = '1.3.6.1.4.1.1466.115.121.1.15';
const BOOLEAN = '1.3.6.1.4.1.1466.115.121.1.7';
const GENERALIZED_TIME = '1.3.6.1.4.1.1466.115.121.1.24';
const HCC_ORIGIN = "X-ORIGIN 'IPA Hybrid Cloud Console'";
const OWN_ORIGIN = "X-ORIGIN 'ipa-hcc-ts'";

function attr(
  oid: string,
  name: string,
  desc: string,
  body: string,
  origin: string,
): SchemaElement {
  const definition = `( ${oid} NAME '${name}' DESC '${desc}' ${body} ${origin} )`;
  return { kind: 'attributeTypes', oid, name, definition };
}

function oc(oid: string, name: string, desc: string, body: string, origin: string): SchemaElement {
  const definition = `( ${oid} NAME '${name}' DESC '${desc}' ${body} ${origin} )`;
  return { kind: 'objectClasses', oid, name, definition };
}

const hccString = (n: number, name: string, desc: string): SchemaElement =>
  attr(
    `${HCC_ARC}.1.${n}`,
    name,
    desc,
    `EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX ${DIRECTORY_STRING} SINGLE-VALUE`,
    HCC_ORIGIN,
  );

/** ipa-hcc's attribute types and object classes. */
export const HCC_SCHEMA: readonly SchemaElement[] = [
  hccString(1, 'HCCOrgId', 'Organization id of the domain or host'),
  hccString(2, 'HCCSubscriptionId', 'Subscription id (certificate CN) of a host'),
  hccString(3, 'HCCInventoryId', 'Inventory id of a host'),
  hccString(4, 'HCCCertSubject', 'Subject of the certificate a host enrolled with'),
  hccString(5, 'HCCDomainId', 'Domain identifier'),
  attr(
    `${HCC_ARC}.1.6`,
    'HCCPublicJWK',
    'Public JSON Web Key (JSON text)',
    `EQUALITY caseExactMatch SYNTAX ${DIRECTORY_STRING} SINGLE-VALUE`,
    HCC_ORIGIN,
  ),
  oc(
    `${HCC_ARC}.2.1`,
    'HCCHost',
    'Host enrolled through HCC',
    'AUXILIARY MAY ( HCCOrgId $ HCCSubscriptionId $ HCCInventoryId $ HCCCertSubject )',
    HCC_ORIGIN,
  ),
  oc(
    `${HCC_ARC}.2.2`,
    'HCCConfig',
    'HCC settings of the domain',
    'AUXILIARY MAY ( HCCOrgId $ HCCDomainId )',
    HCC_ORIGIN,
  ),
  oc(
    `${HCC_ARC}.2.3`,
    'HCCPublicJWKObject',
    'Public JSON Web Key of an enrollment server',
    'SUP top AUXILIARY MUST ( cn $ HCCPublicJWK $ ipaTokenNotAfter $ ipaEnabledFlag $ ' +
      'ipaKeyUsage $ algorithmId )',
    HCC_ORIGIN,
  ),
];

const ownAttr = (n: number, name: string, desc: string, body: string): SchemaElement =>
  attr(`${OWN_ARC}.1.${n}`, name, desc, body, OWN_ORIGIN);

const SINGLE_STRING = `EQUALITY caseIgnoreMatch SYNTAX ${DIRECTORY_STRING} SINGLE-VALUE`;
const SINGLE_TIME = `EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX ${GENERALIZED_TIME} SINGLE-VALUE`;
const SINGLE_BOOLEAN = `EQUALITY booleanMatch SYNTAX ${BOOLEAN} SINGLE-VALUE`;

/** The project's own attribute types and object classes. */
export const OWN_SCHEMA: readonly SchemaElement[] = [
  ownAttr(1, 'hccTsKeyServer', 'Enrollment server holding the private key', SINGLE_STRING),
  ownAttr(2, 'hccTsKeyCreated', 'When the signing key was made', SINGLE_TIME),
  ownAttr(3, 'hccTsKeyRetired', 'When the key stopped signing new tokens', SINGLE_TIME),
  ownAttr(4, 'hccTsAutoEnrollment', 'Whether hosts may enroll automatically', SINGLE_BOOLEAN),
  ownAttr(5, 'hccTsAllowRebuild', 'Whether an enrolled host may enroll again', SINGLE_BOOLEAN),
  ownAttr(6, 'hccTsRegisteredAt', 'When the domain was registered', SINGLE_TIME),
  ownAttr(
    7,
    'hccTsRealmDomain',
    'DNS domain whose hosts may enroll',
    `EQUALITY caseIgnoreMatch SYNTAX ${DIRECTORY_STRING}`,
  ),
  ownAttr(8, 'hccTsTokenExpires', 'When a used host token stops being valid anyway', SINGLE_TIME),
  oc(
    `${OWN_ARC}.2.1`,
    'hccTsDomainConfig',
    'Enrollment settings of the domain',
    'AUXILIARY MAY ( hccTsAutoEnrollment $ hccTsAllowRebuild $ hccTsRegisteredAt $ ' +
      'hccTsRealmDomain )',
    OWN_ORIGIN,
  ),
  oc(
    `${OWN_ARC}.2.2`,
    'hccTsSigningKey',
    'Lifecycle of an enrollment signing key',
    'AUXILIARY MAY ( hccTsKeyServer $ hccTsKeyCreated $ hccTsKeyRetired )',
    OWN_ORIGIN,
  ),
  oc(
    `${OWN_ARC}.2.3`,
    'hccTsUsedToken',
    'A host token that has been used to register (replay protection)',
    'SUP top STRUCTURAL MUST ( cn $ hccTsTokenExpires )',
    OWN_ORIGIN,
  ),
];

/**
 * ipa-hcc's key object class requires algorithmId, which FreeIPA's own schema does not define
 * (on a server with a CA, the Dogtag schema does). Added under our arc only where it is missing.
 */
export const ALGORITHM_ID = attr(
  `${OWN_ARC}.1.100`,
  'algorithmId',
  'Algorithm of a key',
  `EQUALITY caseIgnoreMatch SYNTAX ${DIRECTORY_STRING} SINGLE-VALUE`,
  OWN_ORIGIN,
);

/** OID and names of a schema definition as the server returns it. */
export function parseDefinition(definition: string): { oid: string; names: string[] } {
  const oid = /^\(\s*([0-9.]+|[\w-]+)/.exec(definition)?.[1] ?? '';
  const list = /\bNAME\s+(?:'([^']+)'|\(\s*((?:'[^']+'\s*)+)\))/i.exec(definition);
  const names = list?.[1]
    ? [list[1]]
    : [...(list?.[2] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  return { oid, names };
}
