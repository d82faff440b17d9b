import { describe, expect, it } from 'vitest';
import { formatIni, IniError, parseIni } from '../../common/ini.js';

describe('parseIni', () => {
  it('when given an IPA default.conf then sections and keys are read case-insensitively', () => {
    const data = parseIni(
      '# c\n[global]\nBaseDN = dc=ipa,dc=test\nrealm: IPA.TEST\n; x\n\n[Other]\nk=v=w\n',
    );

    expect(data.get('global')!.get('basedn')).toBe('dc=ipa,dc=test');
    expect(data.get('global')!.get('realm')).toBe('IPA.TEST');
    expect(data.get('other')!.get('k')).toBe('v=w');
  });

  it('when a key appears before any section then it is an error with the line', () => {
    expect(() => parseIni('\nkey = v\n')).toThrow(
      new IniError('setting outside of a [section]', 2),
    );
  });

  it('when a line is not a setting then it is an error', () => {
    expect(() => parseIni('[g]\njust words\n')).toThrow(/cannot parse "just words" \(line 2\)/);
  });

  it('when formatted and parsed again then the values survive', () => {
    const text = formatIni({ global: { a: '1', b: 'x y' } });

    expect(text).toBe('[global]\na = 1\nb = x y\n');
    expect(parseIni(text).get('global')!.get('b')).toBe('x y');
  });
});
