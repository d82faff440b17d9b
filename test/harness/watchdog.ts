// A detached shell that cleans up after a test runner that died without its teardown.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Owner {
  pid: number;
  startTime: string; // from /proc/<pid>/stat: with the pid, it names one process for good
}

// Waits while `dir` exists and the owner lives; then kills whatever ns-slapd serves `cfg` at that
// moment (found in /proc, so servers started by resets are found too) and removes `dir`.
const SCRIPT = `
owner=$1 start=$2 cfg=$3 dir=$4
owner_alive() {
  s=$(cat /proc/$owner/stat 2>/dev/null) || return 1
  s=\${s##*) }
  set -- $s
  [ "$1" != Z ] && [ "$1" != X ] && [ "\${20}" = "$start" ]
}
kill_slapd() {
  for p in /proc/[0-9]*; do
    [ "$(cat $p/comm 2>/dev/null)" = ns-slapd ] || continue
    tr '\\0' '\\n' < $p/cmdline 2>/dev/null | grep -qxF -- "$cfg" && kill -9 \${p#/proc/} 2>/dev/null
  done
}
while [ -d "$dir" ] && owner_alive; do sleep 1; done
[ -d "$dir" ] || exit 0
kill_slapd; sleep 1; kill_slapd
rm -rf -- "$dir"
`;

// Starts a watchdog for the instance with config dir `cfgDir` living in `dir`; kill it (or
// remove or rename `dir`) once the owner has cleaned up itself.
export function startWatchdog(owner: Owner, cfgDir: string, dir: string): ChildProcess {
  const args = [
    '-c',
    SCRIPT,
    'ipa-hcc-ts-watchdog',
    String(owner.pid),
    owner.startTime,
    cfgDir,
    dir,
  ];
  // own session: it survives the death of the test runner and the signals sent to its group
  const child = spawn('sh', args, { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}
