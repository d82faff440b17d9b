// Shared preamble of every admin subcommand: root check, settings, connection, IPA server check.
import {
  type AdminContext,
  type ConnectionFlags,
  openAdminContext,
} from '../ipa-plugin/admin-context.js';
import { isInstalled } from '../ipa-plugin/install/index.js';
import { isIpaServer } from '../ipa-plugin/install/tree-step.js';
import { CliError, ExitCode } from './errors.js';
import type { Io } from './io.js';

/** Opens and checks the admin context; throws CliError for every reason it cannot. */
export async function adminContext(io: Io, flags: ConnectionFlags): Promise<AdminContext> {
  if (!io.isRoot()) {
    throw new CliError(
      ExitCode.FAILED,
      'Must be root to run this command.',
      'Run it again as root, for example with sudo.',
    );
  }

  if (flags.bindDn !== undefined && flags.bindPasswordFile === undefined) {
    throw new CliError(
      ExitCode.FAILED,
      '--bind-dn needs --bind-password-file.',
      'Give the file holding the password with -y, or leave out -D to use LDAPI autobind as root.',
    );
  }

  const ctx = await openAdminContext(flags);
  try {
    await ctx.dir.connect();
    if (!(await isIpaServer(ctx.dir, ctx.layout, ctx.env.host))) {
      throw new CliError(
        ExitCode.NOT_CONFIGURED,
        `This host (${ctx.env.host}) is not an IPA server: it has no entry in cn=masters.`,
        `Run this command on an IPA server of the domain; check host and basedn in ${ctx.env.confDir}/default.conf.`,
      );
    }
  } catch (err) {
    await ctx.dir.close();
    throw err;
  }

  return ctx;
}

/** Fails with exit code 2 unless `install` has run. */
export async function requireInstalled(ctx: AdminContext): Promise<void> {
  if (!(await isInstalled(ctx))) {
    throw new CliError(
      ExitCode.NOT_CONFIGURED,
      'ipa-hcc-ts is not installed in this domain.',
      'Run "ipa-hcc-ts install" first.',
    );
  }
}
