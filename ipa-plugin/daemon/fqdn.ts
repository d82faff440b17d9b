// Host names a machine may enroll with. IPA stores them lower case; ipa-join's SASL bind fails
// for names of 64 characters and more, so the limit is 63 for the whole name.

export const MAX_FQDN_LENGTH = 63;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names IPA gives its own services (the CA's OCSP/CRL name): never a machine's. */
const RESERVED_FIRST_LABELS = new Set(['ipa-ca']);

export type FqdnCheck = { ok: true; fqdn: string } | { ok: false; detail: string };

/** Lowercases and validates a host name; the detail says what is wrong in words for the caller. */
export function checkFqdn(raw: string): FqdnCheck {
  // ASCII only, checked before lowercasing: "\u212A" (Kelvin sign) lowercases to an ASCII "k".
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    return fail('the host name must be ASCII letters, digits, hyphens and dots');
  }

  const fqdn = raw.toLowerCase();
  if (fqdn.length > MAX_FQDN_LENGTH) {
    return fail(
      `the host name has ${fqdn.length} characters; at most ${MAX_FQDN_LENGTH} work with ipa-join`,
    );
  }

  const labels = fqdn.split('.');
  if (labels.length < 2) {
    return fail('the host name must be fully qualified (host.domain)');
  }

  if (!labels.every((l) => LABEL.test(l))) {
    return fail('each label of the host name must be 1 to 63 letters, digits or inner hyphens');
  }

  if (
    labels[0] === 'localhost' ||
    labels.at(-1) === 'localhost' ||
    fqdn === 'localhost.localdomain'
  ) {
    return fail('localhost is not a host name that can enroll');
  }

  if (RESERVED_FIRST_LABELS.has(labels[0]!)) {
    return fail(`${labels[0]} is a name IPA itself uses`);
  }

  return { ok: true, fqdn };
}

function fail(detail: string): FqdnCheck {
  return { ok: false, detail };
}

/** True when the (lower-case) name is one of the domains or inside one: "a.ipa.test" in "ipa.test". */
export function inRealmDomains(fqdn: string, domains: readonly string[]): boolean {
  return domains.some((d) => fqdn === d || fqdn.endsWith(`.${d}`));
}
