import { describe, expect, it } from 'vitest';
import {
  childDn,
  dnOf,
  escapeDnValue,
  firstRdnValue,
  sameDn,
} from '../../../ipa-plugin/ldap/dn.js';

describe('escapeDnValue', () => {
  it.each([
    ['web01.ipa.test', 'web01.ipa.test'],
    ['a,b', 'a\\,b'],
    ['a+b=c', 'a\\+b\\=c'],
    ['"q"', '\\"q\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['<x>;', '\\<x\\>\\;'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    ['#hash', '\\#hash'],
    ['mid#dle', 'mid#dle'],
    ['nul\0', 'nul\\00'],
  ])('when the value is %j then it becomes %j', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });
});

describe('childDn and dnOf', () => {
  it('when a value would inject an RDN then it is escaped into one value', () => {
    expect(childDn('fqdn', 'x,cn=admins', 'cn=computers,dc=t')).toBe(
      'fqdn=x\\,cn\\=admins,cn=computers,dc=t',
    );
  });

  it('when the attribute name is not an LDAP name then it throws', () => {
    expect(() => childDn('fqdn,cn', 'x', 'dc=t')).toThrow(TypeError);
  });

  it('when given a chain of RDNs then the innermost comes first', () => {
    expect(
      dnOf(
        [
          ['cn', 'HCC'],
          ['cn', 'ipa.test'],
        ],
        'cn=masters',
      ),
    ).toBe('cn=HCC,cn=ipa.test,cn=masters');
  });

  it('when reading back the first RDN value then escapes are undone', () => {
    expect(firstRdnValue(childDn('cn', 'a,b+c', 'dc=t'))).toBe('a,b+c');
  });

  it('when DNs differ only in case and spaces then they are the same', () => {
    expect(sameDn('CN=A, DC=Test', 'cn=a,dc=test')).toBe(true);
    expect(sameDn('cn=a\\,b,dc=test', 'cn=a,dc=test')).toBe(false);
  });
});
