// The enrollment, phase by phase: preconditions; then discovery, host-conf and register as one
// round, retried as a whole (a fresh host token each time) until the deadline; then the
// installer. Returns the exit code or throws an EnrollError.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LookupFunction } from 'node:net';
import { DOMAIN_TYPE, type HostConfRequest, type RegisterRequest } from '../protocol/messages.js';
import {
  type CheckedHostConf,
  type CheckedRegister,
  checkHostConf,
  checkRegister,
} from './answers.js';
import { createResolver, ldapSrvName, resolverLookup } from './dns.js';
import { type Discovered, discoverServers, registerOrder } from './discovery.js';
import { EnrollError, ExitCode } from './errors.js';
import { type ExchangeContext, postToFirst, Refusal, refusalError } from './exchange.js';
import {
  checkInstaller,
  displayCommand,
  installerArgs,
  runInstaller,
  writeCaBundle,
} from './installer.js';
import { type InventoryId, inventoryId } from './inventory-id.js';
import { type Io, PROGRAM } from './io.js';
import {
  checkClock,
  checkHostname,
  domainOf,
  exists,
  type Identity,
  ipaDefaultConf,
  readCaCert,
  readIdentity,
} from './preconditions.js';
import { Deadline, DeadlineReached, Retryable, withRetries } from './retry.js';
import { hostOf } from './server-url.js';
import {
  type ClientSettings,
  confDir,
  type RawSettings,
  readSettingsFile,
  resolveSettings,
} from './settings.js';

/** What the command line asked for. */
export interface EnrollFlags {
  /** client.conf named with --config. */
  config?: string;
  /** Settings given as flags; they win over client.conf. */
  settings: RawSettings;
  hostname?: string;
  force: boolean;
  dryRun: boolean;
  verbose: boolean;
}

interface Prepared {
  settings: ClientSettings;
  fqdn: string;
  /** The domain whose SRV records name the servers: the domain setting or the name's. */
  searchDomain: string;
  identity: Identity;
  caCert: string;
  inventory: InventoryId;
}

interface Plan {
  hostConf: { server: string; value: CheckedHostConf };
  registerOrder: string[];
  register?: { server: string; value: CheckedRegister };
}

/** Runs the enrollment; see the file comment. */
export async function enroll(flags: EnrollFlags, io: Io): Promise<number> {
  const say = reporter(io, flags.verbose);
  const ipaConf = ipaDefaultConf(io.env);
  if (!flags.force && (await exists(ipaConf))) {
    io.out(`${PROGRAM}: already an IPA client (${ipaConf} exists); nothing to do.`);
    return ExitCode.OK;
  }

  const prepared = await say.phase('preconditions', () => prepare(flags, io), describePrepared);
  const plan = await negotiate(prepared, flags.dryRun, io, say);
  const { hostConf, register } = plan;
  if (register === undefined) {
    printDryRun(prepared, plan, io);
    return ExitCode.OK;
  }

  await say.phase('ipa-client-install', () => install(prepared, hostConf.value, register, io));
  io.out(
    `${PROGRAM}: ${prepared.fqdn} enrolled in realm ${hostConf.value.realm} ` +
      `through ${register.value.enrollmentServer}.`,
  );
  return ExitCode.OK;
}

async function prepare(flags: EnrollFlags, io: Io): Promise<Prepared> {
  const file = flags.config ?? join(confDir(io.env), 'client.conf');
  const fromFile = await readSettingsFile(file, flags.config !== undefined);
  const settings = resolveSettings(
    [fromFile, { source: 'the command line', values: flags.settings }],
    io.env,
  );
  const fqdn = checkHostname(flags.hostname ?? io.hostname());
  const identity = await readIdentity(settings.cert, settings.key);
  checkClock(identity, io.now());
  const caCert = await readCaCert(settings.caCert);
  await checkInstaller(settings.installer);
  const inventory = await inventoryId(settings);
  const searchDomain = settings.domain ?? domainOf(fqdn);
  return { settings, fqdn, searchDomain, identity, caCert, inventory };
}

function describePrepared(p: Prepared): string {
  return (
    `${p.fqdn}, inventory id ${p.inventory.id} (from ${p.inventory.source}), ` +
    `certificate ${p.identity.cert.subject.replaceAll('\n', ',')}`
  );
}

// Discovery, host-conf and register until one round succeeds or the deadline passes.
async function negotiate(p: Prepared, dryRun: boolean, io: Io, say: Reporter): Promise<Plan> {
  const deadline = new Deadline(io, p.settings.deadlineMs);
  const lookup = p.settings.dnsServers.length > 0 ? lookupThrough(p.settings) : undefined;
  const ctx: ExchangeContext = {
    tls: { ca: p.caCert, cert: p.identity.certPem, key: p.identity.keyPem },
    timeoutMs: p.settings.timeoutMs,
    deadline,
    note: say.note,
    ...(lookup ? { lookup } : {}),
  };
  try {
    return await withRetries(() => round(p, ctx, dryRun, say), {
      io,
      deadline,
      onRetry: (err, waitMs) =>
        io.err(
          `${PROGRAM}: ${err.message}; retrying in ${seconds(waitMs)} s ` +
            `(${seconds(deadline.remaining())} s left before the deadline)`,
        ),
    });
  } catch (err) {
    throw err instanceof DeadlineReached ? deadlineError(p, err) : err;
  }
}

function lookupThrough(settings: ClientSettings): LookupFunction {
  return resolverLookup(createResolver(settings.dnsServers));
}

async function round(
  p: Prepared,
  ctx: ExchangeContext,
  dryRun: boolean,
  say: Reporter,
): Promise<Plan> {
  const discovered = await say.phase('discovery', () => discover(p, ctx), describeDiscovered);
  const hostConf = await say.phase(
    'host-conf',
    () => askHostConf(p, discovered.servers, ctx),
    (c) => `answered by ${c.server}: domain ${c.value.domainName}, realm ${c.value.realm}`,
  );
  const order = registerOrder(
    hostConf.value.enrollmentServers,
    p.settings.location,
    discovered.servers,
    p.settings.serverPort,
  );
  if (dryRun) {
    return { hostConf, registerOrder: order };
  }

  const register = await say.phase(
    'register',
    () => askRegister(p, order, hostConf.value, ctx),
    (r) => `answered by ${r.server}: host entry on ${r.value.enrollmentServer}`,
  );
  return { hostConf, registerOrder: order, register };
}

function discover(p: Prepared, ctx: ExchangeContext): Promise<Discovered> {
  const { settings } = p;
  return discoverServers(
    settings.servers,
    p.searchDomain,
    settings.serverPort,
    createResolver(settings.dnsServers),
    Math.max(1, Math.min(settings.timeoutMs, ctx.deadline.remaining())),
  );
}

function describeDiscovered(d: Discovered): string {
  return `${d.servers.join(', ')} (from ${d.source})`;
}

async function askHostConf(
  p: Prepared,
  servers: string[],
  ctx: ExchangeContext,
): Promise<{ server: string; value: CheckedHostConf }> {
  const { domain, location } = p.settings;
  const body: HostConfRequest = {
    ...(domain === undefined ? {} : { domain_name: domain }),
    ...(location === undefined ? {} : { location }),
  };
  const path = `/hcc/host-conf/${p.inventory.id}/${encodeURIComponent(p.fqdn)}`;
  try {
    const { server, answer } = await postToFirst('host-conf', servers, path, body, ctx);
    return { server, value: checkHostConf(answer.body, server, domain) };
  } catch (err) {
    throw err instanceof Refusal ? refusalError(err, 'host-conf', p.fqdn) : err;
  }
}

async function askRegister(
  p: Prepared,
  servers: string[],
  conf: CheckedHostConf,
  ctx: ExchangeContext,
): Promise<{ server: string; value: CheckedRegister }> {
  const body: RegisterRequest = {
    domain_type: DOMAIN_TYPE,
    domain_name: conf.domainName,
    domain_id: conf.domainId,
    token: conf.token,
  };
  const path = `/hcc/${p.inventory.id}/${encodeURIComponent(p.fqdn)}`;
  try {
    const { server, answer } = await postToFirst('register', servers, path, body, ctx);
    return { server, value: checkRegister(answer.body, server) };
  } catch (err) {
    throw err instanceof Refusal ? registerRefusal(err, p.fqdn) : err;
  }
}

// A server that failed after receiving the request may have used the token already, so the
// next server refuses it as replayed: a new round fetches a new one.
function registerRefusal(refusal: Refusal, fqdn: string): Error {
  if (refusal.code === 'invalid-token' && refusal.failedBefore > 0) {
    return new Retryable(
      `register: ${refusal.server} refused the host token after another server failed`,
    );
  }

  return refusalError(refusal, 'register', fqdn);
}

async function install(
  p: Prepared,
  conf: CheckedHostConf,
  reg: { value: CheckedRegister },
  io: Io,
): Promise<void> {
  const ca = await writeCaBundle(conf.caBundle);
  try {
    const args = installerArgs({
      otp: reg.value.otp,
      server: reg.value.enrollmentServer,
      domain: conf.domainName,
      realm: conf.realm,
      fqdn: p.fqdn,
      caFile: ca.file,
      extra: conf.installerArgs,
    });
    io.err(`${PROGRAM}: running ${displayCommand(p.settings.installer, args)}`);
    await runInstaller(p.settings.installer, args, reg.value.otp, io);
  } finally {
    await ca.remove();
  }
}

function printDryRun(p: Prepared, plan: Plan, io: Io): void {
  const conf = plan.hostConf.value;
  const args = installerArgs({
    otp: 'not-asked-for',
    server: hostOf(plan.registerOrder[0]!),
    domain: conf.domainName,
    realm: conf.realm,
    fqdn: p.fqdn,
    caFile: join(tmpdir(), 'ipa-hcc-ts-enroll-XXXXXX', 'ca.crt'),
    extra: conf.installerArgs,
  });
  io.out(
    `${PROGRAM}: dry run: host-conf answered by ${plan.hostConf.server}: domain ` +
      `${conf.domainName}, realm ${conf.realm}, domain id ${conf.domainId}`,
  );
  io.out(`${PROGRAM}: dry run: register would be tried on ${plan.registerOrder.join(', ')}`);
  io.out(`${PROGRAM}: dry run: nothing was registered; the installer command would be:`);
  io.out(displayCommand(p.settings.installer, args));
}

function deadlineError(p: Prepared, err: DeadlineReached): EnrollError {
  const srv =
    p.settings.servers.length > 0 ? '' : `, the DNS SRV records ${ldapSrvName(p.searchDomain)}`;
  return new EnrollError(
    'deadline',
    `No enrollment server answered within the deadline of ${seconds(p.settings.deadlineMs)} s; ` +
      `last attempt: ${err.last.message}.`,
    `Check the network${srv}, the servers setting and that ipa-hcc-tsd runs on the servers ` +
      `(port ${p.settings.serverPort}); run again with --verbose.`,
    err,
  );
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

interface Reporter {
  /** A detail line, shown with --verbose. */
  note: (line: string) => void;
  /** Runs a phase; with --verbose, says how it went and how long it took. */
  phase: <T>(name: string, run: () => Promise<T>, summary?: (value: T) => string) => Promise<T>;
}

function reporter(io: Io, verbose: boolean): Reporter {
  const note = (line: string) => {
    if (verbose) {
      io.err(`${PROGRAM}: ${line}`);
    }
  };
  const phase = async <T>(name: string, run: () => Promise<T>, summary?: (v: T) => string) => {
    const started = io.now();
    try {
      const value = await run();
      note(`${name}: ${summary?.(value) ?? 'done'} (${io.now() - started} ms)`);
      return value;
    } catch (err) {
      note(`${name}: failed (${io.now() - started} ms)`);
      throw err;
    }
  };
  return { note, phase };
}
