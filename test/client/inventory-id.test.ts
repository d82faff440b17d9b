// The inventory id: the Insights id when there is one, else a stable UUID of the machine id.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnrollError } from '../../client/errors.js';
import { INVENTORY_NAMESPACE, inventoryId, uuidV5 } from '../../client/inventory-id.js';

const MACHINE_ID = '4c0b2c3e8f0a4d7b9e1f2a3b4c5d6e7f';
let dir: string;
let paths: { insightsMachineId: string; machineId: string };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-'));
  paths = { insightsMachineId: join(dir, 'insights'), machineId: join(dir, 'machine-id') };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('uuidV5', () => {
  it('when given the RFC 9562 example then it gives the published UUID', () => {
    // RFC 9562 appendix A.4: namespace DNS, name "www.example.com".
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});

describe('inventoryId', () => {
  it('when the Insights id is a UUID then it is used, lower-cased', async () => {
    await writeFile(paths.insightsMachineId, '0F3E1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B\n');
    await writeFile(paths.machineId, `${MACHINE_ID}\n`);

    expect(await inventoryId(paths)).toEqual({
      id: '0f3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
      source: 'insights',
    });
  });

  it('when there is no Insights id then the machine id gives the same UUID every time', async () => {
    await writeFile(paths.machineId, `${MACHINE_ID}\n`);

    const first = await inventoryId(paths);
    const second = await inventoryId(paths);

    expect(first).toEqual({ id: uuidV5(INVENTORY_NAMESPACE, MACHINE_ID), source: 'machine-id' });
    // Pinned: a change of namespace or derivation would give every machine a new id.
    expect(first.id).toBe('2a19e433-3bf1-56aa-b30b-42b121499440');
    expect(second).toEqual(first);
  });

  it('when the Insights file holds no UUID then the machine id is used', async () => {
    await writeFile(paths.insightsMachineId, 'not-registered\n');
    await writeFile(paths.machineId, MACHINE_ID);

    expect((await inventoryId(paths)).source).toBe('machine-id');
  });

  it('when two machines differ then their ids differ', () => {
    expect(uuidV5(INVENTORY_NAMESPACE, MACHINE_ID)).not.toBe(
      uuidV5(INVENTORY_NAMESPACE, MACHINE_ID.replace('4c', '4d')),
    );
  });

  it.each([
    ['missing', undefined, 'missing'],
    [
      'uninitialized, as systemd writes it before the first boot',
      'uninitialized\n',
      'not a machine id',
    ],
    ['empty', '', 'not a machine id'],
  ])('when the machine id is %s then it is refused', async (_what, content, why) => {
    if (content !== undefined) {
      await writeFile(paths.machineId, content);
    }

    const err = await inventoryId(paths).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(EnrollError);
    expect((err as EnrollError).code).toBe('no-machine-id');
    expect((err as EnrollError).message).toBe(
      `No inventory id: ${paths.machineId} is ${why} and ${paths.insightsMachineId} holds no UUID.`,
    );
  });
});
