// Starting and stopping one ns-slapd instance from any process: the instance is identified by
// its pid file and /proc, never by a child-process handle (the globalSetup and the vitest
// workers that reset the directory are different processes).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ldapiClient } from './ldap-client.js';
import { isAlive, isSlapdOf, slapdPidsOf } from './proc.js';

export const NS_SLAPD = '/usr/sbin/ns-slapd';

export interface Instance {
  root: string; // private prefix holding etc/dirsrv, var/run, var/lock, var/lib
  name: string; // instance name: slapd-<name>
  logDir: string; // folder of the errors and access logs
}

export interface InstancePaths {
  cfgDir: string;
  dseLdif: string;
  pidFile: string;
  socket: string;
  lockDir: string;
  dbDir: string;
  errorLog: string;
  startupLog: string;
}

// Where an instance keeps its files (the layout dscreate makes under our private prefix).
export function instancePaths({ root, name, logDir }: Instance): InstancePaths {
  const cfgDir = path.join(root, 'etc/dirsrv', `slapd-${name}`);
  return {
    cfgDir,
    dseLdif: path.join(cfgDir, 'dse.ldif'),
    pidFile: path.join(root, 'var/run', `slapd-${name}.pid`),
    socket: path.join(root, 'var/run', `slapd-${name}.socket`),
    lockDir: path.join(root, 'var/lock', `slapd-${name}`),
    dbDir: path.join(root, 'var/lib', `slapd-${name}`, 'db'),
    errorLog: path.join(logDir, 'errors'),
    startupLog: path.join(logDir, 'startup.out'),
  };
}

async function readPidFile(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

// The pid of the instance's running ns-slapd, or undefined.
export async function runningPid(inst: Instance): Promise<number | undefined> {
  const p = instancePaths(inst);
  const pid = await readPidFile(p.pidFile);
  if (pid !== undefined && isSlapdOf(pid, p.cfgDir)) return pid;
  return slapdPidsOf(p.cfgDir)[0];
}

// Last lines of the error log from byte `offset` on, for error messages.
export async function errorLogTail(inst: Instance, offset = 0, lines = 15): Promise<string> {
  const text = await readFrom(instancePaths(inst).errorLog, offset);
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function readFrom(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

// Lock files of a killed server make the next start fail (a zombie still "exists" for kill(0)).
async function removeStaleLocks(lockDir: string): Promise<void> {
  for (const sub of ['server', 'exports', 'imports']) {
    const dir = path.join(lockDir, sub);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const pid = Number(name);
      if (!Number.isSafeInteger(pid) || !isAlive(pid))
        await rm(path.join(dir, name), { force: true });
    }
  }
}

// Runs `ns-slapd -D cfg -i pidfile`; it forks, and the parent exits before the server listens.
async function launchDaemon(inst: Instance, p: InstancePaths, logOffset: number): Promise<void> {
  // a file, not a pipe: the daemon inherits the descriptors and would hold a pipe open forever
  const out = openSync(p.startupLog, 'a');
  try {
    const child = spawn(NS_SLAPD, ['-D', p.cfgDir, '-i', p.pidFile], {
      cwd: inst.root,
      detached: true, // own session: terminal signals to vitest do not reach it
      stdio: ['ignore', out, out],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    const code = await new Promise<number | string | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (status, signal) => resolve(status ?? signal));
    });
    if (code !== 0) {
      const tail = await errorLogTail(inst, logOffset);
      throw new Error(`ns-slapd exited with ${code} (see ${p.startupLog}):\n${tail}`);
    }
  } finally {
    closeSync(out);
  }
}

// One readiness probe: a root DSE search over LDAPI.
async function answers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const client = ldapiClient(socket, { timeout: 2000, connectTimeout: 1000 });
  try {
    await client.search('', { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch {
    return false;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

// Polls until the server answers over LDAPI; fails fast on CRIT/EMERG/ALERT or an early exit.
async function waitReady(inst: Instance, logOffset: number, timeoutMs: number): Promise<number> {
  const p = instancePaths(inst);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await answers(p.socket)) {
      const pid = await runningPid(inst);
      if (pid !== undefined) return pid;
    }
    const log = await readFrom(p.errorLog, logOffset);
    const pid = await readPidFile(p.pidFile);
    const died = pid !== undefined && !isAlive(pid);
    if (/ - (CRIT|EMERG|ALERT) - /.test(log) || died) {
      const tail = log.trimEnd().split('\n').slice(-15).join('\n');
      throw new Error(`ns-slapd ${died ? 'exited' : 'failed'} during start:\n${tail}`);
    }
    if (performance.now() > deadline) {
      throw new Error(`ns-slapd did not answer within ${timeoutMs} ms:\n${log.slice(-3000)}`);
    }
    await sleep(20);
  }
}

// Starts the instance unless it runs, and waits until it answers; returns its pid.
export async function startSlapd(inst: Instance, timeoutMs = 60_000): Promise<number> {
  const running = await runningPid(inst);
  if (running !== undefined) return running;
  const p = instancePaths(inst);
  await rm(p.pidFile, { force: true });
  await removeStaleLocks(p.lockDir);
  const logOffset = await fileSize(p.errorLog);
  await launchDaemon(inst, p, logOffset);
  return waitReady(inst, logOffset, timeoutMs);
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (pids.some((pid) => isAlive(pid))) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

// Stops the instance: SIGTERM and wait (graceful), or SIGKILL when its data is thrown away.
export async function stopSlapd(inst: Instance, hard = false, timeoutMs = 60_000): Promise<void> {
  const p = instancePaths(inst);
  const pids = new Set(slapdPidsOf(p.cfgDir));
  const fromFile = await readPidFile(p.pidFile);
  if (fromFile !== undefined && isSlapdOf(fromFile, p.cfgDir)) pids.add(fromFile);
  const signal = (s: NodeJS.Signals) =>
    pids.forEach((pid) => {
      try {
        process.kill(pid, s);
      } catch {
        // already gone
      }
    });
  signal(hard ? 'SIGKILL' : 'SIGTERM');
  if (!(await waitGone([...pids], timeoutMs))) {
    signal('SIGKILL');
    await waitGone([...pids], 10_000);
  }
  await rm(p.pidFile, { force: true });
}
