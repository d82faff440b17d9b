// `ipa-hcc-ts register`: records the domain for enrollment and gives this server a signing key.
import type { AdminContext, ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import { access } from 'node:fs/promises';
import { createKey, listKeys, privateKeyPath } from '../../ipa-plugin/domain/keys.js';
import {
  listServers,
  newDomainId,
  orgIdFromCertificate,
  orgIdProblem,
  readRegistration,
  realmDomains,
  writeRegistration,
} from '../../ipa-plugin/domain/registration.js';
import { adminContext, requireInstalled } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { daemonOwner } from './keys.js';

export interface RegisterOptions {
  orgId?: string;
  unattended?: boolean;
  force?: boolean;
  allowRebuild?: boolean;
}

/** Registers the domain, asking for confirmation unless unattended. */
export async function registerCommand(
  io: Io,
  flags: ConnectionFlags,
  opts: RegisterOptions,
): Promise<number> {
  if (opts.orgId !== undefined) {
    checkOrgId(opts.orgId, '--org-id');
  }

  const ctx = await adminContext(io, flags);
  try {
    return await register(io, ctx, opts);
  } finally {
    await ctx.dir.close();
  }
}

async function register(io: Io, ctx: AdminContext, opts: RegisterOptions): Promise<number> {
  await requireInstalled(ctx);
  const existing = await readRegistration(ctx.dir, ctx.layout);
  if (existing && !opts.force) {
    io.out(
      `The domain is already registered (domain id ${existing.domainId}, org id ${existing.orgId}).`,
    );
    io.out('Nothing was changed. Use --force to register it again with a new domain id.');
    return ExitCode.ALREADY_DONE;
  }

  const orgId = opts.orgId ?? (await orgIdFromRhsm(ctx.settings.rhsmCert));
  const owner = await daemonOwner(ctx.settings.daemonUser);
  const plan = {
    domainId: newDomainId(),
    orgId,
    autoEnrollment: true,
    allowRebuild: opts.allowRebuild ?? false,
    realmDomains: await realmDomains(ctx.dir, ctx.layout, ctx.env.domain),
  };
  const servers = (await listServers(ctx.dir, ctx.layout)).filter((s) => s.enrollment);
  describePlan(
    io,
    ctx,
    plan,
    servers.map((s) => s.fqdn),
  );
  if (!opts.unattended && !(await io.confirm('Register this domain?'))) {
    throw new CliError(
      ExitCode.FAILED,
      'Registration cancelled; nothing was changed.',
      'Answer "yes" to register, or pass --unattended.',
    );
  }

  if (!(await hasUsableKey(ctx))) {
    const key = await createKey(ctx.dir, ctx.layout, {
      server: ctx.env.host,
      keyDir: ctx.settings.keyDir,
      owner,
      lifetimeDays: ctx.settings.keyLifetimeDays,
    });
    io.out(`Created signing key ${key.kid} (expires ${key.expires.toISOString()}).`);
  }

  await writeRegistration(ctx.dir, ctx.layout, plan);
  io.out(`Registered domain ${ctx.env.domain} with domain id ${plan.domainId}.`);
  return ExitCode.OK;
}

// An active key of this server counts only when its private key is on this disk.
async function hasUsableKey(ctx: AdminContext): Promise<boolean> {
  const own = (await listKeys(ctx.dir, ctx.layout)).filter(
    (k) => k.state === 'active' && k.server === ctx.env.host,
  );
  for (const k of own) {
    if (
      await access(privateKeyPath(ctx.settings.keyDir, k.kid)).then(
        () => true,
        () => false,
      )
    ) {
      return true;
    }
  }

  return false;
}

function describePlan(
  io: Io,
  ctx: AdminContext,
  plan: { domainId: string; orgId: string; realmDomains: string[]; allowRebuild: boolean },
  servers: string[],
): void {
  io.out('The following will be registered for automatic enrollment:');
  io.out(`  Domain:              ${ctx.env.domain}`);
  io.out(`  Realm:               ${ctx.env.realm}`);
  io.out(`  Domain id:           ${plan.domainId}`);
  io.out(`  Organisation id:     ${plan.orgId}`);
  io.out(`  Realm domains:       ${plan.realmDomains.join(', ')}`);
  io.out(`  Enrollment servers:  ${servers.join(', ') || '(none)'}`);
  io.out(`  Rebuilds allowed:    ${plan.allowRebuild ? 'yes' : 'no'}`);
  io.out(`  Signing key of:      ${ctx.env.host}`);
}

function checkOrgId(orgId: string, source: string): void {
  const problem = orgIdProblem(orgId);
  if (problem) {
    throw new CliError(
      ExitCode.FAILED,
      `Invalid organisation id from ${source}: ${JSON.stringify(orgId.slice(0, 80))}.`,
      `Give a valid one with --org-id: ${problem}.`,
    );
  }
}

async function orgIdFromRhsm(certPath: string): Promise<string> {
  let orgId: string;
  try {
    orgId = await orgIdFromCertificate(certPath);
  } catch (err) {
    throw new CliError(
      ExitCode.FAILED,
      `Cannot read the organisation id from ${certPath}.`,
      'Register the server with subscription-manager, or give the organisation id with --org-id.',
      err,
    );
  }

  checkOrgId(orgId, certPath);
  return orgId;
}
