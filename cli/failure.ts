// Turns whatever went wrong into one line saying what failed and one saying how to fix it.
import { KeyDirError } from '../ipa-plugin/domain/keys.js';
import { IpaEnvError } from '../ipa-plugin/ipa-env.js';
import { PasswordFileError } from '../ipa-plugin/ldap/bind.js';
import { DirectoryError, describeCause } from '../ipa-plugin/ldap/errors.js';
import { CliError, ExitCode } from './errors.js';

/** Maps an error from any layer to a CliError with an exit code and a hint. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) {
    return err;
  }

  if (err instanceof IpaEnvError) {
    return ipaEnvFailure(err);
  }

  if (err instanceof DirectoryError) {
    return directoryFailure(err, err.url ?? 'the directory');
  }

  if (err instanceof KeyDirError) {
    return new CliError(
      ExitCode.FAILED,
      `Cannot keep private keys in ${err.path}: ${err.message}.`,
      'Set key_dir in /etc/ipa-hcc-ts/ipa-hcc-ts.conf to a directory of the daemon user, or to a path that does not exist yet.',
      err,
    );
  }

  if (err instanceof PasswordFileError || isFsError(err)) {
    const e = err as NodeJS.ErrnoException;
    return new CliError(
      ExitCode.FAILED,
      `Cannot use ${e.path ?? 'a file'}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}`,
      'Check the path and that the file is readable by root.',
      err,
    );
  }

  const message = err instanceof Error ? err.message : String(err);
  return new CliError(
    ExitCode.FAILED,
    message,
    'See the message above; nothing else was changed.',
    err,
  );
}

function isFsError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function ipaEnvFailure(err: IpaEnvError): CliError {
  if (err.missing) {
    return new CliError(
      ExitCode.NOT_CONFIGURED,
      `IPA is not configured on this system: ${err.path} does not exist.`,
      'Run this command on an IPA server (after ipa-server-install or ipa-replica-install), ' +
        'or point IPA_CONFDIR at the directory holding default.conf.',
      err,
    );
  }

  return new CliError(
    ExitCode.NOT_CONFIGURED,
    `IPA's configuration cannot be used: ${err.message}.`,
    `Check ${err.path}; it must have basedn, realm, domain and host in its [global] section.`,
    err,
  );
}

const DIRECTORY_HINTS: Partial<Record<DirectoryError['code'], (url: string) => [string, string]>> =
  {
    unavailable: (url) => [
      `Cannot reach the directory server at ${url}.`,
      'Check that it is running (ipactl status) and that --ldap-uri is right.',
    ],
    timeout: (url) => [
      `The directory server at ${url} did not answer in time.`,
      'Check its load and network path (ipactl status), then run the command again.',
    ],
    insecure: (url) => [
      `Refusing to send a password to ${url} without encryption.`,
      'Use ldaps:// or --start-tls with --ca-cert /etc/ipa/ca.crt, or run as root without -D to use LDAPI.',
    ],
    'invalid-url': (url) => [
      `The directory URL ${url} cannot be used.`,
      'Give --ldap-uri as ldap://host[:port], ldaps://host[:port] or ldapi://%2Fpath%2Fto%2Fsocket.',
    ],
    tls: (url) => [
      `TLS with the directory server at ${url} failed.`,
      'Check --ca-cert names the CA that signed the server certificate (usually /etc/ipa/ca.crt).',
    ],
    'invalid-credentials': () => [
      'The directory refused the credentials.',
      'Check --bind-dn and --bind-password-file, or run as root without them to use LDAPI autobind.',
    ],
    'insufficient-access': () => [
      'The directory refused the change: insufficient access rights.',
      'Run as root on the IPA server (LDAPI autobind) or bind as cn=Directory Manager.',
    ],
  };

function directoryFailure(err: DirectoryError, url: string): CliError {
  const hint = DIRECTORY_HINTS[err.code];
  if (hint) {
    const [message, fix] = hint(url);
    return new CliError(ExitCode.FAILED, message, fix, err);
  }

  const where = err.dn ? ` (${err.dn})` : '';
  const detail = describeCause(err);
  return new CliError(
    ExitCode.FAILED,
    `Directory operation failed${where}: ${err.message}${detail ? `: ${detail}` : ''}.`,
    'Check the directory server error log (/var/log/dirsrv/slapd-*/errors).',
    err,
  );
}
