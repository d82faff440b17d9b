// The cached 389-ds template: an instance with FreeIPA's schema and tree, built once (~13 s)
// under /var/tmp and cloned by every test run.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { editDseFile } from './dse.js';
import { findFreeIpaData, renderFiles } from './ipa-templates.js';
import { bindLdapiExternal } from './ldap-client.js';
import { applyLdif, parseLdif } from './ldif.js';
import { note, since } from './log.js';
import { freeLoopbackPorts } from './ports.js';
import { isAlive, procStat } from './proc.js';
import type { DomainSettings } from './settings.js';
import { DIRECTORY_MANAGER } from './settings.js';
import type { Instance } from './slapd.js';
import { instancePaths, NS_SLAPD, startSlapd, stopSlapd } from './slapd.js';
import type { Owner } from './watchdog.js';
import { startWatchdog } from './watchdog.js';

// Bump when the template's content changes in a way the hash inputs do not show.
export const HARNESS_VERSION = 1;
export const CACHE_DIR = '/var/tmp/ipa-hcc-ts-389ds';
export const INSTANCE_NAME = 'ipa';
// BDB, as FreeIPA servers on 389-ds 2.x use. LMDB stops in 0.3 s instead of 2 s (restart), but
// 2.3's LMDB leaves the backend "read-only" after a reindex task (389ds/389-ds-base#5976,
// #6316); it stays selectable for 389-ds builds without BDB.
const DB_LIB = process.env.IPA_HCC_TEST_DS_DB_LIB || 'bdb';
if (DB_LIB !== 'mdb' && DB_LIB !== 'bdb')
  throw new Error(`IPA_HCC_TEST_DS_DB_LIB=${DB_LIB}: use mdb or bdb`);
const DNA_LDIF = fileURLToPath(new URL('./ipauniqueid-dna.ldif', import.meta.url));
const DSCREATE = '/usr/sbin/dscreate';
// lib389 lives in the system python's dist-packages; another python3 on PATH cannot import it
const SYSTEM_PYTHON = '/usr/bin/python3';

export interface TemplateMeta {
  harnessVersion: number;
  hash: string;
  origin: string; // the root the template was built at: clones rewrite this path
  name: string;
  user: string;
  group: string;
  settings: DomainSettings;
  pathFiles: string[]; // files (relative) that mention `origin`
  slapdVersion: string;
  buildMs: number;
}

export interface Template {
  dir: string;
  meta: TemplateMeta;
}

// This process, as a pid plus start time (safe against pid reuse).
export function currentOwner(): Owner {
  return { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? '' };
}

// The server runs as this user: dirsrv when we are root, else ourselves.
export async function serverUser(): Promise<{ user: string; group: string }> {
  if (process.getuid?.() !== 0) {
    const { stdout } = await execa('id', ['-gn']);
    return { user: userInfo().username, group: stdout.trim() };
  }
  const { stdout } = await execa('id', ['-gn', 'dirsrv']);
  return { user: 'dirsrv', group: stdout.trim() };
}

async function ids(user: string, group: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execa('id', ['-u', user])).stdout);
  const { stdout } = await execa('getent', ['group', group]);
  return { uid, gid: Number(stdout.split(':')[2]) };
}

// Version line of the installed ns-slapd, e.g. 389-Directory/2.3.1 B2025.016.1616.
async function slapdVersion(): Promise<string> {
  const { stdout, stderr } = await execa(NS_SLAPD, ['-v'], { reject: false });
  const line = `${stdout}\n${stderr}`.split('\n').find((l) => l.includes('389-Directory'));
  if (!line) throw new Error(`cannot read the 389-ds version from ${NS_SLAPD} -v`);
  return line.trim();
}

// Hash over everything that shapes the template, so that any change builds a new one.
async function templateHash(settings: DomainSettings, user: string, version: string) {
  const data = findFreeIpaData();
  const h = createHash('sha256');
  h.update(JSON.stringify({ HARNESS_VERSION, DB_LIB, settings, user, version }));
  // the harness's own build code too, so an edit to it cannot leave a stale template in use
  const buildCode = ['template.ts', 'ipa-templates.ts', 'ldif.ts', 'dse.ts'].map((f) =>
    fileURLToPath(new URL(f, import.meta.url)),
  );
  for (const file of [...data.schemaFiles, ...data.ditFiles, DNA_LDIF, ...buildCode]) {
    h.update(`\0${path.basename(file)}\0`).update(await readFile(file));
  }
  return h.digest('hex').slice(0, 16);
}

// lib389 reads $PREFIX/share/dirsrv/inf/defaults.inf: point every path into our root.
function rewriteDefaultsInf(text: string, r: string, user: string, group: string): string {
  const set: Record<string, string> = {
    with_systemd: '0',
    with_selinux: 'no',
    sysconf_dir: `${r}/etc`,
    initconfig_dir: `${r}/etc/default`,
    config_dir: `${r}/etc/dirsrv/slapd-{instance_name}`,
    local_state_dir: `${r}/var`,
    run_dir: `${r}/var/run`,
    ldapi: `${r}/var/run/slapd-{instance_name}.socket`,
    pid_file: `${r}/var/run/slapd-{instance_name}.pid`,
    inst_dir: `${r}/var/lib/slapd-{instance_name}`,
    tmpfiles_d: `${r}/etc/tmpfiles.d`,
    tmp_dir: `${r}/tmp`,
    schema_dir: `${r}/etc/dirsrv/slapd-{instance_name}/schema`,
    cert_dir: `${r}/etc/dirsrv/slapd-{instance_name}`,
    lock_dir: `${r}/var/lock/slapd-{instance_name}`,
    db_home_dir: `${r}/var/lib/slapd-{instance_name}/db`,
    user,
    group,
  };
  const out = text.split('\n').map((line) => {
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (!m) return line;
    const [, key, value] = m as unknown as [string, string, string];
    if (key in set) return `${key} = ${set[key]}`;
    return `${key} = ${value.replace(/^\/var\/(log|lib)\/dirsrv\//, `${r}/var/$1/`)}`;
  });
  // never let dscreate write outside our root
  const leak = out.find((l) => /^\w+\s*=\s*\/(etc|run|var)\//.test(l) && !l.includes(r));
  if (leak) throw new Error(`defaults.inf still points outside the instance root: ${leak}`);
  return out.join('\n');
}

// Loopback-only listeners from the start: dscreate itself starts the server once.
function patchTemplateDse(text: string): string {
  const out = text.replace(
    /^nsslapd-port: %ds_port%$/m,
    '$&\nnsslapd-listenhost: 127.0.0.1\nnsslapd-securelistenhost: 127.0.0.1',
  );
  if (out === text) throw new Error('template-dse.ldif has no nsslapd-port line to patch');
  return out;
}

// Creates the private prefix that makes dscreate work without systemd and /etc/dirsrv.
async function preparePrefix(r: string, user: string, group: string): Promise<void> {
  const { uid, gid } = await ids(user, group);
  for (const d of [
    'share/dirsrv/inf',
    'etc/dirsrv',
    'var/run',
    'var/lock',
    'var/log',
    'var/lib',
    'tmp',
  ]) {
    await mkdir(path.join(r, d), { recursive: true });
  }
  await execa('cp', ['-r', '/etc/dirsrv/schema', '/etc/dirsrv/config', `${r}/etc/dirsrv/`]);
  await execa('cp', ['-r', '/usr/share/dirsrv/data', `${r}/share/dirsrv/data`]);
  const inf = await readFile('/usr/share/dirsrv/inf/defaults.inf', 'utf8');
  await writeFile(`${r}/share/dirsrv/inf/defaults.inf`, rewriteDefaultsInf(inf, r, user, group));
  const tdse = `${r}/share/dirsrv/data/template-dse.ldif`;
  await writeFile(tdse, patchTemplateDse(await readFile(tdse, 'utf8')));
  // the server user must be able to enter every parent folder
  for (const d of ['', 'var', 'etc', 'etc/dirsrv']) await chmod(path.join(r, d), 0o755);
  for (const d of ['var/run', 'var/lock', 'var/log', 'var/lib', 'tmp']) {
    await chown(path.join(r, d), uid, gid);
  }
}

// Runs dscreate from an INF file (password inside: 0600, deleted afterwards).
async function dscreate(r: string, password: string, ports: number[], s: DomainSettings) {
  const inf = path.join(r, 'setup.inf');
  const text = [
    '[general]',
    'config_version = 2',
    'full_machine_name = localhost',
    'start = False',
    'systemd = False',
    'selinux = False',
    'strict_host_checking = False',
    '[slapd]',
    `instance_name = ${INSTANCE_NAME}`,
    `port = ${ports[0]}`,
    `secure_port = ${ports[1]}`,
    `root_dn = ${DIRECTORY_MANAGER}`,
    `root_password = ${password}`,
    'self_sign_cert = True',
    'self_sign_cert_valid_months = 120',
    `data_dir = ${r}/share`,
    `db_lib = ${DB_LIB}`,
    // create_suffix_entry = False would be read as true: leave the key out
    '[backend-userroot]',
    `suffix = ${s.suffix}`,
    '',
  ].join('\n');
  await writeFile(inf, text, { mode: 0o600 });
  const python = existsSync(SYSTEM_PYTHON) ? [SYSTEM_PYTHON, DSCREATE] : [DSCREATE];
  const result = await execa(python[0]!, [...python.slice(1), 'from-file', inf], {
    env: { PREFIX: r },
    all: true,
    reject: false,
  });
  await writeFile(path.join(r, 'dscreate.log'), result.all ?? '');
  await rm(inf, { force: true });
  if (result.exitCode !== 0) {
    throw new Error(`dscreate failed (${result.exitCode}):\n${(result.all ?? '').slice(-4000)}`);
  }
}

// Test-sized caches and LDAPI autobind of root as Directory Manager, set while stopped.
async function tuneConfig(inst: Instance): Promise<void> {
  const ldbm = 'cn=ldbm database,cn=plugins,cn=config';
  await editDseFile(instancePaths(inst).dseLdif, {
    'cn=config': {
      'nsslapd-listenhost': '127.0.0.1',
      'nsslapd-securelistenhost': '127.0.0.1',
      'nsslapd-ldapilisten': 'on',
      'nsslapd-ldapiautobind': 'on',
      'nsslapd-ldapimaprootdn': DIRECTORY_MANAGER,
    },
    [`cn=userroot,${ldbm}`]: {
      'nsslapd-cachememsize': '67108864',
      'nsslapd-dncachememsize': '16777216',
    },
  });
  if (DB_LIB === 'bdb') {
    await editDseFile(instancePaths(inst).dseLdif, {
      // autosizing takes a quarter of the RAM and ~100 MB of region files per instance
      [`cn=bdb,cn=config,${ldbm}`]: {
        'nsslapd-cache-autosize': '0',
        'nsslapd-dbcachesize': '33554432',
        'nsslapd-db-durable-transaction': 'off',
      },
    });
  }
}

// FreeIPA's schema files go into the instance schema folder, as ipa-server-install does.
async function installSchema(inst: Instance, files: string[], uid: number, gid: number) {
  const dir = path.join(instancePaths(inst).cfgDir, 'schema');
  for (const file of files) {
    const dst = path.join(dir, path.basename(file));
    await copyFile(file, dst);
    await chown(dst, uid, gid);
    await chmod(dst, 0o440);
  }
}

// Suffix entry (as ipa-server-install creates it), FreeIPA's tree, and the DNA stand-in.
async function loadTree(inst: Instance, s: DomainSettings, ditFiles: string[]): Promise<number> {
  const dc = /^dc=([^,]+)/i.exec(s.suffix)?.[1] ?? s.suffix;
  const suffixEntry = [
    `dn: ${s.suffix}`,
    'objectClass: top',
    'objectClass: domain',
    'objectClass: pilotObject',
    `dc: ${dc}`,
    'info: IPA V2.0',
  ].join('\n');
  const rendered = await renderFiles([...ditFiles, DNA_LDIF], s);
  const client = await bindLdapiExternal(instancePaths(inst).socket);
  try {
    return await applyLdif(client, parseLdif(`${suffixEntry}\n\n${rendered}`));
  } finally {
    await client.unbind();
  }
}

// Drops what a clone does not need or must not inherit (backups, region files, sockets).
async function trimStopped(inst: Instance): Promise<void> {
  const p = instancePaths(inst);
  for (const f of await readdir(p.dbDir)) {
    if (f.startsWith('__db.')) await rm(path.join(p.dbDir, f));
  }
  for (const f of ['dse.ldif.bak', 'dse.ldif.startOK', 'dse.ldif.tmp']) {
    await rm(path.join(p.cfgDir, f), { force: true });
  }
  // unfolded, so that clones can rewrite paths with plain string replacement
  await writeFile(p.dseLdif, (await readFile(p.dseLdif, 'utf8')).replace(/\n /g, ''));
  await rm(path.join(inst.root, 'share/dirsrv/data'), { recursive: true, force: true });
  for (const f of await readdir(path.join(inst.root, 'var/run'))) {
    await rm(path.join(inst.root, 'var/run', f), { force: true });
  }
}

// Relative paths of the regular files that mention `origin` (clones rewrite them).
async function filesMentioning(root: string, origin: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const file = path.join(e.parentPath, e.name);
    // the build's own logs stay for diagnosis; clones log elsewhere
    if (!e.isFile() || file.startsWith(path.join(root, 'var/log/'))) continue;
    const data = await readFile(file);
    if (!data.includes(origin)) continue;
    // BDB's transaction logs name the db files, but are only read by recovery after a crash;
    // a clone starts from a clean shutdown and a crashed clone is restored, never recovered
    if (/\/db\/log\.\d+$/.test(file)) continue;
    if (data.includes(0)) throw new Error(`binary file ${file} mentions the instance root`);
    found.push(path.relative(root, file));
  }
  return found;
}

// Builds a complete template at `r` (a fresh folder); returns its metadata.
async function buildAt(r: string, hash: string, s: DomainSettings): Promise<TemplateMeta> {
  const t0 = performance.now();
  const { user, group } = await serverUser();
  const { uid, gid } = await ids(user, group);
  const data = findFreeIpaData();
  const inst: Instance = {
    root: r,
    name: INSTANCE_NAME,
    logDir: `${r}/var/log/slapd-${INSTANCE_NAME}`,
  };
  await preparePrefix(r, user, group);
  const password = randomBytes(24).toString('base64url');
  await writeFile(path.join(r, 'dm.pw'), password, { mode: 0o600 });
  await dscreate(r, password, await freeLoopbackPorts(2), s);
  note(`template: dscreate done after ${since(t0)} ms`);
  await tuneConfig(inst);
  await installSchema(inst, data.schemaFiles, uid, gid);
  await startSlapd(inst);
  try {
    const n = await loadTree(inst, s, data.ditFiles);
    note(`template: schema + ${n} LDIF records loaded after ${since(t0)} ms`);
  } finally {
    // new plugin entries (uniqueness, DNA) take effect at the next start, i.e. in every clone
    await stopSlapd(inst);
  }
  await trimStopped(inst);
  return {
    harnessVersion: HARNESS_VERSION,
    hash,
    origin: r,
    name: INSTANCE_NAME,
    user,
    group,
    settings: s,
    pathFiles: await filesMentioning(r, r),
    slapdVersion: await slapdVersion(),
    buildMs: since(t0),
  };
}

// Runs fn while holding an exclusive lock file; takes over locks of dead owners.
async function withLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 600_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const fh = await open(lockFile, 'wx').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return undefined;
      throw err;
    });
    if (fh) {
      await fh.writeFile(JSON.stringify(currentOwner()));
      await fh.close();
      try {
        return await fn();
      } finally {
        await unlink(lockFile).catch(() => undefined);
      }
    }
    const text = await readFile(lockFile, 'utf8').catch(() => '');
    const owner = JSON.parse(text || '{}') as Partial<Owner>;
    if (text && (!owner.pid || !isAlive(owner.pid, owner.startTime))) {
      // re-read just before removing, so a lock just taken by another waiter survives
      if ((await readFile(lockFile, 'utf8').catch(() => '')) === text) await unlink(lockFile);
      continue;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${lockFile}`);
    await sleep(250);
  }
}

async function readMeta(dir: string): Promise<TemplateMeta | undefined> {
  const text = await readFile(path.join(dir, 'template.json'), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as TemplateMeta) : undefined;
}

// Builds in a temporary folder and renames it into place, so no one sees a half-built template.
async function build(dir: string, hash: string, s: DomainSettings): Promise<void> {
  const tmp = await mkdtemp(path.join(CACHE_DIR, 'build-'));
  await writeFile(path.join(tmp, 'owner.json'), JSON.stringify(currentOwner()));
  // the build's server must not outlive a killed test runner either; the rename below (or the
  // removal) makes the watchdog leave quietly
  const cfgDir = instancePaths({ root: tmp, name: INSTANCE_NAME, logDir: tmp }).cfgDir;
  const watchdog = startWatchdog(currentOwner(), cfgDir, tmp);
  try {
    const meta = await buildAt(tmp, hash, s);
    await writeFile(path.join(tmp, 'template.json'), `${JSON.stringify(meta, null, 2)}\n`);
    await rm(path.join(tmp, 'owner.json'));
    // rename fails if another run won the race: then its template is as good as ours
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await readMeta(dir))) throw err;
    });
  } finally {
    await stopSlapd({ root: tmp, name: INSTANCE_NAME, logDir: tmp }, true).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    watchdog.kill();
  }
}

// Creates the cache folder; the server user must be able to pass through it.
export async function ensureCacheDir(): Promise<void> {
  await mkdir(CACHE_DIR, { recursive: true });
  if ((await stat(CACHE_DIR)).uid === process.getuid?.()) await chmod(CACHE_DIR, 0o755);
}

// Returns the template for these settings, building it once (under a lock) if needed.
export async function ensureTemplate(s: DomainSettings): Promise<Template> {
  await ensureCacheDir();
  const { user } = await serverUser();
  const hash = await templateHash(s, user, await slapdVersion());
  const dir = path.join(CACHE_DIR, `template-${hash}`);
  let meta = await readMeta(dir);
  if (!meta) {
    await withLock(`${dir}.lock`, async () => {
      if (await readMeta(dir)) return;
      note(`building the 389-ds template ${dir} (once; ~10-15 s)`);
      await build(dir, hash, s);
    });
    meta = await readMeta(dir);
    if (!meta) throw new Error(`template ${dir} missing after build`);
  }
  const now = new Date();
  await utimes(dir, now, now); // marks it as in use for pruneTemplates()
  return { dir, meta };
}

// Removes other templates nobody used for `days` days (old FreeIPA files or 389-ds versions).
export async function pruneTemplates(keep: string, days = 7): Promise<void> {
  const cutoff = Date.now() - days * 86_400_000;
  for (const name of await readdir(CACHE_DIR)) {
    const dir = path.join(CACHE_DIR, name);
    if (!/^template-[0-9a-f]+$/.test(name) || dir === keep) continue;
    if ((await stat(dir)).mtimeMs < cutoff) await rm(dir, { recursive: true, force: true });
  }
}

// The template a run was cloned from (for tests that start a second instance).
export async function loadTemplate(dir: string): Promise<Template> {
  const meta = await readMeta(dir);
  if (!meta) throw new Error(`no template at ${dir}`);
  return { dir, meta };
}
