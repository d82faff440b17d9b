// INI files in the dialect of FreeIPA's /etc/ipa/default.conf (Python configparser):
// [section], "key = value" or "key: value", comments starting with # or ;.

export type IniData = Map<string, Map<string, string>>;

/** A syntax error in an INI file, with the line it was found on. */
export class IniError extends Error {
  readonly line: number;

  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = 'IniError';
    this.line = line;
  }
}

/** Parses INI text; section and key names are case-insensitive (stored lower case). */
export function parseIni(text: string): IniData {
  const data: IniData = new Map();
  let section: Map<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    section = parseLine(lines[i]!.trim(), i + 1, data, section);
  }

  return data;
}

function parseLine(
  line: string,
  lineNo: number,
  data: IniData,
  section: Map<string, string> | undefined,
): Map<string, string> | undefined {
  if (line === '' || line.startsWith('#') || line.startsWith(';')) {
    return section;
  }

  const header = /^\[([^\]]+)\]$/.exec(line);
  if (header) {
    const name = header[1]!.trim().toLowerCase();
    const existing = data.get(name) ?? new Map<string, string>();
    data.set(name, existing);
    return existing;
  }

  const kv = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
  if (!kv) {
    throw new IniError(`cannot parse "${line.slice(0, 40)}"`, lineNo);
  }

  if (!section) {
    throw new IniError('setting outside of a [section]', lineNo);
  }

  section.set(kv[1]!.toLowerCase(), kv[2]!);
  return section;
}

/** Renders sections of key/value pairs as INI text. */
export function formatIni(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(([name, kv]) => {
      const body = Object.entries(kv).map(([k, v]) => `${k} = ${v}`);
      return [`[${name}]`, ...body].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}
