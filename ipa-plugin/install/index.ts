// `ipa-hcc-ts install`: every directory change the product needs, each made only when missing.
import type { AdminContext } from '../admin-context.js';
import { ensureAccess } from './access-step.js';
import type { Change } from './ensure.js';
import { ensureCertSubjectUniqueness, ensureIndexes } from './server-config-step.js';
import { ensureSchema } from './schema-step.js';
import { ensureService } from './service-step.js';
import {
  ensureAutomemberRule,
  ensureContainers,
  ensureHostgroup,
  ensureMasterService,
} from './tree-step.js';

export interface InstallResult {
  changes: Change[];
  /** The directory server must be restarted for a change to take effect. */
  restartNeeded: boolean;
}

/** Runs every install step in order; a second run makes no change. */
export async function install(ctx: AdminContext): Promise<InstallResult> {
  const { dir, layout: l, env } = ctx;
  const changes: Change[] = [];
  changes.push(...(await ensureSchema(dir)));
  changes.push(...(await ensureContainers(dir, l)));
  changes.push(...(await ensureHostgroup(dir, l)));
  changes.push(...(await ensureAutomemberRule(dir, l)));
  changes.push(...(await ensureIndexes(dir, env.basedn)));
  const uniqueness = await ensureCertSubjectUniqueness(dir, env.basedn);
  changes.push(...uniqueness.changes);
  changes.push(...(await ensureAccess(dir, l)));
  changes.push(...(await ensureMasterService(dir, l, env.host)));
  changes.push(
    ...(await ensureService(dir, l, {
      fqdn: env.host,
      realm: env.realm,
      passwordFile: ctx.settings.bindPasswordFile,
      ldapUrl: ctx.connect.url,
      connect: ctx.connect,
    })),
  );
  return { changes, restartNeeded: uniqueness.restartNeeded };
}

/** True when install has run: the schema and containers the other commands rely on exist. */
export async function isInstalled(ctx: AdminContext): Promise<boolean> {
  return (await ctx.dir.exists(ctx.layout.jwk)) && (await ctx.dir.exists(ctx.layout.role));
}
