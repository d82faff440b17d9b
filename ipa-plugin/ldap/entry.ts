// A directory entry as the rest of the product sees it: attribute names case-insensitive,
// values always strings.
import type { Entry as RawEntry } from 'ldapts';

export class LdapEntry {
  readonly dn: string;
  readonly #attrs: Map<string, string[]>;

  constructor(dn: string, attrs: Map<string, string[]>) {
    this.dn = dn;
    this.#attrs = attrs;
  }

  /** Converts a search result from the LDAP library. */
  static fromRaw(raw: RawEntry): LdapEntry {
    const attrs = new Map<string, string[]>();
    for (const [name, value] of Object.entries(raw)) {
      if (name === 'dn') {
        continue;
      }

      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0) {
        continue; // the library lists requested attributes the entry does not have
      }

      attrs.set(
        name.toLowerCase(),
        values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v)),
      );
    }

    return new LdapEntry(raw.dn, attrs);
  }

  /** All values of an attribute (empty when absent). */
  all(name: string): string[] {
    return this.#attrs.get(name.toLowerCase()) ?? [];
  }

  /** The first value of an attribute, or undefined. */
  first(name: string): string | undefined {
    return this.all(name)[0];
  }

  /** True when the attribute has at least one value. */
  has(name: string): boolean {
    return this.all(name).length > 0;
  }

  /** True when the attribute holds the value, compared case-insensitively. */
  hasValue(name: string, value: string): boolean {
    const wanted = value.toLowerCase();
    return this.all(name).some((v) => v.toLowerCase() === wanted);
  }

  /** Names of the attributes present, lower case. */
  attributeNames(): string[] {
    return [...this.#attrs.keys()];
  }
}
