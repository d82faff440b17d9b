// Install step: the HCC schema and the project's own schema, added online to cn=schema (it takes
// effect at once and replicates to every IPA server).
import type { Directory } from '../ldap/directory.js';
import { DirectoryError } from '../ldap/errors.js';
import {
  ALGORITHM_ID,
  HCC_SCHEMA,
  OWN_SCHEMA,
  parseDefinition,
  type SchemaElement,
} from '../schema.js';
import type { Change } from './ensure.js';

interface Known {
  oids: Set<string>;
  names: Set<string>;
}

/** Adds every schema element the server does not know yet, by OID or by name. */
export async function ensureSchema(dir: Directory): Promise<Change[]> {
  const known = await knownSchema(dir);
  const wanted = [...HCC_SCHEMA, ...OWN_SCHEMA];
  if (!known.attributeTypes.names.has('algorithmid')) {
    wanted.unshift(ALGORITHM_ID);
  }

  const missing = wanted.filter((el) => !isKnown(known[el.kind], el));
  const ordered = [
    ...missing.filter((el) => el.kind === 'attributeTypes'),
    ...missing.filter((el) => el.kind === 'objectClasses'),
  ];
  const changes: Change[] = [];
  for (const el of ordered) {
    if (await addElement(dir, el)) {
      changes.push(`Added schema ${kindLabel(el)} ${el.name}`);
    }
  }

  return changes;
}

// False when another install added the same definition a moment earlier.
async function addElement(dir: Directory, el: SchemaElement): Promise<boolean> {
  try {
    await dir.modify('cn=schema', [
      { operation: 'add', attribute: el.kind, values: [el.definition] },
    ]);
    return true;
  } catch (err) {
    if (err instanceof DirectoryError && err.code === 'value-exists') {
      return false;
    }

    throw err;
  }
}

function kindLabel(el: SchemaElement): string {
  return el.kind === 'attributeTypes' ? 'attribute type' : 'object class';
}

function isKnown(known: Known, el: SchemaElement): boolean {
  return known.oids.has(el.oid) || known.names.has(el.name.toLowerCase());
}

async function knownSchema(dir: Directory): Promise<Record<SchemaElement['kind'], Known>> {
  const entry = await dir.get('cn=schema', ['attributeTypes', 'objectClasses']);
  if (!entry) {
    throw new Error('the directory server did not return its schema (cn=schema)');
  }

  return {
    attributeTypes: collect(entry.all('attributeTypes')),
    objectClasses: collect(entry.all('objectClasses')),
  };
}

function collect(definitions: string[]): Known {
  const known: Known = { oids: new Set(), names: new Set() };
  for (const def of definitions) {
    const { oid, names } = parseDefinition(def);
    known.oids.add(oid);
    names.forEach((n) => known.names.add(n.toLowerCase()));
  }

  return known;
}
