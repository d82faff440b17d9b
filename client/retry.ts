// Retries while the network or DNS is not ready at first boot: exponential backoff with jitter,
// Retry-After honoured, all inside one overall deadline.
import type { Io } from './io.js';

/** Delay before the first retry; each later one doubles, up to the maximum. */
export const RETRY_INITIAL_MS = 1000;
export const RETRY_MAX_MS = 60_000;

/** A failure after which the whole round may be tried again. */
export class Retryable extends Error {
  /** What a server asked for with Retry-After, if any. */
  readonly retryAfterMs: number | undefined;
  /** False when the deadline left no time to ask anyone: the failure says nothing new. */
  readonly attempted: boolean;

  constructor(message: string, retryAfterMs?: number, attempted = true) {
    super(message);
    this.name = 'Retryable';
    this.retryAfterMs = retryAfterMs;
    this.attempted = attempted;
  }
}

/** The deadline passed; `last` is the failure of the last round. */
export class DeadlineReached extends Error {
  readonly last: Retryable;

  constructor(last: Retryable) {
    super(`deadline reached: ${last.message}`, { cause: last });
    this.name = 'DeadlineReached';
    this.last = last;
  }
}

/** A point in time on the Io's clock. */
export class Deadline {
  private readonly at: number;

  constructor(
    private readonly io: Pick<Io, 'now'>,
    readonly totalMs: number,
  ) {
    this.at = io.now() + totalMs;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.at - this.io.now());
  }
}

/**
 * Delay before retry number `round` (0 for the first): half of min(max, initial * 2^round)
 * plus a random part of the other half ("equal jitter"), so machines booted together spread
 * out but none retries sooner than half the nominal delay.
 */
export function backoffDelay(round: number, random: () => number): number {
  const nominal = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** round);
  return nominal / 2 + random() * (nominal / 2);
}

export interface RetryOptions {
  io: Pick<Io, 'now' | 'sleep' | 'random'>;
  deadline: Deadline;
  /** Called before each wait, with the failure and the wait in milliseconds. */
  onRetry?: (err: Retryable, waitMs: number) => void;
}

/** Runs `attempt` until it returns, throws something not Retryable, or the deadline passes. */
export async function withRetries<T>(
  attempt: (round: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  let last: Retryable | undefined;
  for (let round = 0; ; round++) {
    try {
      return await attempt(round);
    } catch (err) {
      if (!(err instanceof Retryable)) {
        throw err;
      }

      // A round the deadline cut before anyone was asked keeps the previous round's story.
      last = err.attempted || last === undefined ? err : last;
      const wait = nextWait(err, last, round, opts);
      opts.onRetry?.(err, wait);
      await opts.io.sleep(wait);
      if (opts.deadline.remaining() === 0) {
        throw new DeadlineReached(last);
      }
    }
  }
}

// The wait never runs past the deadline; a server asking to wait beyond it ends the retries now.
function nextWait(err: Retryable, last: Retryable, round: number, opts: RetryOptions): number {
  const remaining = opts.deadline.remaining();
  const asked = err.retryAfterMs ?? 0;
  if (remaining === 0 || asked >= remaining) {
    throw new DeadlineReached(last);
  }

  return Math.min(Math.max(backoffDelay(round, opts.io.random), asked), remaining);
}
