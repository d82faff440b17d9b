// Idempotent building blocks of `install`: each adds what is missing and reports what it did.
import type { Attributes, Directory } from '../ldap/directory.js';
import { DirectoryError } from '../ldap/errors.js';

/** One change made to the directory, in words an admin reads. */
export type Change = string;

/** Adds the entry when it does not exist; returns the change made, if any. */
export async function ensureEntry(
  dir: Directory,
  dn: string,
  attributes: Attributes,
  label: string,
): Promise<Change[]> {
  if (await dir.exists(dn)) {
    return [];
  }

  try {
    await dir.add(dn, attributes);
  } catch (err) {
    // Another server running install at the same moment added it first.
    if (err instanceof DirectoryError && err.code === 'already-exists') {
      return [];
    }

    throw err;
  }

  return [`Added ${label}`];
}

/** Adds the values of a (multi-valued) attribute that the entry lacks, compared case-insensitively. */
export async function ensureValues(
  dir: Directory,
  dn: string,
  attribute: string,
  values: string[],
  label: string,
): Promise<Change[]> {
  const entry = await dir.get(dn, [attribute]);
  if (!entry) {
    throw new Error(`${dn} does not exist`);
  }

  const missing = values.filter((v) => !entry.hasValue(attribute, v));
  if (missing.length === 0) {
    return [];
  }

  try {
    await dir.modify(dn, [{ operation: 'add', attribute, values: missing }]);
  } catch (err) {
    if (err instanceof DirectoryError && err.code === 'value-exists') {
      return ensureValues(dir, dn, attribute, values, label);
    }

    throw err;
  }

  return [`Updated ${label}`];
}

/** Makes a single-valued attribute hold exactly the value. */
export async function ensureValue(
  dir: Directory,
  dn: string,
  attribute: string,
  value: string,
  label: string,
): Promise<Change[]> {
  const entry = await dir.get(dn, [attribute]);
  if (entry?.first(attribute) === value) {
    return [];
  }

  await dir.modify(dn, [{ operation: 'replace', attribute, values: [value] }]);
  return [`Updated ${label}`];
}
