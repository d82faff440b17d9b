// A copy of the project that unprivileged users can read. Tests run the daemon as its own user
// and the admin command as "nobody"; when the checkout lives below a directory only root may
// enter (/root), those users could not load the code, so they get a readable copy in /tmp.
import { constants } from 'node:fs';
import { access, cp, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

const REPO = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
let copy: Promise<string> | undefined;

/** The project root, or a world-readable copy of it when others cannot reach the checkout. */
export function readableRepo(): Promise<string> {
  copy ??= othersCanRead(REPO).then((ok) => (ok ? REPO : makeCopy()));
  return copy;
}

async function othersCanRead(path: string): Promise<boolean> {
  for (let dir = path; ; dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      return false;
    }

    if (dir === '/') {
      break;
    }
  }

  return (await stat(join(path, 'package.json'))).mode & 0o004 ? true : false;
}

/** Where the copy for this test run lives: named after the vitest main process. */
export function runtimeCopyPath(mainPid = process.ppid): string {
  return `/tmp/ipa-hcc-ts-runtime-${mainPid}`;
}

async function makeCopy(): Promise<string> {
  const target = runtimeCopyPath();
  if (
    await access(join(target, 'package.json')).then(
      () => true,
      () => false,
    )
  ) {
    return target; // made by an earlier test file of this run
  }

  await mkdir(target, { recursive: true, mode: 0o755 });
  await cp(REPO, target, {
    recursive: true,
    filter: (src) => !src.includes('/.git'),
  });
  await execa('chmod', ['-R', 'a+rX', target]);
  await access(join(target, 'package.json'), constants.R_OK);
  return target;
}
