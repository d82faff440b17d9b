// The admin command's contact with the outside: output streams, the confirmation prompt and the
// identity of the caller. Tests pass their own.
import { createInterface } from 'node:readline/promises';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; no answer (end of input) is "no". */
  confirm(question: string): Promise<boolean>;
  isRoot(): boolean;
}

/** Io bound to this process's stdin, stdout and stderr. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    confirm: (question) => askYesNo(question),
    isRoot: () => process.getuid?.() === 0,
  };
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  try {
    process.stdout.write(`${question} [no]: `);
    const answer = await Promise.race([
      rl.question(''),
      new Promise<string>((resolve) => rl.once('close', () => resolve(''))),
    ]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
