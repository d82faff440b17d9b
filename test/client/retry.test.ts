// Backoff bounds and the deadline, on a frozen clock that only sleeping moves.
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  Deadline,
  DeadlineReached,
  RETRY_MAX_MS,
  Retryable,
  withRetries,
} from '../../client/retry.js';

/** A clock that stands still until sleep() moves it; records every sleep. */
function frozenClock(random = 0) {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    io: {
      now: () => now,
      sleep: (ms: number) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
      random: () => random,
    },
    elapsed: (since: number) => now - since,
  };
}

describe('backoffDelay', () => {
  it('when the random part is 0, 0.5 or just below 1 then the delay is half, three quarters or almost all of the nominal one', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 0.5)).toBe(750);
    expect(backoffDelay(3, () => 0.5)).toBe(6000);
    expect(backoffDelay(10, () => 0)).toBe(30_000);
    expect(backoffDelay(10, () => 0.999999)).toBeCloseTo(59_999.97, 1);
  });

  it('when rounds go on then every delay lies between half and all of min(60 s, 1 s x 2^n)', () => {
    for (let round = 0; round <= 40; round++) {
      const nominal = Math.min(RETRY_MAX_MS, 1000 * 2 ** round);
      for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
        const delay = backoffDelay(round, () => r);

        expect(delay).toBeGreaterThanOrEqual(nominal / 2);
        expect(delay).toBeLessThan(nominal);
      }
    }
  });
});

describe('withRetries', () => {
  it('when the first rounds fail then it waits 0.5, 1 and 2 s and returns the result', async () => {
    const clock = frozenClock(0);
    let rounds = 0;

    const result = await withRetries(
      () => (++rounds < 4 ? Promise.reject(new Retryable('not yet')) : Promise.resolve('ok')),
      { io: clock.io, deadline: new Deadline(clock.io, 60_000) },
    );

    expect(result).toBe('ok');
    expect(clock.slept).toEqual([500, 1000, 2000]);
  });

  it('when every round fails then the last wait ends exactly at the deadline and it gives up', async () => {
    const clock = frozenClock(0);
    const start = clock.io.now();
    const seen: number[] = [];

    const err = await withRetries(() => Promise.reject(new Retryable('down')), {
      io: clock.io,
      deadline: new Deadline(clock.io, 3000),
      onRetry: (_e, wait) => seen.push(wait),
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DeadlineReached);
    expect((err as DeadlineReached).last.message).toBe('down');
    expect(clock.slept).toEqual([500, 1000, 1500]);
    expect(seen).toEqual(clock.slept);
    expect(clock.elapsed(start)).toBe(3000);
  });

  it('when the deadline cuts the last round before anyone was asked then the previous failure is reported', async () => {
    const clock = frozenClock(0);
    let rounds = 0;

    const err = await withRetries(
      () =>
        Promise.reject(
          ++rounds === 1
            ? new Retryable('host-conf: a connection refused')
            : new Retryable('host-conf: no time left to try a server', undefined, false),
        ),
      { io: clock.io, deadline: new Deadline(clock.io, 3000) },
    ).catch((e: unknown) => e);

    expect((err as DeadlineReached).last.message).toBe('host-conf: a connection refused');
    expect(rounds).toBe(3);
  });

  it('when a server asks for a longer wait with Retry-After then it waits that long', async () => {
    const clock = frozenClock(0);
    let rounds = 0;

    await withRetries(
      () => (++rounds === 1 ? Promise.reject(new Retryable('busy', 7000)) : Promise.resolve('ok')),
      { io: clock.io, deadline: new Deadline(clock.io, 60_000) },
    );

    expect(clock.slept).toEqual([7000]);
  });

  it('when Retry-After reaches past the deadline then it gives up at once without waiting', async () => {
    const clock = frozenClock(0);

    const err = await withRetries(() => Promise.reject(new Retryable('busy', 30_000)), {
      io: clock.io,
      deadline: new Deadline(clock.io, 10_000),
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DeadlineReached);
    expect(clock.slept).toEqual([]);
  });

  it('when a round fails for another reason then there is no retry', async () => {
    const clock = frozenClock(0);
    let rounds = 0;

    const err = await withRetries(
      () => {
        rounds++;
        return Promise.reject(new Error('refused'));
      },
      { io: clock.io, deadline: new Deadline(clock.io, 60_000) },
    ).catch((e: unknown) => e);

    expect((err as Error).message).toBe('refused');
    expect(rounds).toBe(1);
    expect(clock.slept).toEqual([]);
  });
});
