// One test run's directory server: a clone of the template with its own ports, its pristine
// copy for resets, and a watchdog that removes it if the test runner dies.
import { execa } from 'execa';
import type { ChildProcess } from 'node:child_process';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { editDseFile } from './dse.js';
import { note, since } from './log.js';
import { freeLoopbackPorts } from './ports.js';
import { isAlive } from './proc.js';
import type { Instance } from './slapd.js';
import { instancePaths, startSlapd, stopSlapd } from './slapd.js';
import type { Template } from './template.js';
import { CACHE_DIR, currentOwner, ensureCacheDir, INSTANCE_NAME } from './template.js';
import type { Owner } from './watchdog.js';
import { startWatchdog } from './watchdog.js';

export interface RunState {
  runDir: string;
  name: string;
  templateDir: string;
  ldapPort: number;
  ldapsPort: number;
  owner: Owner; // the vitest main process
}

// Files of a run, all under its run folder.
export function runPaths(runDir: string) {
  return {
    state: path.join(runDir, 'run.json'),
    inst: path.join(runDir, 'inst'), // the live instance
    pristine: path.join(runDir, 'pristine'), // never started; copied over inst on reset
    log: path.join(runDir, 'log'), // outside inst, so logs survive resets
    password: path.join(runDir, 'dm.pw'),
    caCert: path.join(runDir, 'ca.crt'),
  };
}

// The instance of a run (its live copy).
export function runInstance(run: Pick<RunState, 'runDir' | 'name'>): Instance {
  const p = runPaths(run.runDir);
  return { root: p.inst, name: run.name, logDir: path.join(p.log, `slapd-${run.name}`) };
}

// Reads a run's state file (works in any process).
export async function readRun(runDir: string): Promise<RunState> {
  return JSON.parse(await readFile(runPaths(runDir).state, 'utf8')) as RunState;
}

async function writeRun(run: RunState): Promise<void> {
  await writeFile(runPaths(run.runDir).state, `${JSON.stringify(run, null, 2)}\n`);
}

async function uidGid(template: Template): Promise<{ uid: number; gid: number }> {
  const dirInfo = await stat(path.join(template.dir, 'var/lib'));
  return { uid: dirInfo.uid, gid: dirInfo.gid };
}

// Copies the template to the run's pristine folder, rewriting paths and ports.
async function clonePristine(template: Template, run: RunState): Promise<void> {
  const p = runPaths(run.runDir);
  const { origin, pathFiles } = template.meta;
  await execa('cp', ['-a', template.dir, p.pristine]);
  await rm(path.join(p.pristine, 'template.json'));
  await rm(path.join(p.pristine, 'var/log', `slapd-${run.name}`), { recursive: true, force: true });
  for (const rel of pathFiles) {
    const file = path.join(p.pristine, rel);
    const text = await readFile(file, 'utf8');
    const rewritten = text.split(`${origin}/var/log/`).join(`${p.log}/`).split(origin).join(p.inst);
    await writeFile(file, rewritten);
  }
  await setPorts(run);
}

async function setPorts(run: RunState): Promise<void> {
  const dse = instancePaths({ ...runInstance(run), root: runPaths(run.runDir).pristine }).dseLdif;
  await editDseFile(dse, {
    'cn=config': {
      'nsslapd-port': String(run.ldapPort),
      'nsslapd-securePort': String(run.ldapsPort),
    },
  });
}

// Replaces the live instance by a copy of the pristine one (server must be stopped).
async function restoreInstance(runDir: string): Promise<void> {
  const p = runPaths(runDir);
  await rm(p.inst, { recursive: true, force: true });
  // cp -a keeps owners (the server user) and modes; fs.cp would not
  await execa('cp', ['-a', p.pristine, p.inst]);
}

// Starts a fresh instance; on a port taken meanwhile by someone else, picks new ports.
async function startWithFreshPorts(run: RunState): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await restoreInstance(run.runDir);
    try {
      await startSlapd(runInstance(run));
      return;
    } catch (err) {
      const busy = err instanceof Error && /address.*in use|PR_Bind|bind\(\)/i.test(err.message);
      if (!busy || attempt >= 3) throw err;
      await stopSlapd(runInstance(run), true);
      [run.ldapPort, run.ldapsPort] = (await freeLoopbackPorts(2)) as [number, number];
      await setPorts(run);
      await writeRun(run);
    }
  }
}

export interface CreatedRun {
  run: RunState;
  watchdog: ChildProcess; // kill it after destroyRun()
}

// Clones the template into a new run folder with free ports and starts it; a watchdog removes
// it all once `owner` (default: this process) is gone.
export async function createRun(template: Template, owner = currentOwner()): Promise<CreatedRun> {
  await ensureCacheDir();
  const runDir = await mkdtemp(path.join(CACHE_DIR, 'run-'));
  await chmod(runDir, 0o755); // the server user must pass through
  const [ldapPort, ldapsPort] = (await freeLoopbackPorts(2)) as [number, number];
  const run: RunState = {
    runDir,
    name: template.meta.name,
    templateDir: template.dir,
    ldapPort,
    ldapsPort,
    owner,
  };
  let watchdog: ChildProcess | undefined;
  try {
    await writeRun(run);
    watchdog = watchRun(run);
    const p = runPaths(runDir);
    const { uid, gid } = await uidGid(template);
    await mkdir(runInstance(run).logDir, { recursive: true });
    await chown(p.log, uid, gid);
    await chown(runInstance(run).logDir, uid, gid);
    await copyFile(path.join(template.dir, 'dm.pw'), p.password);
    await chmod(p.password, 0o600);
    await copyFile(
      path.join(instancePaths({ ...runInstance(run), root: template.dir }).cfgDir, 'ca.crt'),
      p.caCert,
    );
    await chmod(p.caCert, 0o644);
    await clonePristine(template, run);
    await startWithFreshPorts(run);
    return { run, watchdog };
  } catch (err) {
    await destroyRun(runDir);
    watchdog?.kill();
    throw err;
  }
}

// Throws all data away: kill, restore the pristine copy (dse.ldif included), start.
export async function resetRun(runDir: string): Promise<void> {
  const run = await readRun(runDir);
  const inst = runInstance(run);
  await stopSlapd(inst, true);
  await restoreInstance(runDir);
  await startSlapd(inst);
}

// Graceful stop and start, keeping the data (new plugin entries need a restart).
export async function restartRun(runDir: string): Promise<void> {
  const inst = runInstance(await readRun(runDir));
  await stopSlapd(inst);
  await startSlapd(inst);
}

// Kills the run's server and removes its folder.
export async function destroyRun(runDir: string): Promise<void> {
  const name = await readRun(runDir)
    .then((r) => r.name)
    .catch(() => INSTANCE_NAME);
  await stopSlapd(runInstance({ runDir, name }), true);
  await rm(runDir, { recursive: true, force: true });
}

// Starts the watchdog that removes the run if its owner dies without teardown.
function watchRun(run: RunState): ChildProcess {
  return startWatchdog(run.owner, instancePaths(runInstance(run)).cfgDir, run.runDir);
}

// The owner recorded in a run.json ({owner}) or a build's owner.json ({pid, startTime}).
async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<RunState & Owner>;
    const owner = data.owner ?? data;
    return typeof owner.pid === 'number'
      ? { pid: owner.pid, startTime: owner.startTime ?? '' }
      : undefined;
  } catch {
    return undefined;
  }
}

// Removes runs and builds left behind by test runners that died (the watchdog's backup).
export async function sweepStale(): Promise<void> {
  for (const name of await readdir(CACHE_DIR).catch(() => [] as string[])) {
    if (!/^(run|build)-/.test(name)) continue;
    const dir = path.join(CACHE_DIR, name);
    const ownerFile = path.join(dir, name.startsWith('run-') ? 'run.json' : 'owner.json');
    const owner = await readOwner(ownerFile);
    if (owner && isAlive(owner.pid, owner.startTime)) continue;
    // a folder without owner file may be a run being created right now
    if (!owner && Date.now() - (await stat(dir)).mtimeMs < 60_000) continue;
    const t0 = performance.now();
    if (name.startsWith('run-')) await destroyRun(dir);
    else {
      await stopSlapd({ root: dir, name: INSTANCE_NAME, logDir: dir }, true);
      await rm(dir, { recursive: true, force: true });
    }
    note(`removed stale ${dir} (${since(t0)} ms)`);
  }
}
