// Checks of the servers' answers before they reach the installer's command line.
import { describe, expect, it } from 'vitest';
import { checkHostConf, checkRegister } from '../../client/answers.js';
import { failure } from './enroll-failure.js';
import { makeCa } from '../support/certs.js';

const CA = makeCa('Answer CA').certPem;
const SERVER = 'https://ipa.ipa.test:9443';

function hostConf(changes: Record<string, unknown> = {}, idm: Record<string, unknown> = {}) {
  return {
    auto_enrollment_enabled: true,
    domain_id: '0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    domain_name: 'ipa.test',
    domain_type: 'rhel-idm',
    token: '{"payload":"x","signatures":[]}',
    'rhel-idm': {
      realm_name: 'IPA.TEST',
      cabundle: CA,
      enrollment_servers: [{ fqdn: 'ipa.ipa.test' }, { fqdn: 'ipa2.ipa.test', location: 'dc2' }],
      ...idm,
    },
    ...changes,
  };
}

describe('checkHostConf', () => {
  it('when the answer is complete then its fields come back', () => {
    expect(
      checkHostConf(hostConf({}, { ipa_client_install_args: ['--mkhomedir'] }), SERVER),
    ).toEqual({
      domainId: '0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      domainName: 'ipa.test',
      token: '{"payload":"x","signatures":[]}',
      realm: 'IPA.TEST',
      caBundle: CA,
      enrollmentServers: [{ fqdn: 'ipa.ipa.test' }, { fqdn: 'ipa2.ipa.test', location: 'dc2' }],
      installerArgs: ['--mkhomedir'],
    });
  });

  it.each([
    ['auto_enrollment_enabled', hostConf({ auto_enrollment_enabled: false })],
    ['domain_id', hostConf({ domain_id: 'nope' })],
    ['domain_name', hostConf({ domain_name: '--domain' })],
    ['domain_type', hostConf({ domain_type: 'ipa' })],
    ['token', hostConf({ token: '' })],
    ['realm_name', hostConf({}, { realm_name: '-IPA.TEST' })],
    ['cabundle', hostConf({}, { cabundle: 'no certificate here' })],
    ['enrollment_servers', hostConf({}, { enrollment_servers: [{ fqdn: 'ipa' }] })],
    ['ipa_client_install_args', hostConf({}, { ipa_client_install_args: '--mkhomedir' })],
    ['body', 'not json'],
  ])('when %s is malformed then the answer is refused naming it', (field, body) => {
    const err = failure(() => checkHostConf(body, SERVER));

    expect(err.code).toBe('invalid-response');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(
      `The host-conf answer of ${SERVER} is not usable: ${field} is missing or malformed.`,
    );
  });

  it('when another domain answers than the one asked for then it is refused', () => {
    expect(failure(() => checkHostConf(hostConf(), SERVER, 'other.test')).message).toContain(
      'domain_name',
    );
  });

  it.each([
    ['--server=evil.test'],
    ['--serv'],
    ['-wsecret'],
    ['--password'],
    ['--ca-cert-file=/tmp/x'],
    ['-U'],
  ])('when ipa_client_install_args holds %j then it is refused', (arg) => {
    const body = hostConf({}, { ipa_client_install_args: ['--mkhomedir', arg] });

    expect(failure(() => checkHostConf(body, SERVER)).message).toContain('ipa_client_install_args');
  });

  it('when ipa_client_install_args holds options the client does not set then they pass', () => {
    const args = ['--mkhomedir', '--ntp-server', 'ntp.ipa.test', '--no-sudo', '--permit'];

    expect(
      checkHostConf(hostConf({}, { ipa_client_install_args: args }), SERVER).installerArgs,
    ).toEqual(args);
  });
});

describe('checkRegister', () => {
  const otp = 'Abcdefghijklmnopqrstuvwxyz012345';

  it('when the answer is complete then the OTP and the server come back', () => {
    expect(
      checkRegister(
        { status: 'ok', kdc_cabundle: CA, otp, enrollment_server: 'ipa.ipa.test' },
        SERVER,
      ),
    ).toEqual({ otp, enrollmentServer: 'ipa.ipa.test' });
  });

  it('when the OTP is malformed then the message names the field but never the value', () => {
    const bad = 'has spaces in it so it is not usable';
    const err = failure(() =>
      checkRegister({ status: 'ok', otp: bad, enrollment_server: 'ipa.ipa.test' }, SERVER),
    );

    expect(err.message).toBe(
      `The register answer of ${SERVER} is not usable: otp is missing or malformed.`,
    );
    expect(`${err.message}${err.hint}${String(err.cause)}`).not.toContain(bad);
  });

  it('when the enrollment server is not a host name then it is refused', () => {
    const err = failure(() =>
      checkRegister({ status: 'ok', otp, enrollment_server: '-x' }, SERVER),
    );

    expect(err.message).toContain('enrollment_server');
    expect(err.message).not.toContain(otp);
  });
});
