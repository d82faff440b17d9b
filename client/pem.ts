// PEM certificate bundles: the IPA CA file and the CA bundle host-conf hands out.
import { X509Certificate } from 'node:crypto';

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle; throws TypeError when there is none or one is broken. */
export function certificatesIn(text: string): X509Certificate[] {
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new TypeError('no PEM certificate found');
  }

  return blocks.map((b) => new X509Certificate(b));
}
