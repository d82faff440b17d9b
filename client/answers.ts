// Checks of what the servers answer, before any of it reaches the installer's command line.
// Messages name the field, never its value: a register answer holds the one-time password.
import {
  DOMAIN_TYPE,
  type EnrollmentServer,
  type HostConfResponse,
  type RegisterResponse,
} from '../protocol/messages.js';
import { EnrollError } from './errors.js';
import { certificatesIn } from './pem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Kerberos realms are case-sensitive names; IPA's are upper-case DNS names.
const REALM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// Printable ASCII without spaces: what fits one argument of the installer.
const OTP = /^[\x21-\x7e]{8,256}$/;

/**
 * Options the client sets itself; ipa_client_install_args from a server may not repeat or
 * override them (a second --server or --password would silently change the enrollment).
 */
export const RESERVED_INSTALLER_OPTIONS = [
  '--unattended',
  '-U',
  '--password',
  '-w',
  '-W',
  '--principal',
  '-p',
  '--server',
  '--domain',
  '--realm',
  '--hostname',
  '--ca-cert-file',
  '--uninstall',
  '--help',
  '-h',
  '--version',
];

/** A host-conf answer that passed every check. */
export interface CheckedHostConf {
  domainId: string;
  domainName: string;
  token: string;
  realm: string;
  caBundle: string;
  enrollmentServers: EnrollmentServer[];
  installerArgs: string[];
}

/** A register answer that passed every check. */
export interface CheckedRegister {
  otp: string;
  enrollmentServer: string;
}

/** True for a lower-case DNS name of at least two labels. */
export function isDnsName(v: unknown): v is string {
  return (
    typeof v === 'string' &&
    v.length <= 253 &&
    v.includes('.') &&
    v.split('.').every((l) => LABEL.test(l))
  );
}

/** Checks a host-conf answer; `domain` is the domain asked for, if any. */
export function checkHostConf(body: unknown, server: string, domain?: string): CheckedHostConf {
  const b = (isObject(body) ? body : {}) as Partial<HostConfResponse>;
  const idm = (isObject(b['rhel-idm']) ? b['rhel-idm'] : {}) as Partial<
    HostConfResponse['rhel-idm']
  >;
  firstFailure('host-conf', server, [
    ['body', isObject(body)],
    ['auto_enrollment_enabled', b.auto_enrollment_enabled === true],
    ['domain_id', typeof b.domain_id === 'string' && UUID.test(b.domain_id)],
    ['domain_name', isDnsName(b.domain_name) && (domain === undefined || b.domain_name === domain)],
    ['domain_type', b.domain_type === DOMAIN_TYPE],
    ['token', typeof b.token === 'string' && b.token !== ''],
    ['realm_name', typeof idm.realm_name === 'string' && REALM.test(idm.realm_name)],
    ['cabundle', isCaBundle(idm.cabundle)],
    ['enrollment_servers', isServerList(idm.enrollment_servers)],
    ['ipa_client_install_args', isInstallerArgs(idm.ipa_client_install_args)],
  ]);

  return {
    domainId: b.domain_id!,
    domainName: b.domain_name!,
    token: b.token!,
    realm: idm.realm_name!,
    caBundle: idm.cabundle!,
    enrollmentServers: idm.enrollment_servers!,
    installerArgs: idm.ipa_client_install_args ?? [],
  };
}

/** Checks a register answer. */
export function checkRegister(body: unknown, server: string): CheckedRegister {
  const b = (isObject(body) ? body : {}) as Partial<RegisterResponse>;
  firstFailure('register', server, [
    ['body', isObject(body)],
    ['status', b.status === 'ok'],
    ['otp', typeof b.otp === 'string' && OTP.test(b.otp)],
    ['enrollment_server', isDnsName(b.enrollment_server)],
  ]);

  return { otp: b.otp!, enrollmentServer: b.enrollment_server! };
}

// Throws for the first field whose check failed.
function firstFailure(phase: string, server: string, checks: Array<[string, boolean]>): void {
  const failed = checks.find(([, ok]) => !ok);
  if (failed) {
    throw new EnrollError(
      'invalid-response',
      `The ${phase} answer of ${server} is not usable: ${failed[0]} is missing or malformed.`,
      'Check that the enrollment servers run a compatible ipa-hcc-tsd; run again with --verbose.',
    );
  }
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCaBundle(v: unknown): v is string {
  if (typeof v !== 'string') {
    return false;
  }

  try {
    return certificatesIn(v).length > 0;
  } catch {
    return false;
  }
}

function isServerList(v: unknown): v is EnrollmentServer[] {
  return (
    Array.isArray(v) &&
    v.every(
      (s: Partial<EnrollmentServer> | null) =>
        typeof s === 'object' &&
        s !== null &&
        isDnsName(s.fqdn) &&
        (s.location === undefined || (typeof s.location === 'string' && LABEL.test(s.location))),
    )
  );
}

function isInstallerArgs(v: unknown): v is string[] | undefined {
  if (v === undefined) {
    return true;
  }

  return (
    Array.isArray(v) && v.every((a) => typeof a === 'string' && !a.includes('\0') && !isReserved(a))
  );
}

// ipa-client-install parses with Python's optparse: "--server=x" is "--server x", "-wSECRET" is
// "-w SECRET", and any unambiguous prefix of a long option ("--serv") stands for it.
function isReserved(arg: string): boolean {
  const name = arg.split('=', 1)[0]!;
  return RESERVED_INSTALLER_OPTIONS.some((o) =>
    o.startsWith('--')
      ? name.startsWith('--') && name.length > 2 && o.startsWith(name)
      : arg.startsWith(o),
  );
}
