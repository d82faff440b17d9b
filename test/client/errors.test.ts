// The exit codes and failure codes are one list, and client/README.md documents exactly it.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERRORS, EnrollError, ExitCode, toEnrollError } from '../../client/errors.js';

describe('exit codes', () => {
  it('when the README table is compared then it lists exactly the exit codes 0 to 5', async () => {
    const readme = await readFile(new URL('../../client/README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Files'));
    const rows = [...section.matchAll(/^\| (\d) \| /gm)].map((m) => Number(m[1]));

    expect(rows).toEqual(Object.values(ExitCode));
    expect(Object.values(ExitCode)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('when a failure code is used then its exit code is one of the documented ones', () => {
    for (const [code, exit] of Object.entries(CLIENT_ERRORS)) {
      expect(Object.values(ExitCode), code).toContain(exit);
    }
  });

  it('when something unexpected is thrown then it becomes exit code 1 with its first line', () => {
    const err = toEnrollError(new Error('boom\nsecond line'));

    expect(err).toBeInstanceOf(EnrollError);
    expect([err.code, err.exitCode, err.message]).toEqual([
      'unexpected',
      1,
      'Unexpected failure: boom',
    ]);
  });
});
