// Distinguished names: the one place values are escaped into DNs (RFC 4514) and DNs compared.

const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

/** Escapes one attribute value for use inside an RDN (RFC 4514 section 2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    out += escapeChar(value, i);
  }

  return out;
}

function escapeChar(value: string, i: number): string {
  const ch = value.charAt(i);
  if (ch === '\0') {
    return '\\00';
  }

  if (SPECIAL.has(ch)) {
    return `\\${ch}`;
  }

  const edge = i === 0 || i === value.length - 1;
  if (ch === ' ' && edge) {
    return '\\ ';
  }

  if (ch === '#' && i === 0) {
    return '\\#';
  }

  return ch;
}

/** Builds a DN from one RDN (attribute and raw value) below a parent DN. */
export function childDn(attr: string, value: string, parent: string): string {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(attr)) {
    throw new TypeError(`invalid RDN attribute name: ${attr}`);
  }

  return `${attr}=${escapeDnValue(value)},${parent}`;
}

/** Builds a DN from a chain of [attr, value] RDNs, innermost first, ending at a base DN. */
export function dnOf(rdns: ReadonlyArray<readonly [string, string]>, base: string): string {
  return rdns.reduceRight((parent, [attr, value]) => childDn(attr, value, parent), base);
}

/** Canonical form for comparing DNs: lower case, no spaces around separators. */
export function normalizeDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) => rdn.replace(/^\s+|\s+$/g, '').replace(/\s*=\s*/, '='))
    .join(',')
    .toLowerCase();
}

/** True when both DNs name the same entry (case-insensitive, as every attribute here). */
export function sameDn(a: string, b: string): boolean {
  return normalizeDn(a) === normalizeDn(b);
}

/** The value of the first RDN of a DN, unescaped (e.g. the fqdn of a host DN). */
export function firstRdnValue(dn: string): string {
  const first = dn.split(/(?<!\\),/)[0] ?? '';
  const eq = first.indexOf('=');
  return unescapeDnValue(first.slice(eq + 1).trim());
}

function unescapeDnValue(value: string): string {
  return value.replace(/\\([0-9a-fA-F]{2}|.)/g, (_m, esc: string) =>
    esc.length === 2 ? String.fromCharCode(parseInt(esc, 16)) : esc,
  );
}
