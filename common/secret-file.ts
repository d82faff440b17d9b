// Files holding secrets (passwords, private keys): created with mode 0600, written atomically.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a secret to a file only its owner can read, atomically (temp file then rename). */
export async function writeSecretFile(
  path: string,
  secret: string,
  uid?: number,
  gid?: number,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    if (uid !== undefined && gid !== undefined) {
      await fh.chown(uid, gid);
    }

    await fh.writeFile(`${secret}\n`);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}
