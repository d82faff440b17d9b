// The manual pages in man/: each renders with scdoc and formats with man, and each stays true to
// the code it describes (error registry, settings with defaults, options, exit codes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as adminMain } from '../../cli/main.js';
import { ExitCode as AdminExitCode } from '../../cli/errors.js';
import { ExitCode as ClientExitCode } from '../../client/errors.js';
import { SETTING_KEYS, settingDefaults } from '../../client/settings.js';
import { DAEMON_DEFAULTS } from '../../ipa-plugin/daemon/config.js';
import { readServerSettings } from '../../ipa-plugin/settings.js';
import { ERROR_CODES } from '../../protocol/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAN_DIR = join(ROOT, 'man');
const PAGES = [
  'ipa-hcc-ts.1',
  'ipa-hcc-tsd.8',
  'ipa-hcc-ts-enroll.8',
  'ipa-hcc-ts.conf.5',
  'ipa-hcc-ts-client.conf.5',
];

const hasCommand = (name: string): boolean =>
  spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name]).status === 0;
const hasMan = hasCommand('man') && hasCommand('col');

let outDir: string;
/** Rendered troff of each page, by page name. */
const troff = new Map<string, string>();

beforeAll(() => {
  if (!hasCommand('scdoc')) {
    throw new Error('scdoc is missing: apt-get install -y --no-install-recommends scdoc');
  }

  outDir = mkdtempSync(join(tmpdir(), 'ipa-hcc-ts-man-'));
  for (const page of PAGES) {
    const source = readFileSync(join(MAN_DIR, `${page}.scd`), 'utf8');
    const r = spawnSync('scdoc', [], { input: source, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`scdoc failed on man/${page}.scd: ${r.stderr.trim()}`);
    }

    writeFileSync(join(outDir, page), r.stdout);
    troff.set(page, r.stdout);
  }
});

afterAll(() => {
  if (outDir) {
    rmSync(outDir, { recursive: true, force: true });
  }
});

/** The troff of a page as plain text: font changes and escapes removed, lines kept. */
function plain(page: string): string {
  return (troff.get(page) ?? '')
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\&/g, '')
    .replace(/\\\(aq/g, "'")
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\')
    .replace(/\\\\/g, '\\');
}

/** Lines of one section (.SH NAME) of a page, in plain text. */
function section(page: string, name: string): string[] {
  const lines = plain(page).split('\n');
  const start = lines.findIndex((l) => l === `.SH ${name}` || l === `.SH "${name}"`);
  expect(start, `section ${name} of ${page}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The text of a definition (a line starting with `term`, up to its indented block's end). */
function definition(page: string, term: string): string {
  const lines = plain(page).split('\n');
  const start = lines.findIndex((l) => l.startsWith(term));
  expect(start, `"${term}" in ${page}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l === '.RE');
  return lines
    .slice(start, end)
    .filter((l) => !l.startsWith('.'))
    .join(' ');
}

/** Long options listed in the Options: part of a commander help text. */
function longOptions(help: string): string[] {
  const options = help.split(/^Options:$/m)[1]?.split(/^\S.*:$/m)[0] ?? '';
  return [...options.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!);
}

async function adminHelp(argv: string[]): Promise<string> {
  const out: string[] = [];
  const io = {
    out: (s: string) => out.push(s),
    err: (s: string) => out.push(s),
    confirm: () => Promise.resolve(false),
    isRoot: () => true,
  };
  expect(await adminMain([...argv, '--help'], io)).toBe(0);
  return out.join('\n');
}

describe('man pages', () => {
  it('when man/ is listed then it holds exactly the expected scdoc sources', () => {
    const sources = readdirSync(MAN_DIR).filter((n) => n.endsWith('.scd'));

    expect(sources.sort()).toEqual(PAGES.map((p) => `${p}.scd`).sort());
  });

  it.each(PAGES)('when %s is rendered with scdoc then it is a page with a NAME section', (page) => {
    const text = troff.get(page)!;
    const [name, sectionNo] = [page.slice(0, page.lastIndexOf('.')), page.split('.').pop()];

    expect(text).toMatch(new RegExp(`^\\.TH "${name.replace(/[.]/g, '\\.')}" "${sectionNo}"`, 'm'));
    expect(section(page, 'NAME').join(' ')).toContain(`${name} - `);
  });

  it.skipIf(!hasMan).each(PAGES)('when %s is formatted by man then it has no warnings', (page) => {
    const r = spawnSync(
      'sh',
      ['-c', 'man --warnings -l "$1" | col -bx', 'sh', join(outDir, page)],
      {
        encoding: 'utf8',
        env: { ...process.env, MANWIDTH: '80', MAN_DISABLE_SECCOMP: '1' },
      },
    );

    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^NAME$/m);
    expect(r.stdout).toMatch(/^DESCRIPTION$/m);
    expect(r.stdout.split('\n').every((l) => l.length <= 80)).toBe(true);
  });
});

describe('ipa-hcc-tsd(8)', () => {
  it('when the error registry is read then every code appears with its HTTP status', () => {
    const errors = section('ipa-hcc-tsd.8', 'ERRORS').join('\n');

    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(errors, code).toContain(`${code} (${status})`);
    }

    const listed = [...errors.matchAll(/^([a-z-]+) \(\d{3}\)$/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('when the endpoints are read then the four routes of the daemon are described', () => {
    const endpoints = section('ipa-hcc-tsd.8', 'ENDPOINTS').join('\n');

    for (const route of [
      'POST /hcc/host-conf/',
      'POST /hcc/INVENTORY_ID/FQDN',
      'GET /hcc/signing_keys',
      'GET /health',
    ]) {
      expect(endpoints).toContain(route);
    }
  });
});

describe('ipa-hcc-ts.conf(5)', () => {
  it('when DAEMON_DEFAULTS is read then every [daemon] key is documented with its default', () => {
    for (const [key, value] of Object.entries(DAEMON_DEFAULTS)) {
      expect(definition('ipa-hcc-ts.conf.5', `${key} = `), key).toContain(`Default: ${value}.`);
    }

    expect(definition('ipa-hcc-ts.conf.5', 'ldap_uri = ')).toContain('default.conf');
  });

  it('when the [global] defaults are read then every key is documented with its default', async () => {
    const confDir = mkdtempSync(join(tmpdir(), 'ipa-hcc-ts-conf-'));
    try {
      const s = await readServerSettings(confDir);
      const defaults: Record<string, string> = {
        key_dir: s.keyDir,
        daemon_user: s.daemonUser,
        key_lifetime_days: String(s.keyLifetimeDays),
        bind_password_file: s.bindPasswordFile.replace(confDir, '/etc/ipa-hcc-ts'),
        rhsm_cert: s.rhsmCert,
      };

      for (const [key, value] of Object.entries(defaults)) {
        expect(definition('ipa-hcc-ts.conf.5', `${key} = `), key).toContain(`Default: ${value}`);
      }
    } finally {
      rmSync(confDir, { recursive: true, force: true });
    }
  });
});

describe('ipa-hcc-ts-client.conf(5)', () => {
  it('when client/settings.ts is read then every [client] key is documented with its default', () => {
    const defaults = settingDefaults({});

    for (const key of SETTING_KEYS) {
      const text = definition('ipa-hcc-ts-client.conf.5', `${key} = `);
      expect(text, key).toContain(
        defaults[key] === '' ? 'Default: empty' : `Default: ${defaults[key]}.`,
      );
    }
  });
});

describe('ipa-hcc-ts(1)', () => {
  const commands = [
    '',
    'install',
    'register',
    'status',
    'unregister',
    'client-config',
    'keys',
    'keys list',
    'keys rotate',
    'keys revoke',
  ];

  it.each(commands)(
    'when "ipa-hcc-ts %s --help" is run then every long option it lists is in the page',
    async (command) => {
      const options = longOptions(await adminHelp(command.split(' ').filter(Boolean)));
      const page = plain('ipa-hcc-ts.1');

      expect(options).toContain('--help');
      for (const option of options) {
        expect(page, option).toMatch(new RegExp(`(^|[\\s[,])${option}([\\s\\],]|$)`, 'm'));
      }
    },
  );

  it('when the top-level help is read then every subcommand has its own entry', async () => {
    const help = await adminHelp([]);
    const subcommands = [...help.matchAll(/^ {2}([a-z][a-z-]+)(?: \[options\])?\s/gm)]
      .map((m) => m[1]!)
      .filter((c) => c !== 'help');
    const names = section('ipa-hcc-ts.1', 'COMMANDS').join('\n');

    expect(subcommands).toEqual(
      expect.arrayContaining(['install', 'register', 'status', 'unregister', 'client-config']),
    );
    for (const c of [...subcommands, 'keys list', 'keys rotate', 'keys revoke']) {
      expect(names, c).toMatch(new RegExp(`^${c}( |$)`, 'm'));
    }
  });

  it('when the exit codes of cli/errors.ts are read then each one is explained', () => {
    const lines = section('ipa-hcc-ts.1', 'EXIT STATUS');

    for (const code of Object.values(AdminExitCode)) {
      expect(lines, String(code)).toContain(String(code));
    }
  });
});

describe('ipa-hcc-ts-enroll(8)', () => {
  it('when "ipa-hcc-ts-enroll --help" is run then every long option it lists is in the page', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'client/ipa-hcc-ts-enroll.ts'), '--help'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const options = longOptions(r.stdout);
    const page = section('ipa-hcc-ts-enroll.8', 'OPTIONS').join('\n');

    expect(options.length).toBeGreaterThan(10);
    for (const option of options) {
      expect(page, option).toMatch(new RegExp(`(^|[\\s,])${option}( |$)`, 'm'));
    }
  });

  it('when the exit codes of client/errors.ts are read then each one is explained', () => {
    const lines = section('ipa-hcc-ts-enroll.8', 'EXIT STATUS');

    for (const code of Object.values(ClientExitCode)) {
      expect(lines, String(code)).toContain(String(code));
    }
  });
});
