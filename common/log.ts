// Structured logging: one JSON object a line, the facts first and a short fixed message. Levels
// are chosen by the caller in one place; nothing secret is ever passed in.
import type { Writable } from 'node:stream';

export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** A logger writing JSON lines at or above `min` to the stream. */
export function createLogger(
  stream: Writable,
  min: Level = 'info',
  now = () => new Date(),
): Logger {
  const write = (level: Level) => (fields: Record<string, unknown>, msg: string) => {
    if (RANK[level] >= RANK[min]) {
      stream.write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...fields })}\n`);
    }
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that drops everything (library defaults, tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
