// `ipa-hcc-ts status`: the registration, servers, signing keys and enrolled hosts at a glance.
import type { ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import { DirectoryError } from '../../ipa-plugin/ldap/errors.js';
import { listKeys } from '../../ipa-plugin/domain/keys.js';
import { isInstalled } from '../../ipa-plugin/install/index.js';
import {
  countEnrolledHosts,
  listServers,
  readRegistration,
} from '../../ipa-plugin/domain/registration.js';
import { adminContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { toCliError } from '../failure.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';
import { keyJson, keyRow } from './keys.js';

/** Prints the status; when the directory cannot be reached, says so (also in JSON) and fails. */
export async function statusCommand(
  io: Io,
  flags: ConnectionFlags,
  json: boolean,
): Promise<number> {
  let ctx;
  try {
    ctx = await adminContext(io, flags);
  } catch (err) {
    return unreachable(io, err, json);
  }

  try {
    const report = await gather(ctx);
    if (json) {
      io.out(JSON.stringify(report, null, 2));
    } else {
      printReport(io, report);
    }

    return ExitCode.OK;
  } finally {
    await ctx.dir.close();
  }
}

async function gather(ctx: Awaited<ReturnType<typeof adminContext>>) {
  const reg = await readRegistration(ctx.dir, ctx.layout);
  const keys = await listKeys(ctx.dir, ctx.layout);
  return {
    directory: { url: ctx.dir.url, reachable: true },
    installed: await isInstalled(ctx),
    registered: reg !== undefined,
    domain: ctx.env.domain,
    realm: ctx.env.realm,
    domain_id: reg?.domainId ?? null,
    org_id: reg?.orgId ?? null,
    auto_enrollment: reg?.autoEnrollment ?? false,
    allow_rebuild: reg?.allowRebuild ?? false,
    realm_domains: reg?.realmDomains ?? [],
    registered_at: reg?.registeredAt?.toISOString() ?? null,
    servers: (await listServers(ctx.dir, ctx.layout)).map((s) => ({
      fqdn: s.fqdn,
      location: s.location ?? null,
      roles: s.roles,
      enrollment_server: s.enrollment,
    })),
    signing_keys: keys.map(keyJson),
    enrolled_hosts: await countEnrolledHosts(ctx.dir, ctx.layout),
  };
}

type Report = Awaited<ReturnType<typeof gather>>;

function printReport(io: Io, r: Report): void {
  io.out(`Directory:         ${r.directory.url} (reachable)`);
  io.out(`Domain:            ${r.domain}`);
  io.out(`Realm:             ${r.realm}`);
  io.out(`Installed:         ${r.installed ? 'yes' : 'no (run "ipa-hcc-ts install")'}`);
  io.out(`Registered:        ${r.registered ? 'yes' : 'no'}`);
  io.out(`Domain id:         ${r.domain_id ?? '-'}`);
  io.out(`Organisation id:   ${r.org_id ?? '-'}`);
  io.out(`Auto-enrollment:   ${r.auto_enrollment ? 'enabled' : 'disabled'}`);
  io.out(`Rebuilds allowed:  ${r.allow_rebuild ? 'yes' : 'no'}`);
  io.out(`Realm domains:     ${r.realm_domains.join(', ') || '-'}`);
  io.out(`Enrolled hosts:    ${r.enrolled_hosts}`);
  io.out('');
  io.out('Servers:');
  const servers = r.servers.map((s) => [s.fqdn, s.location ?? '-', s.roles.join(', ') || '-']);
  io.out(indent(formatTable(['FQDN', 'LOCATION', 'ROLES'], servers)));
  io.out('');
  io.out('Signing keys:');
  const keys = r.signing_keys.map((k) =>
    keyRow({
      kid: k.kid,
      server: k.server ?? undefined,
      state: k.state,
      expires: new Date(k.expires),
      created: undefined,
      jwk: '',
    }),
  );
  io.out(
    keys.length > 0 ? indent(formatTable(['KID', 'SERVER', 'STATE', 'EXPIRES'], keys)) : '  (none)',
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function unreachable(io: Io, err: unknown, json: boolean): never {
  const failure = toCliError(err);
  const url = err instanceof DirectoryError ? err.url : undefined;
  if (json && url !== undefined && failure.exitCode === ExitCode.FAILED) {
    io.out(
      JSON.stringify({ directory: { url, reachable: false, error: failure.message } }, null, 2),
    );
  }

  throw failure;
}
