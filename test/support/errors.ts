// Assertions on directory failures.
import { expect } from 'vitest';
import { DirectoryError } from '../../ipa-plugin/ldap/errors.js';

/** Awaits a promise that must reject with a DirectoryError and returns that error. */
export async function directoryFailure(p: Promise<unknown>): Promise<DirectoryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DirectoryError);
  return err as DirectoryError;
}
