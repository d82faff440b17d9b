// `ipa-hcc-ts unregister`: stops automatic enrollment and removes the registration; hosts that
// already enrolled keep their entries.
import type { ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import { removeAllKeys } from '../../ipa-plugin/domain/keys.js';
import { readRegistration, removeRegistration } from '../../ipa-plugin/domain/registration.js';
import { adminContext, requireInstalled } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';

/** Removes the registration and the signing keys, after confirmation unless unattended. */
export async function unregisterCommand(
  io: Io,
  flags: ConnectionFlags,
  unattended: boolean,
): Promise<number> {
  const ctx = await adminContext(io, flags);
  try {
    await requireInstalled(ctx);
    const reg = await readRegistration(ctx.dir, ctx.layout);
    if (!reg) {
      io.out('The domain is not registered; nothing was changed.');
      return ExitCode.ALREADY_DONE;
    }

    io.out(`Unregistering domain ${ctx.env.domain} (domain id ${reg.domainId}).`);
    io.out('Automatic enrollment stops; hosts that already enrolled are not changed.');
    if (!unattended && !(await io.confirm('Unregister this domain?'))) {
      throw new CliError(
        ExitCode.FAILED,
        'Unregister cancelled; nothing was changed.',
        'Answer "yes" to unregister, or pass --unattended.',
      );
    }

    await removeRegistration(ctx.dir, ctx.layout);
    const removed = await removeAllKeys(ctx.dir, ctx.layout, ctx.settings.keyDir);
    io.out(`Unregistered; removed ${removed} signing key(s).`);
    return ExitCode.OK;
  } finally {
    await ctx.dir.close();
  }
}
