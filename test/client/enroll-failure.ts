// Assertion shared by the client's unit tests: a call that must throw an EnrollError.
import { expect } from 'vitest';
import { EnrollError } from '../../client/errors.js';

/** Runs fn, which must throw an EnrollError, and returns that error. */
export function failure(fn: () => unknown): EnrollError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollError);
    return err as EnrollError;
  }

  throw new Error('expected a failure');
}
