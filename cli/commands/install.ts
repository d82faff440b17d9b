// `ipa-hcc-ts install`: prepares the directory for enrollment; safe to repeat.
import type { ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import { install } from '../../ipa-plugin/install/index.js';
import { adminContext } from '../context.js';
import { ExitCode } from '../errors.js';
import type { Io } from '../io.js';

/** Runs install and reports each change, or that there was nothing to do. */
export async function installCommand(io: Io, flags: ConnectionFlags): Promise<number> {
  const ctx = await adminContext(io, flags);
  try {
    const result = await install(ctx);
    if (result.changes.length === 0) {
      io.out('ipa-hcc-ts is already installed: nothing to change.');
      return ExitCode.OK;
    }

    result.changes.forEach((c) => io.out(c));
    io.out(`${result.changes.length} changes made.`);
    if (result.restartNeeded) {
      io.out('Restart the directory server for certificate subject uniqueness to take effect:');
      io.out('  ipactl restart');
    }

    return ExitCode.OK;
  } finally {
    await ctx.dir.close();
  }
}
