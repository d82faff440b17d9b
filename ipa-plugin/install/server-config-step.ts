// Install step: 389-ds configuration under cn=config: indexes for the HCC host attributes and
// uniqueness of the certificate subject across the suffix.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Directory } from '../ldap/directory.js';
import { childDn } from '../ldap/dn.js';
import { eq } from '../ldap/filter.js';
import { DirectoryError } from '../ldap/errors.js';
import { type Change, ensureEntry } from './ensure.js';

const LDBM = 'cn=ldbm database,cn=plugins,cn=config';
const INDEXED = ['HCCSubscriptionId', 'HCCInventoryId', 'HCCCertSubject', 'HCCOrgId'];
const INDEX_TYPES = ['eq', 'pres'];
export const UNIQUENESS_PLUGIN = 'cn=HCCCertSubject uniqueness,cn=plugins,cn=config';
const REINDEX_TIMEOUT_MS = 120_000;
const REINDEX_ATTEMPTS = 5;

/** The database backend (e.g. userRoot) that holds the suffix. */
export async function backendOf(dir: Directory, suffix: string): Promise<string> {
  const found = await dir.search({
    base: LDBM,
    scope: 'one',
    filter: eq('nsslapd-suffix', suffix),
    attributes: ['cn'],
  });
  const name = found[0]?.first('cn');
  if (!name) {
    throw new Error(`no database backend holds ${suffix}`);
  }

  return name;
}

/** Equality and presence indexes; new or changed indexes are rebuilt by a reindex task. */
export async function ensureIndexes(dir: Directory, suffix: string): Promise<Change[]> {
  const backend = await backendOf(dir, suffix);
  const base = `cn=index,${childDn('cn', backend, LDBM)}`;
  const changed: string[] = [];
  for (const attr of INDEXED) {
    if (await ensureIndex(dir, childDn('cn', attr, base), attr)) {
      changed.push(attr);
    }
  }

  if (changed.length > 0) {
    await reindexWithRetries(dir, backend, suffix);
  }

  // Also when another server's install is reindexing at this moment.
  await waitUntilWritable(dir, suffix);

  return changed.map((a) => `Added equality and presence index for ${a}`);
}

async function ensureIndex(dir: Directory, dn: string, attr: string): Promise<boolean> {
  const entry = await dir.get(dn, ['nsIndexType']);
  if (!entry) {
    return addIndex(dir, dn, attr);
  }

  const missing = INDEX_TYPES.filter((t) => !entry.hasValue('nsIndexType', t));
  if (missing.length === 0) {
    return false;
  }

  await dir.modify(dn, [{ operation: 'add', attribute: 'nsIndexType', values: missing }]);
  return true;
}

// False when another install added the same index a moment earlier (that one reindexes).
async function addIndex(dir: Directory, dn: string, attr: string): Promise<boolean> {
  try {
    await dir.add(dn, {
      objectClass: ['top', 'nsIndex'],
      cn: attr,
      nsSystemIndex: 'false',
      nsIndexType: INDEX_TYPES,
    });
    return true;
  } catch (err) {
    if (err instanceof DirectoryError && err.code === 'already-exists') {
      return false;
    }

    throw err;
  }
}

// Index entries only apply to data written afterwards, and an LMDB backend opens the index of a
// new attribute only when it is built: a reindex task does both.
// Every HCC index is rebuilt, not only the ones this run added: when two servers install at once,
// one task may fail on the busy backend while the other covers only its own additions.
async function reindexWithRetries(dir: Directory, backend: string, suffix: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await reindex(dir, backend, INDEXED);
      return;
    } catch (err) {
      if (attempt >= REINDEX_ATTEMPTS) {
        throw err;
      }
    }

    await waitUntilWritable(dir, suffix);
    await sleep(200 * attempt);
  }
}

async function reindex(dir: Directory, backend: string, attrs: string[]): Promise<void> {
  const cn = `ipa-hcc-ts reindex ${Date.now()} ${randomBytes(4).toString('hex')}`;
  const dn = childDn('cn', cn, 'cn=index,cn=tasks,cn=config');
  await dir.add(dn, {
    objectClass: ['top', 'extensibleObject'],
    cn,
    nsInstance: backend,
    nsIndexAttribute: attrs.map((a) => `${a}:${INDEX_TYPES.join(',')}`),
  });
  await waitForTask(dir, dn);
}

async function waitForTask(dir: Directory, dn: string): Promise<void> {
  const deadline = Date.now() + REINDEX_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const task = await dir.get(dn, ['nsTaskExitCode', 'nsTaskStatus']);
    const code = task?.first('nsTaskExitCode');
    if (code === '0') {
      return;
    }

    if (task === undefined) {
      throw new Error(`reindex task ${dn} disappeared before it finished`);
    }

    if (code !== undefined) {
      throw new Error(`reindex task failed: ${task.first('nsTaskStatus') ?? `exit code ${code}`}`);
    }

    await sleep(200);
  }

  throw new Error('reindex task did not finish in time');
}

/**
 * Waits while the backend is read-only (it is during a reindex, which reports success a moment
 * before the backend takes writes again). Deleting a value the suffix entry does not have
 * changes nothing: "no such attribute" proves the backend writable.
 */
export async function waitUntilWritable(dir: Directory, suffix: string): Promise<void> {
  const deadline = Date.now() + REINDEX_TIMEOUT_MS;
  const probe = `ipa-hcc-ts write probe ${Date.now()}`;
  for (;;) {
    try {
      await dir.modify(suffix, [
        { operation: 'delete', attribute: 'description', values: [probe] },
      ]);
      return; // unreachable in practice: the value never exists
    } catch (err) {
      const code = err instanceof DirectoryError ? err.code : 'other';
      if (code === 'no-such-attribute') {
        return;
      }

      if (Date.now() > deadline || !['unwilling', 'other', 'not-found'].includes(code)) {
        throw err;
      }
    }

    await sleep(100);
  }
}

/**
 * Uniqueness of HCCCertSubject below the suffix (389-ds attribute uniqueness plugin). New plugin
 * entries take effect when the directory server restarts; `restartNeeded` says so.
 */
export async function ensureCertSubjectUniqueness(
  dir: Directory,
  suffix: string,
): Promise<{ changes: Change[]; restartNeeded: boolean }> {
  const changes = await ensureEntry(
    dir,
    UNIQUENESS_PLUGIN,
    uniquenessPlugin(suffix),
    'uniqueness of HCCCertSubject across the suffix',
  );
  return { changes, restartNeeded: changes.length > 0 };
}

function uniquenessPlugin(suffix: string) {
  return {
    objectClass: ['top', 'nsSlapdPlugin', 'extensibleObject'],
    cn: 'HCCCertSubject uniqueness',
    'nsslapd-pluginPath': 'libattr-unique-plugin',
    'nsslapd-pluginInitfunc': 'NSUniqueAttr_Init',
    'nsslapd-pluginType': 'preoperation',
    'nsslapd-pluginEnabled': 'on',
    'nsslapd-plugin-depends-on-type': 'database',
    'nsslapd-pluginId': 'NSUniqueAttr',
    'nsslapd-pluginVersion': '1.1.0',
    'nsslapd-pluginVendor': 'ipa-hcc-ts',
    'nsslapd-pluginDescription': 'Enforce unique HCCCertSubject values',
    'uniqueness-attribute-name': 'HCCCertSubject',
    'uniqueness-subtrees': suffix,
    'uniqueness-exclude-subtrees': `cn=compat,${suffix}`,
  };
}
