// Offline edits of dse.ldif (cn=config of a stopped ns-slapd).
import { readFile, writeFile } from 'node:fs/promises';

// Splits dse.ldif into records (separated by blank lines), keeping their text as is.
function records(text: string): string[] {
  return text.split(/\n\n/);
}

function dnOf(record: string): string {
  const first = record.replace(/^\n+/, '').split('\n', 1)[0] ?? '';
  return first.replace(/^dn:\s*/i, '').toLowerCase();
}

// Index of the record whose DN matches (case-insensitively), or -1.
function findRecord(recs: string[], dn: string): number {
  const wanted = dn.toLowerCase();
  return recs.findIndex((r) => dnOf(r) === wanted);
}

// Unfolded lines of one record.
function unfold(record: string): string[] {
  return record.replace(/^\n+/, '').replace(/\n /g, '').split('\n');
}

// Returns dse.ldif text where each attribute of `attrs` has exactly the given value.
export function setDseAttributes(text: string, dn: string, attrs: Record<string, string>): string {
  const recs = records(text);
  const i = findRecord(recs, dn);
  if (i < 0) throw new Error(`dse.ldif has no entry ${dn}`);
  const names = Object.keys(attrs).map((a) => a.toLowerCase());
  const kept = unfold(recs[i]!).filter((line) => {
    const name = line.split(':', 1)[0]!.toLowerCase();
    return !names.includes(name);
  });
  recs[i] = [...kept, ...Object.entries(attrs).map(([a, v]) => `${a}: ${v}`)].join('\n');
  return recs.join('\n\n');
}

// The values of one attribute of one entry in dse.ldif text.
export function dseAttribute(text: string, dn: string, attr: string): string[] {
  const recs = records(text);
  const i = findRecord(recs, dn);
  if (i < 0) return [];
  const prefix = `${attr.toLowerCase()}:`;
  return unfold(recs[i]!)
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

// Applies setDseAttributes to a dse.ldif file for several entries.
export async function editDseFile(
  file: string,
  edits: Record<string, Record<string, string>>,
): Promise<void> {
  let text = await readFile(file, 'utf8');
  for (const [dn, attrs] of Object.entries(edits)) text = setDseAttributes(text, dn, attrs);
  await writeFile(file, text);
}
