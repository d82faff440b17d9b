// `ipa-hcc-ts install`: every directory change the product needs, each made only when missing.
import type { AdminContext } from '../admin-context.js';
import { ensureAccess } from './access-step.js';
import type { Change } from './ensure.js';
import {
  ensureCertSubjectUniqueness,
  ensureIndexes,
  waitUntilWritable,
} from './server-config-step.js';
import { DirectoryError } from '../ldap/errors.js';
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

type Step = (ctx: AdminContext) => Promise<Change[]>;

const STEPS: Step[] = [
  (c) => ensureSchema(c.dir),
  (c) => ensureContainers(c.dir, c.layout),
  (c) => ensureHostgroup(c.dir, c.layout),
  (c) => ensureAutomemberRule(c.dir, c.layout),
  (c) => ensureIndexes(c.dir, c.env.basedn),
  async (c) => (await ensureCertSubjectUniqueness(c.dir, c.env.basedn)).changes,
  (c) => ensureAccess(c.dir, c.layout),
  (c) => ensureMasterService(c.dir, c.layout, c.env.host),
  (c) =>
    ensureService(c.dir, c.layout, {
      fqdn: c.env.host,
      realm: c.env.realm,
      passwordFile: c.settings.bindPasswordFile,
      ldapUrl: c.connect.url,
      connect: c.connect,
    }),
];

const STEP_ATTEMPTS = 5;

/** Runs every install step in order; a second run makes no change. */
export async function install(ctx: AdminContext): Promise<InstallResult> {
  const changes: Change[] = [];
  for (const step of STEPS) {
    changes.push(...(await runStep(ctx, step)));
  }

  const restartNeeded = changes.some((c) => c.startsWith('Added uniqueness'));
  return { changes, restartNeeded };
}

// Every step is idempotent, so a step that ran into another server's install (its reindex makes
// the backend read-only for a moment, and cn=config refuses some writes meanwhile) runs again.
async function runStep(ctx: AdminContext, step: Step, attempt = 1): Promise<Change[]> {
  try {
    return await step(ctx);
  } catch (err) {
    if (attempt >= STEP_ATTEMPTS || !isBusy(err)) {
      throw err;
    }

    await waitUntilWritable(ctx.dir, ctx.env.basedn);
    return runStep(ctx, step, attempt + 1);
  }
}

function isBusy(err: unknown): boolean {
  return err instanceof DirectoryError && (err.code === 'unwilling' || err.code === 'other');
}

/** True when install has run: the schema and containers the other commands rely on exist. */
export async function isInstalled(ctx: AdminContext): Promise<boolean> {
  return (await ctx.dir.exists(ctx.layout.jwk)) && (await ctx.dir.exists(ctx.layout.role));
}
