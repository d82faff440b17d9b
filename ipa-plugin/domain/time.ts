// LDAP GeneralizedTime (RFC 4517 3.3.13) in UTC, as 389-ds stores it: YYYYMMDDHHMMSSZ.

/** Formats a date as GeneralizedTime in UTC with whole seconds. */
export function formatGeneralizedTime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Parses GeneralizedTime (UTC, optional fraction); an unparsable value is the epoch. */
export function parseGeneralizedTime(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?Z$/.exec(text.trim());
  if (!m) {
    return new Date(0);
  }

  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +(s ?? 0)));
}
