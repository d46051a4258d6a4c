/**
 * One scheduled invocation: every source's poll cycle, tick after tick, until shortly before the
 * invocation must end. This loop is how waiter calls beat EventBridge's one-minute floor: with
 * `intervalMs` = 10 s a source is polled six times per invocation.
 *
 * Each source runs its own loop, so a slow or failing source only delays itself; a semaphore
 * keeps at most `concurrency` ticks in flight. Every source takes its lease at the start and saves
 * its state and releases the lease at the end.
 */
import pLimit from 'p-limit';
import type { Clock, Log } from '../domain/ports';
import type { PressLoop } from './presses';
import type { SourcePoller, TickReport } from './source-poller';

export interface InvocationOptions {
  readonly pollers: readonly SourcePoller[];
  readonly clock: Clock;
  readonly log: Log;
  /** Time between the starts of two ticks of one source. */
  readonly intervalMs: number;
  /** No tick but the first starts at or after this instant (epoch ms). */
  readonly stopAt: number;
  /** Leases last until this instant: the hard end of the invocation (epoch ms). */
  readonly leaseUntil: number;
  /** Ticks in flight at once (across sources). */
  readonly concurrency: number;
  /** The staff bot's presses, read while the sources wait between ticks (none without a bot). */
  readonly presses?: PressLoop;
}

export interface InvocationReport {
  readonly ticks: number;
  readonly polls: number;
  readonly delivered: number;
  readonly errors: number;
  /** Calls acknowledged by a press during the invocation. */
  readonly acknowledged: number;
}

export async function runInvocation(options: InvocationOptions): Promise<InvocationReport> {
  const { clock, intervalMs, stopAt } = options;
  const limit = pLimit(options.concurrency);
  const reports: TickReport[] = [];
  let acknowledged = 0;
  const readPresses = async (loop: PressLoop): Promise<void> => {
    await loop.begin(options.leaseUntil);
    try {
      // A long poll waits whole seconds: with less than one left it would answer at once, again
      // and again (a hot loop on a manual clock); presses of that last second are the next run's.
      while (stopAt - clock.now() >= 1_000) {
        if (!loop.holdsLease) {
          await clock.sleep(intervalMs);
          await loop.begin(options.leaseUntil);
          continue;
        }
        const report = await loop.poll(stopAt);
        acknowledged += report.acknowledged;
        if (report.failed) await clock.sleep(Math.min(intervalMs, 5_000));
      }
    } finally {
      await loop.end();
    }
  };
  await Promise.all([
    ...(options.presses ? [readPresses(options.presses)] : []),
    ...options.pollers.map(async (poller) => {
      await limit(() => beginQuietly(poller, options));
      try {
        // Every invocation polls at least once, then again every interval while time remains.
        for (let next = clock.now(); ; ) {
          // A tick may run past stopAt (not past the lease): a slow server still gets a whole interval.
          reports.push(await limit(() => poller.tick(Math.max(stopAt, clock.now() + intervalMs))));
          next += intervalMs;
          const now = clock.now();
          if (next < now) next = now; // a tick that overran: start the next one at once, do not pile up
          if (next >= stopAt) break;
          await clock.sleep(next - now);
        }
      } finally {
        await limit(() => poller.end());
      }
    }),
  ]);
  return {
    ticks: reports.length,
    polls: reports.filter((r) => r.polled).length,
    delivered: reports.reduce((sum, r) => sum + r.delivered, 0),
    errors: reports.filter((r) => r.error !== undefined).length,
    acknowledged,
  };
}

/** A failed first lease attempt is logged; the poller tries again on its ticks. */
async function beginQuietly(poller: SourcePoller, options: InvocationOptions): Promise<void> {
  try {
    await poller.begin(options.leaseUntil);
  } catch (error) {
    options.log.error('could not take the source lease; retrying on the next tick', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
