// What must hold before the client asks any server: not yet an IPA client, a fully qualified
// host name, a readable identity certificate with its key, a clock inside that certificate's
// validity, and the IPA CA certificate the servers chain to.
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnrollError } from './errors.js';
import { certificatesIn } from './pem.js';

/** Longest host name ipa-join can bind with: its SASL bind fails from 64 characters. */
export const MAX_FQDN_LENGTH = 63;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface Identity {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
  notBefore: Date;
  notAfter: Date;
}

/** IPA's default.conf, whose presence means this machine is an IPA client already. */
export function ipaDefaultConf(env: Readonly<Record<string, string | undefined>>): string {
  return join(env.IPA_CONFDIR || '/etc/ipa', 'default.conf');
}

/** True when the file exists. */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Lower-cases the host name and refuses what cannot enroll. */
export function checkHostname(raw: string): string {
  const fqdn = raw.trim().toLowerCase();
  const labels = fqdn.split('.');
  const fix = (why: string) =>
    new EnrollError(
      'not-fqdn',
      `The host name "${fqdn}" ${why}.`,
      'Give the machine its fully qualified name (hostnamectl set-hostname web01.example.test) ' +
        'or pass --hostname.',
    );
  if (labels[0]!.startsWith('localhost') || labels.at(-1) === 'localhost') {
    throw fix('is a localhost name, which cannot enroll');
  }

  if (labels.length < 2) {
    throw fix('is not fully qualified (host.domain)');
  }

  if (!labels.every((l) => LABEL.test(l))) {
    throw fix('has a label that is not 1 to 63 letters, digits or inner hyphens');
  }

  if (fqdn.length > MAX_FQDN_LENGTH) {
    throw fix(`has ${fqdn.length} characters; ipa-join works with at most ${MAX_FQDN_LENGTH}`);
  }

  return fqdn;
}

/** The domain part of a fully qualified host name. */
export function domainOf(fqdn: string): string {
  return fqdn.slice(fqdn.indexOf('.') + 1);
}

/** Reads the identity certificate and key and checks that they belong together. */
export async function readIdentity(certPath: string, keyPath: string): Promise<Identity> {
  const certPem = await readIdentityFile(certPath, 'certificate');
  const keyPem = await readIdentityFile(keyPath, 'private key');
  const cert = parseCertificate(certPem, certPath);
  const key = parseKey(keyPem, keyPath);
  if (!cert.checkPrivateKey(key)) {
    throw noIdentity(`The private key ${keyPath} does not belong to the certificate ${certPath}.`);
  }

  return {
    certPath,
    keyPath,
    certPem,
    keyPem,
    cert,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** Refuses a clock outside the certificate's validity: TLS and host tokens would fail. */
export function checkClock(identity: Identity, nowMs: number): void {
  const now = new Date(nowMs).toISOString();
  const from = identity.notBefore.toISOString();
  const to = identity.notAfter.toISOString();
  if (nowMs < identity.notBefore.getTime()) {
    throw new EnrollError(
      'clock-wrong',
      `The clock (${now}) is before the identity certificate's validity starts (${from}).`,
      'Fix the clock: turn on time synchronization (timedatectl set-ntp true), check it with ' +
        'chronyc tracking, then run again.',
    );
  }

  if (nowMs > identity.notAfter.getTime()) {
    throw new EnrollError(
      'clock-wrong',
      `The clock (${now}) is after the identity certificate's validity ended (${to}).`,
      'Check the clock and time synchronization (chronyc tracking); if the clock is right, ' +
        'renew the certificate (subscription-manager refresh).',
    );
  }
}

/** Reads the PEM file of the IPA CA the enrollment servers' certificates chain to. */
export async function readCaCert(path: string): Promise<string> {
  const fix =
    `Copy the IPA CA certificate to ${path} (ipa-hcc-ts client-config on an IPA server ` +
    'prints it), or set ca_cert.';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EnrollError('bad-config', `Cannot read the IPA CA certificate ${path}.`, fix, err);
  }

  try {
    certificatesIn(text);
  } catch (err) {
    throw new EnrollError('bad-config', `${path} holds no valid PEM certificate.`, fix, err);
  }

  return text;
}

async function readIdentityFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
    throw noIdentity(`The identity ${what} ${path} is ${why}.`, err);
  }
}

function parseCertificate(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw noIdentity(`The identity certificate ${path} is not a PEM certificate.`, err);
  }
}

function parseKey(pem: string, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw noIdentity(`The identity private key ${path} is not a PEM private key.`, err);
  }
}

function noIdentity(message: string, cause?: unknown): EnrollError {
  return new EnrollError(
    'no-identity',
    message,
    'Register the machine (subscription-manager register writes /etc/pki/consumer/cert.pem ' +
      'and key.pem), or point cert and key at its identity certificate.',
    cause,
  );
}
