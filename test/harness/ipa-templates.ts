// FreeIPA's schema and directory templates: where they are, and rendering them the way
// ipa-server-install does (ipapython.ipautil.template_str: string.Template, then eval()).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DomainSettings } from './settings.js';
import { projectRoot } from './settings.js';

// Load order of ipaserver/install/dsinstance.py (IPA_SCHEMA_FILES).
export const IPA_SCHEMA_FILES = [
  '60kerberos.ldif',
  '60samba.ldif',
  '60ipaconfig.ldif',
  '60basev2.ldif',
  '60basev3.ldif',
  '60basev4.ldif',
  '60ipapk11.ldif',
  '60ipadns.ldif',
  '60certificate-profiles.ldif',
  '61kerberos-ipav3.ldif',
  '65ipacertstore.ldif',
  '65ipasudo.ldif',
  '70ipaotp.ldif',
  '70topology.ldif',
  '71idviews.ldif',
  '72domainlevels.ldif',
  '73certmap.ldif',
  '15rfc2307bis.ldif',
  '15rfc4876.ldif',
];

// The directory tree a FreeIPA server install loads, in order.
export const DIT_FILES = [
  'bootstrap-template.ldif',
  'kerberos.ldif',
  'master-entry.ldif',
  'default-aci.ldif',
  'unique-attributes.ldif',
  'delegation.ldif',
  'automember.ldif',
  'memberof-conf.ldif',
  'referint-conf.ldif',
];

export interface FreeIpaData {
  schemaFiles: string[]; // absolute paths, IPA_SCHEMA_FILES order
  ditFiles: string[]; // absolute paths, DIT_FILES order
}

// Candidate folders: $FREEIPA_SHARE, /usr/share/ipa, ../shared/freeipa next to the project.
function dataCandidates(env: NodeJS.ProcessEnv): string[] {
  const bases = [
    env.FREEIPA_SHARE,
    '/usr/share/ipa',
    path.join(projectRoot(), '../shared/freeipa'),
  ];
  return bases.filter((base): base is string => !!base).map((base) => path.resolve(base));
}

// The layout of one candidate: flat (/usr/share/ipa) or schema/ + dit/ subfolders.
function dataIn(base: string): FreeIpaData | undefined {
  for (const [schemaDir, ditDir] of [
    [path.join(base, 'schema'), path.join(base, 'dit')],
    [base, base],
  ] as const) {
    const schemaFiles = IPA_SCHEMA_FILES.map((f) => path.join(schemaDir, f));
    const ditFiles = DIT_FILES.map((f) => path.join(ditDir, f));
    if ([...schemaFiles, ...ditFiles].every((f) => existsSync(f))) return { schemaFiles, ditFiles };
  }
  return undefined;
}

// Finds FreeIPA's schema and DIT files; throws naming every place looked at.
export function findFreeIpaData(env: NodeJS.ProcessEnv = process.env): FreeIpaData {
  const tried = dataCandidates(env);
  for (const base of tried) {
    const found = dataIn(base);
    if (found) return found;
  }
  throw new Error(
    `FreeIPA schema/DIT files not found (set FREEIPA_SHARE); looked in: ${tried.join(', ')}`,
  );
}

// MurmurHash3 x86 32-bit, as sssd's pysss_murmur.murmurhash3() that FreeIPA uses.
export function murmurhash3x86_32(data: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  const blocks = data.length >>> 2;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k = (data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24)) >>> 0;
    k = Math.imul(rotl(Math.imul(k, c1), 15), c2);
    h = rotl(h ^ k, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = data.subarray(blocks * 4);
  if (rest.length > 0) {
    let k = 0;
    for (let i = rest.length - 1; i >= 0; i--) k = (k << 8) | rest[i]!;
    h ^= Math.imul(rotl(Math.imul(k, c1), 15), c2);
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SUPPORTED_ENCTYPES = [
  'aes256-sha2:special',
  'aes128-sha2:special',
  'aes256-sha2:normal',
  'aes128-sha2:normal',
  'aes256-cts:special',
  'aes128-cts:special',
  'aes256-cts:normal',
  'aes128-cts:normal',
  'camellia256-cts:special',
  'camellia128-cts:special',
  'camellia256-cts:normal',
  'camellia128-cts:normal',
];
const DEFAULT_ENCTYPES = [
  'aes256-sha2:special',
  'aes128-sha2:special',
  'aes256-cts:special',
  'aes128-cts:special',
];

// The substitution values of dsinstance.py's sub_dict for the test domain.
export function templateValues(
  s: DomainSettings,
  idStart = 1234400000,
  idMax = 1234599999,
): Record<string, string | number> {
  const subidCount = 65536;
  const subidRangeStart = 2 ** 31;
  const subidRangeMax = 2 ** 32 - 2 * subidCount;
  const idRangeSize = idMax - idStart + 1;
  return {
    REALM: s.realm,
    DOMAIN: s.domain,
    SUFFIX: s.suffix,
    ESCAPED_SUFFIX: s.suffix,
    FQDN: s.serverFqdn,
    HOST: s.serverFqdn,
    LIBARCH: '64',
    TIME: Math.floor(Date.now() / 1000),
    IDSTART: idStart,
    IDMAX: idMax,
    IDRANGE_SIZE: idRangeSize,
    SUBID_COUNT: subidCount,
    SUBID_RANGE_START: subidRangeStart,
    SUBID_RANGE_SIZE: subidRangeMax - subidRangeStart,
    SUBID_RANGE_MAX: subidRangeMax,
    SUBID_DNA_THRESHOLD: 500,
    SUBID_BASE_RID: subidRangeStart - idRangeSize,
    DOMAIN_HASH: murmurhash3x86_32(Buffer.from(s.domain), 0xdeadbeef),
    MIN_DOMAIN_LEVEL: 1,
    MAX_DOMAIN_LEVEL: 1,
    DOMAIN_LEVEL: 1,
    DEFAULT_SHELL: '/bin/sh',
    DEFAULT_ADMIN_SHELL: '/bin/bash',
    SELINUX_USERMAP_DEFAULT: 'unconfined_u:s0-s0:c0.c1023',
    SELINUX_USERMAP_ORDER:
      'guest_u:s0$xguest_u:s0$user_u:s0$staff_u:s0-s0:c0.c1023' +
      '$sysadm_u:s0-s0:c0.c1023$unconfined_u:s0-s0:c0.c1023',
    DEFAULT_KEY_TYPE_SIZE: 'rsa:2048',
    LDIF_SUPPORTED_ENCTYPES: SUPPORTED_ENCTYPES.map((e) => `krbSupportedEncSaltTypes: ${e}\n`).join(
      '',
    ),
    LDIF_DEFAULT_ENCTYPES: DEFAULT_ENCTYPES.map((e) => `krbDefaultEncSaltTypes: ${e}\n`).join(''),
  };
}

// Python's string.Template pattern: $$, $name, ${name}, or an invalid '$'.
const PLACEHOLDER = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\}|())/gi;

// string.Template(text).substitute(values): every placeholder must be known, exactly once.
export function substitute(text: string, values: Record<string, string | number>): string {
  return text.replace(
    PLACEHOLDER,
    (match, escaped?: string, named?: string, braced?: string, ...rest: unknown[]) => {
      if (escaped) return '$';
      const name = named ?? braced;
      if (name === undefined) {
        const offset = rest.find((x): x is number => typeof x === 'number') ?? 0;
        const line = text.slice(0, offset).split('\n').length;
        throw new Error(`invalid placeholder '${match}' in template line ${line}`);
      }
      const value = values[name];
      if (value === undefined) throw new Error(`unknown template variable $${name}`);
      return String(value);
    },
  );
}

// Integer arithmetic of eval(...) in templates: numbers with + - * // and unary minus.
export function evalArithmetic(expression: string): number {
  const tokens = expression.match(/\d+|\/\/|[-+*]|\S/g) ?? [];
  let pos = 0;
  const operand = (): number => {
    const t = tokens[pos++];
    if (t === '-') return -operand();
    if (t === '+') return operand();
    if (t === undefined || !/^\d+$/.test(t)) throw new Error(`cannot eval(${expression})`);
    return Number(t);
  };
  let value = operand();
  const terms: number[] = [];
  while (pos < tokens.length) {
    const op = tokens[pos++];
    const rhs = operand();
    if (op === '*') value *= rhs;
    else if (op === '//') value = Math.floor(value / rhs);
    else if (op === '+' || op === '-') {
      terms.push(value);
      value = op === '+' ? rhs : -rhs;
    } else throw new Error(`cannot eval(${expression})`);
  }
  const result = terms.reduce((a, b) => a + b, value);
  if (!Number.isSafeInteger(result)) throw new Error(`eval(${expression}) is not a safe integer`);
  return result;
}

// ipautil.template_str: substitute once, then replace eval(expr) by its value.
export function renderTemplate(text: string, values: Record<string, string | number>): string {
  return substitute(text, values).replace(/eval\s*\(([^()]*)\)/g, (_m, expr: string) =>
    String(evalArithmetic(expr)),
  );
}

// Adjusts rendered FreeIPA LDIF for a 389-ds without FreeIPA's own server plugins.
export function adaptForPlain389(ldif: string): string {
  return (
    ldif
      // ipa-uuid plugin absent: give the tree's own entries real UUIDs (DNA numbers the rest)
      .replace(/^(ipaUniqueID:)[ \t]*autogenerate[ \t]*$/gim, (_m, attr: string) => {
        return `${attr} ${randomUUID()}`;
      })
      // krbPrincipalMatch comes from ipa-krbprinc-mr: with it, uniqueness enforces nothing
      .replace(/^(uniqueness-attribute-name:[ \t]*\w+):krbPrincipalMatch:[ \t]*$/gim, '$1')
  );
}

// Reads and renders the given template files for the test domain, adapted for plain 389-ds.
export async function renderFiles(files: string[], s: DomainSettings): Promise<string> {
  const values = templateValues(s);
  const parts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  return parts.map((text) => adaptForPlain389(renderTemplate(text, values))).join('\n\n');
}
