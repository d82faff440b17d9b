// A small LDIF (RFC 2849) change-record reader, and applying records with ldapts.
import { Attribute, Change } from 'ldapts';
import type { Client } from 'ldapts';

type Value = string | Buffer;

export type LdifRecord =
  | { kind: 'add'; dn: string; attributes: Map<string, { type: string; values: Value[] }> }
  | { kind: 'modify'; dn: string; changes: LdifChange[] }
  | { kind: 'delete'; dn: string };

export interface LdifChange {
  operation: 'add' | 'delete' | 'replace';
  type: string;
  values: Value[];
}

interface Line {
  name: string;
  value: Value;
}

// Joins folded lines and drops comments; returns records as lists of logical lines.
function logicalRecords(text: string): string[][] {
  const records: string[][] = [];
  let current: string[] = [];
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    if (raw.startsWith(' ') && current.length > 0) {
      current[current.length - 1] += raw.slice(1);
    } else if (raw.trim() === '') {
      if (current.length > 0) records.push(current);
      current = [];
    } else {
      current.push(raw);
    }
  }
  if (current.length > 0) records.push(current);
  // comments are dropped after unfolding, since a comment may be folded too
  return records
    .map((r) => r.filter((l) => !l.startsWith('#')))
    .filter((r) => r.length > 0 && !(r.length === 1 && /^version:/i.test(r[0]!)));
}

// Parses "name: value", "name:: base64" (and rejects "name:< url").
function parseLine(line: string): Line {
  const m = /^([A-Za-z0-9][\w.;-]*|-)(:<|::|:|)[ ]*(.*)$/.exec(line);
  if (!m || (m[2] === '' && m[1] !== '-')) throw new Error(`bad LDIF line: ${line}`);
  const [, name, sep, rest] = m as unknown as [string, string, string, string];
  if (sep === ':<') throw new Error(`LDIF URL values are not supported: ${line}`);
  if (sep === '::') {
    const bytes = Buffer.from(rest, 'base64');
    const text = bytes.toString('utf8');
    return { name, value: Buffer.from(text, 'utf8').equals(bytes) ? text : bytes };
  }
  return { name, value: rest };
}

function text(value: Value): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

// Attribute lines of an add record, merged case-insensitively by type.
function addRecord(dn: string, lines: Line[]): LdifRecord {
  const attributes = new Map<string, { type: string; values: Value[] }>();
  for (const { name, value } of lines) {
    const key = name.toLowerCase();
    const attr = attributes.get(key) ?? { type: name, values: [] };
    attr.values.push(value);
    attributes.set(key, attr);
  }
  return { kind: 'add', dn, attributes };
}

// "add:/delete:/replace: type", its values, "-" groups of a modify record.
function modifyRecord(dn: string, lines: Line[]): LdifRecord {
  const changes: LdifChange[] = [];
  let change: LdifChange | undefined;
  for (const { name, value } of lines) {
    const op = name.toLowerCase();
    if (!change) {
      if (op !== 'add' && op !== 'delete' && op !== 'replace') {
        throw new Error(`bad modify line in ${dn}: ${name}: ${text(value)}`);
      }
      change = { operation: op, type: text(value).trim(), values: [] };
    } else if (name === '-') {
      changes.push(change);
      change = undefined;
    } else if (op === change.type.toLowerCase()) {
      change.values.push(value);
    } else {
      throw new Error(`attribute ${name} inside the ${change.type} change of ${dn}`);
    }
  }
  if (change) changes.push(change);
  return { kind: 'modify', dn, changes };
}

// Parses LDIF into change records; a record without changetype is an add (ldapmodify -a).
export function parseLdif(ldif: string): LdifRecord[] {
  return logicalRecords(ldif).map((record) => {
    const lines = record.map(parseLine);
    const first = lines.shift();
    if (first?.name.toLowerCase() !== 'dn') throw new Error(`LDIF record without dn: ${record[0]}`);
    const dn = text(first.value).trim();
    let changetype = 'add';
    if (lines[0]?.name.toLowerCase() === 'changetype') {
      changetype = text(lines.shift()!.value).trim().toLowerCase();
    }
    if (changetype === 'add') return addRecord(dn, lines);
    if (changetype === 'modify') return modifyRecord(dn, lines);
    if (changetype === 'delete') return { kind: 'delete', dn };
    throw new Error(`unsupported changetype ${changetype} for ${dn}`);
  });
}

// Sends one record; the error names the entry.
async function applyRecord(client: Client, record: LdifRecord): Promise<void> {
  if (record.kind === 'add') {
    const attributes = [...record.attributes.values()].map(
      ({ type, values }) => new Attribute({ type, values: values as string[] | Buffer[] }),
    );
    await client.add(record.dn, attributes);
  } else if (record.kind === 'modify') {
    const changes = record.changes.map(
      ({ operation, type, values }) =>
        new Change({
          operation,
          modification: new Attribute({ type, values: values as string[] | Buffer[] }),
        }),
    );
    await client.modify(record.dn, changes);
  } else {
    await client.del(record.dn);
  }
}

// Applies records in order, like ldapmodify without -c; returns how many were applied.
export async function applyLdif(client: Client, records: LdifRecord[]): Promise<number> {
  for (const record of records) {
    try {
      await applyRecord(client, record);
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new Error(`LDIF ${record.kind} of ${record.dn} failed: ${why}`, { cause: err });
    }
  }
  return records.length;
}
