// Start-up of the enrollment daemon: settings, directory connection as the enrollment service,
// TLS material and this server's signing keys (read once), then serve until told to stop.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../common/log.js';
import { listKeys, privateKeyPath } from '../domain/keys.js';
import { servicePrincipal } from '../install/service-step.js';
import { ldapiUrlForRealm, readIpaEnv, type IpaEnv } from '../ipa-env.js';
import { simpleBind } from '../ldap/bind.js';
import { Directory } from '../ldap/directory.js';
import { layout } from '../layout.js';
import { readServerSettings, type ServerSettings } from '../settings.js';
import { type DaemonConfig, readDaemonConfig } from './config.js';
import type { EnrollmentContext } from './enrollment.js';
import { loadSigningKey, type SigningKey } from './host-token.js';
import { createEnrollmentServer, type TlsMaterial } from './server.js';
import { EnrollmentStore } from './store.js';

const PURGE_INTERVAL_MS = 10 * 60_000;

export interface RunningDaemon {
  url: string;
  stop(): Promise<void>;
}

/** The password file systemd hands over (LoadCredential=bind-password:...), else the configured one. */
export function bindPasswordFile(settings: ServerSettings, env = process.env): string {
  const creds = env.CREDENTIALS_DIRECTORY;
  return creds ? join(creds, 'bind-password') : settings.bindPasswordFile;
}

/** Starts the daemon; resolves once it listens. */
export async function startDaemon(out: Writable = process.stdout): Promise<RunningDaemon> {
  const log = createLogger(out);
  const env = await readIpaEnv();
  const settings = await readServerSettings();
  const config = await readDaemonConfig();
  const dir = connectDirectory(env, settings, config);
  const l = layout(env.basedn);
  const store = new EnrollmentStore(dir, l);
  const ctx: EnrollmentContext = {
    store,
    serverFqdn: env.host,
    realm: env.realm,
    domain: env.domain,
    caBundle: await readFile(config.ipaCaFile, 'utf8'),
    signingKeys: await loadOwnKeys(dir, l, env.host, settings.keyDir, log),
    now: () => new Date(),
  };
  const app = await createEnrollmentServer({
    config,
    tls: await readTls(config),
    ctx,
    audit: log,
    // A bind and Who am I? prove the directory answers, whatever the service may read.
    health: () => dir.whoami().then(() => true),
  });
  const url = (await app.listen({ host: config.listenAddress, port: config.port })).replace(
    /^http:/,
    'https:',
  );
  const purge = setInterval(() => void purgeTokens(store, log), PURGE_INTERVAL_MS).unref();
  log.info({ url, server: env.host, signing_keys: ctx.signingKeys.map((k) => k.kid) }, 'listening');
  return {
    url,
    stop: async () => {
      clearInterval(purge);
      await app.close();
      await dir.close();
      log.info({}, 'stopped');
    },
  };
}

function connectDirectory(env: IpaEnv, settings: ServerSettings, config: DaemonConfig): Directory {
  const principal = servicePrincipal(env.host, env.realm);
  const bindDn = layout(env.basedn).serviceDn(principal);
  return new Directory({
    url: config.ldapUri ?? env.ldapUri ?? ldapiUrlForRealm(env.realm),
    bind: simpleBind(bindDn, bindPasswordFile(settings)),
    operationTimeoutMs: 5_000,
    connectTimeoutMs: 3_000,
  });
}

// Active keys of this server whose private key is on this disk; read once, at start.
async function loadOwnKeys(
  dir: Directory,
  l: ReturnType<typeof layout>,
  host: string,
  keyDir: string,
  log: Logger,
): Promise<SigningKey[]> {
  const own = (await listKeys(dir, l)).filter((k) => k.state === 'active' && k.server === host);
  const keys: SigningKey[] = [];
  for (const k of own) {
    try {
      keys.push(await loadSigningKey(await readFile(privateKeyPath(keyDir, k.kid), 'utf8'), k.kid));
    } catch {
      log.warn({ kid: k.kid, key_dir: keyDir }, 'private signing key unreadable; skipped');
    }
  }

  if (keys.length === 0) {
    log.warn(
      { server: host },
      'no signing key: run "ipa-hcc-ts register" or "ipa-hcc-ts keys rotate"',
    );
  }

  return keys;
}

async function readTls(config: DaemonConfig): Promise<TlsMaterial> {
  const names = (await readdir(config.clientCaDir)).filter((n) => /\.(pem|crt)$/.test(n)).sort();
  const clientCas = await Promise.all(
    names.map((n) => readFile(join(config.clientCaDir, n), 'utf8')),
  );
  if (clientCas.length === 0) {
    throw new Error(`no CA certificates (*.pem, *.crt) in ${config.clientCaDir}`);
  }

  return {
    cert: await readFile(config.tlsCert, 'utf8'),
    key: await readFile(config.tlsKey, 'utf8'),
    clientCas,
  };
}

async function purgeTokens(store: EnrollmentStore, log: Logger): Promise<void> {
  try {
    const removed = await store.purgeUsedTokens(new Date());
    log.debug({ removed }, 'purged used token records');
  } catch {
    log.warn({}, 'could not purge used token records; will retry');
  }
}
