// The inventory id a host enrolls with: the Insights client's machine id when the machine has
// one, else a name-based UUID (version 5) of systemd's machine id, so the same machine always
// presents the same id.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EnrollError } from './errors.js';

/**
 * Namespace of derived inventory ids: the project's own UUID, whose integer form is the
 * project's OID arc 2.25.34958946784790024735927290689497441328. Never change it: every
 * derived id would change with it.
 */
export const INVENTORY_NAMESPACE = '1a4cd926-7fe3-4f5c-be5d-59546421a430';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// systemd's machine-id(5): 32 lower-case hexadecimal characters.
const MACHINE_ID = /^[0-9a-f]{32}$/;

export interface InventoryId {
  id: string;
  source: 'insights' | 'machine-id';
}

/** Finds the inventory id from the Insights machine id, else from systemd's machine id. */
export async function inventoryId(paths: {
  insightsMachineId: string;
  machineId: string;
}): Promise<InventoryId> {
  const insights = (await readOptional(paths.insightsMachineId))?.trim().toLowerCase();
  if (insights !== undefined && UUID.test(insights)) {
    return { id: insights, source: 'insights' };
  }

  const machineId = (await readOptional(paths.machineId))?.trim().toLowerCase();
  if (machineId === undefined || !MACHINE_ID.test(machineId)) {
    throw new EnrollError(
      'no-machine-id',
      `No inventory id: ${paths.machineId} is ${machineId === undefined ? 'missing' : 'not a machine id'}` +
        ` and ${paths.insightsMachineId} holds no UUID.`,
      'Boot with systemd (it writes /etc/machine-id), or set insights_machine_id or machine_id.',
    );
  }

  return { id: uuidV5(INVENTORY_NAMESPACE, machineId), source: 'machine-id' };
}

/** A name-based UUID, version 5 (SHA-1), of RFC 9562 section 5.5. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }

    throw new EnrollError(
      'no-machine-id',
      `Cannot read ${path}.`,
      'Check that the file is readable by root.',
      err,
    );
  }
}
