// Certificates made at test time with node-forge: a test CA and certificates it signs.
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
  cert.setExtensions([{ name: 'basicConstraints', cA: opts.ca ?? false }]);
  const signKey = opts.issuer ? forge.pki.privateKeyFromPem(opts.issuer.keyPem) : keys.privateKey;
  cert.sign(signKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  };
}
