// Reading the small files the product is configured with, never more than a sane amount: a path
// pointing at /dev/zero or a huge file fails at once instead of exhausting memory.
import { open } from 'node:fs/promises';

export const MAX_SMALL_FILE = 1024 * 1024;

/** The file's path and why it was refused: it is larger than the limit. */
export class FileTooLargeError extends Error {
  readonly path: string;
  readonly syscall = 'read';

  constructor(path: string, limit: number) {
    super(`${path} is larger than ${limit} bytes`);
    this.name = 'FileTooLargeError';
    this.path = path;
  }
}

/** Reads at most `limit` bytes of a file as UTF-8; more than that is an error. */
export async function readSmallFile(path: string, limit = MAX_SMALL_FILE): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(limit + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, size, buf.length - size, null);
      size += bytesRead;
      if (bytesRead === 0 || size > limit) {
        break;
      }
    }

    if (size > limit) {
      throw new FileTooLargeError(path, limit);
    }

    return buf.subarray(0, size).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Like readSmallFile, but a file that does not exist reads as empty (settings with defaults). */
export async function readOptionalFile(path: string, limit = MAX_SMALL_FILE): Promise<string> {
  try {
    return await readSmallFile(path, limit);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return '';
    }

    throw err;
  }
}
