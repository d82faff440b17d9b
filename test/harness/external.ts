// External directory mode: no snapshot to restore, so entries that tests registered are deleted.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { NoSuchObjectError } from 'ldapts';
import type { ConnectTarget } from './ldap-client.js';
import { bindClient } from './ldap-client.js';
import { note } from './log.js';

export interface TrackTarget extends ConnectTarget {
  suffix: string;
  trackFile?: string;
}

// Test files run in separate workers (vitest isolates modules per file), so the list lives in
// a file the globalSetup made; this set only covers callers without one.
const trackedHere = new Set<string>();

// Splits a DN into its RDNs, honouring backslash escapes and quoted values.
export function rdns(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\') {
      current += c + (dn[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current.trim());
  return parts;
}

// A comparable form of a DN (case and spacing around '=' and ',' ignored).
function normalizeDn(dn: string): string {
  return rdns(dn)
    .map((rdn) => rdn.replace(/\s*=\s*/, '=').toLowerCase())
    .join(',');
}

// True if dn lies strictly below suffix.
export function isBelow(dn: string, suffix: string): boolean {
  const d = normalizeDn(dn);
  const s = normalizeDn(suffix);
  return d.length > s.length && d.endsWith(`,${s}`);
}

// Records a DN to delete at the next reset.
export function track(target: Pick<TrackTarget, 'trackFile'>, dn: string): void {
  if (target.trackFile) appendFileSync(target.trackFile, `${JSON.stringify(dn)}\n`);
  else trackedHere.add(dn);
}

function trackedDns(target: TrackTarget): string[] {
  const fromFile = target.trackFile
    ? readFileSync(target.trackFile, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as string)
    : [];
  const byKey = new Map<string, string>();
  for (const dn of [...fromFile, ...trackedHere]) byKey.set(normalizeDn(dn), dn);
  return [...byKey.values()];
}

// Deletes every tracked entry, deepest first; only entries below the suffix, never subtrees.
export async function deleteTracked(target: TrackTarget): Promise<void> {
  const dns = trackedDns(target);
  if (dns.length === 0) return;
  const refused = dns.filter((dn) => !isBelow(dn, target.suffix));
  for (const dn of refused) note(`not deleting ${dn}: it is not below ${target.suffix}`);
  const todo = dns
    .filter((dn) => isBelow(dn, target.suffix))
    .sort((a, b) => rdns(b).length - rdns(a).length);
  const client = await bindClient(target);
  try {
    for (const dn of todo) {
      try {
        await client.del(dn);
      } catch (err) {
        if (err instanceof NoSuchObjectError) continue;
        // e.g. an untracked child below it: leave it for a human rather than delete a subtree
        note(`could not delete ${dn}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await client.unbind().catch(() => undefined);
  }
  if (target.trackFile) writeFileSync(target.trackFile, '');
  trackedHere.clear();
}
