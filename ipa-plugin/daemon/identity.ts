// Who a client is: taken from its verified X.509 certificate. On RHEL the certificate is the
// RHSM consumer certificate, subject O = organisation id, CN = subscription id.
import { X509Certificate } from 'node:crypto';
import { escapeDnValue } from '../ldap/dn.js';

export interface ClientIdentity {
  orgId: string;
  subscriptionId: string;
  /** The subject in RFC 4514 form (most specific first), stored as HCCCertSubject. */
  subject: string;
}

export type IdentityCheck = { ok: true; identity: ClientIdentity } | { ok: false; reason: string };

// RHSM puts digits in O and a UUID in CN; site CAs use host-like names. Anything outside this set
// (escaped characters, multi-valued RDNs as Node prints them, control characters) is refused.
const VALUE = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;

/** Maps a DER certificate's subject to an identity; exactly one O and one CN are required. */
export function identityFromCertificate(der: Buffer): IdentityCheck {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'certificate-unparsable' };
  }

  const rdns = parseSubject(cert.subject);
  const o = rdns.filter(([k]) => k === 'O').map(([, v]) => v);
  const cn = rdns.filter(([k]) => k === 'CN').map(([, v]) => v);
  if (o.length !== 1 || cn.length !== 1) {
    return { ok: false, reason: 'subject-without-single-o-and-cn' };
  }

  if (!VALUE.test(o[0]!) || !VALUE.test(cn[0]!)) {
    return { ok: false, reason: 'subject-value-invalid' };
  }

  if (cert.ca) {
    return { ok: false, reason: 'certificate-is-a-ca' };
  }

  // The identity is O and CN alone, so one subscription is one subject whatever else the
  // certificate names (order of RDNs, an extra OU).
  const subject = `CN=${escapeDnValue(cn[0]!)},O=${escapeDnValue(o[0]!)}`;
  return { ok: true, identity: { orgId: o[0]!, subscriptionId: cn[0]!, subject } };
}

// Node prints the subject one RDN per line in certificate order: "O=123\nCN=abc".
function parseSubject(subject: string): Array<[string, string]> {
  return subject
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)];
    });
}
