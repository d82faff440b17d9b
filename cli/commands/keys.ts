// `ipa-hcc-ts keys list|rotate|revoke`: the signing keys of the domain.
import type { AdminContext, ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import {
  createKey,
  listKeys,
  type KeyOwner,
  removeUnusedPrivateKeys,
  retireKeys,
  revokeKey,
  type SigningKeyInfo,
} from '../../ipa-plugin/domain/keys.js';
import { lookupUser } from '../../common/users.js';
import { isKid } from '../../protocol/jwk.js';
import { adminContext, requireInstalled } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';

/** The daemon reads its private keys once, at start. */
export const RESTART_HINT =
  'Restart the enrollment daemon to sign with it: systemctl restart ipa-hcc-tsd';

/** uid and gid of the daemon's user, who must own the private keys. */
export async function daemonOwner(user: string): Promise<KeyOwner> {
  const found = await lookupUser(user);
  if (!found) {
    throw new CliError(
      ExitCode.NOT_CONFIGURED,
      `The system user "${user}" that runs the enrollment daemon does not exist.`,
      'Install the ipa-hcc-ts-server package, or set daemon_user in /etc/ipa-hcc-ts/ipa-hcc-ts.conf.',
    );
  }

  return { uid: found.uid, gid: found.gid };
}

async function withContext(
  io: Io,
  flags: ConnectionFlags,
  run: (ctx: AdminContext) => Promise<number>,
): Promise<number> {
  const ctx = await adminContext(io, flags);
  try {
    await requireInstalled(ctx);
    return await run(ctx);
  } finally {
    await ctx.dir.close();
  }
}

/** Lists every published key with its server, state and expiry. */
export async function keysListCommand(
  io: Io,
  flags: ConnectionFlags,
  json: boolean,
): Promise<number> {
  return withContext(io, flags, async (ctx) => {
    const keys = await listKeys(ctx.dir, ctx.layout);
    if (json) {
      io.out(JSON.stringify(keys.map(keyJson), null, 2));
    } else if (keys.length === 0) {
      io.out('No signing keys.');
    } else {
      io.out(formatTable(['KID', 'SERVER', 'STATE', 'EXPIRES'], keys.map(keyRow)));
    }

    return ExitCode.OK;
  });
}

/** A key as status and keys list print it in JSON. */
export function keyJson(k: SigningKeyInfo) {
  return { kid: k.kid, server: k.server ?? null, state: k.state, expires: k.expires.toISOString() };
}

/** A key as a table row. */
export function keyRow(k: SigningKeyInfo): string[] {
  return [k.kid, k.server ?? '-', k.state, k.expires.toISOString()];
}

/** Gives this server a new signing key; its old keys stop signing but verify until they expire. */
export async function keysRotateCommand(io: Io, flags: ConnectionFlags): Promise<number> {
  return withContext(io, flags, async (ctx) => {
    const key = await rotate(ctx);
    io.out(`Created signing key ${key.kid} (expires ${key.expires.toISOString()}).`);
    io.out(RESTART_HINT);
    return ExitCode.OK;
  });
}

async function rotate(ctx: AdminContext): Promise<SigningKeyInfo> {
  const owner = await daemonOwner(ctx.settings.daemonUser);
  const old = (await listKeys(ctx.dir, ctx.layout)).filter(
    (k) => k.state === 'active' && k.server === ctx.env.host,
  );
  const key = await createKey(ctx.dir, ctx.layout, {
    server: ctx.env.host,
    keyDir: ctx.settings.keyDir,
    owner,
    lifetimeDays: ctx.settings.keyLifetimeDays,
  });
  await retireKeys(
    ctx.dir,
    ctx.layout,
    old.map((k) => k.kid),
  );
  // Retired keys verify tokens until they expire but never sign again: their private half goes.
  await removeUnusedPrivateKeys(
    (await listKeys(ctx.dir, ctx.layout)).filter((k) => k.server === ctx.env.host),
    ctx.settings.keyDir,
  );
  return key;
}

/** Revokes a key at once; if it was this server's signing key, a new one replaces it. */
export async function keysRevokeCommand(
  io: Io,
  flags: ConnectionFlags,
  kid: string,
): Promise<number> {
  if (!isKid(kid)) {
    throw new CliError(
      ExitCode.FAILED,
      `Not a key id: ${JSON.stringify(kid.slice(0, 40))}.`,
      'A key id is 8 letters, digits, "-" or "_"; list them with "ipa-hcc-ts keys list".',
    );
  }

  return withContext(io, flags, async (ctx) => {
    const key = (await listKeys(ctx.dir, ctx.layout)).find((k) => k.kid === kid);
    if (!key) {
      throw new CliError(
        ExitCode.FAILED,
        `No signing key with kid ${JSON.stringify(kid.slice(0, 40))}.`,
        'List the keys with "ipa-hcc-ts keys list".',
      );
    }

    if (key.state === 'revoked') {
      io.out(`Signing key ${kid} is already revoked; nothing was changed.`);
      return ExitCode.ALREADY_DONE;
    }

    const wasSigning = key.state === 'active' && key.server === ctx.env.host;
    await revokeKey(ctx.dir, ctx.layout, kid, ctx.settings.keyDir);
    io.out(`Revoked signing key ${kid}: tokens it signed are refused from now on.`);
    if (wasSigning) {
      const next = await rotate(ctx);
      io.out(`It was this server's signing key; created ${next.kid} to replace it.`);
      io.out(RESTART_HINT);
    }

    return ExitCode.OK;
  });
}
