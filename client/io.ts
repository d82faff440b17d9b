// The client's contact with the outside that tests replace: output lines, environment, host
// name, clock, sleeping and randomness. Files and the network are reached directly.
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

/** The command's name; every line it prints starts with it, for the journal. */
export const PROGRAM = 'ipa-hcc-ts-enroll';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  hostname(): string;
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1), for the jitter of retries. */
  random(): number;
}

/** Io bound to this process. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    hostname: () => hostname(),
    now: () => Date.now(),
    sleep: (ms) => delay(ms),
    random: () => Math.random(),
  };
}
