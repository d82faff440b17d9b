// Certificates made at test time with node-forge: test CAs and the server and client
// certificates they sign (real RSA keys, real signatures).
import forge from 'node-forge';

export interface Issued {
  certPem: string;
  keyPem: string;
}

export interface CertOptions {
  subject: Array<{ shortName: string; value: string }>;
  issuer?: Issued;
  notBefore?: Date;
  notAfter?: Date;
  ca?: boolean;
  /** DNS names and IP addresses for a server certificate. */
  altNames?: { dns?: string[]; ip?: string[] };
  usage?: 'server' | 'client';
}

/** Issues a certificate (self-signed when no issuer is given). */
export function issueCertificate(opts: CertOptions): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  cert.setSubject(opts.subject);
  const issuerCert = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : cert;
  cert.setIssuer(issuerCert.subject.attributes);
  cert.setExtensions(extensions(opts));
  const signKey = opts.issuer ? forge.pki.privateKeyFromPem(opts.issuer.keyPem) : keys.privateKey;
  cert.sign(signKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

function extensions(opts: CertOptions): object[] {
  const ext: object[] = [{ name: 'basicConstraints', cA: opts.ca ?? false, critical: true }];
  if (opts.ca) {
    const signing = { keyCertSign: true, cRLSign: true, digitalSignature: opts.usage === 'client' };
    ext.push({ name: 'keyUsage', ...signing, critical: true });
    ext.push({ name: 'subjectKeyIdentifier' });
    if (opts.usage === 'client') {
      // A CA certificate that could also pass as a client certificate, to test the refusal.
      ext.push({ name: 'extKeyUsage', clientAuth: true });
    }

    return ext;
  }

  ext.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true });
  ext.push({
    name: 'extKeyUsage',
    serverAuth: opts.usage === 'server',
    clientAuth: opts.usage !== 'server',
  });
  const alt = [
    ...(opts.altNames?.dns ?? []).map((value) => ({ type: 2, value })),
    ...(opts.altNames?.ip ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (alt.length > 0) {
    ext.push({ name: 'subjectAltName', altNames: alt });
  }

  return ext;
}

/** A test CA. */
export function makeCa(name: string): Issued {
  return issueCertificate({ subject: [{ shortName: 'CN', value: name }], ca: true });
}

/** A client certificate with subject O=org, CN=cn (RHSM style) signed by the CA. */
export function clientCert(
  ca: Issued,
  org: string,
  cn: string,
  extra: Partial<CertOptions> = {},
): Issued {
  return issueCertificate({
    subject: [
      { shortName: 'O', value: org },
      { shortName: 'CN', value: cn },
    ],
    issuer: ca,
    usage: 'client',
    ...extra,
  });
}

/** A server certificate for localhost and the loopback addresses. */
export function serverCert(ca: Issued): Issued {
  return issueCertificate({
    subject: [{ shortName: 'CN', value: 'localhost' }],
    issuer: ca,
    usage: 'server',
    altNames: { dns: ['localhost'], ip: ['127.0.0.1', '::1'] },
  });
}
