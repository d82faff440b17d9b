// Processes seen through /proc: liveness (zombies count as dead) and ns-slapd of one instance.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  startTime: string; // clock ticks after boot; with the pid it names one process for good
}

// State and start time of a process, or undefined if there is none.
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) may contain spaces and parentheses: split after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTime: fields[19] ?? '' };
}

// True if the process exists and is not a zombie (a killed daemon may wait long to be reaped).
export function isAlive(pid: number, startTime?: string): boolean {
  const stat = procStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

// True if pid is a live ns-slapd serving the instance whose config dir is cfgDir.
export function isSlapdOf(pid: number, cfgDir: string): boolean {
  if (!isAlive(pid) || readProc(pid, 'comm')?.trim() !== 'ns-slapd') return false;
  return (readProc(pid, 'cmdline') ?? '').split('\0').includes(cfgDir);
}

// All live ns-slapd processes of the instance whose config dir is cfgDir.
export function slapdPidsOf(cfgDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => isSlapdOf(pid, cfgDir));
}
