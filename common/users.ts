// Local system accounts, looked up in /etc/passwd (system users created by sysusers.d live there).
import { readFile } from 'node:fs/promises';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** The local account with that name, or undefined. */
export async function lookupUser(
  name: string,
  passwdFile = '/etc/passwd',
): Promise<SystemUser | undefined> {
  const text = await readFile(passwdFile, 'utf8');
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }

  return undefined;
}
