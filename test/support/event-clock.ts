/**
 * Discrete-event time for tests where several pacers sleep at once: `sleep` waits until
 * `runUntil` moves time to its end, and time moves only when everything else waits — no tracked
 * I/O in flight (`track`), the event loop idle — always to the earliest wake-up. Real I/O (DynamoDB
 * Local) then takes no time on this clock, and nothing depends on how fast the machine is.
 *
 *   const clock = new EventClock();
 *   const starts = await clock.runUntil(Promise.all(asks));
 *   expect(busiestSecond(starts)).toBeLessThanOrEqual(14);   // what pacing tests judge by
 */
import type { PacerClock } from '../../lambda/notify/pacing/turns';

interface Timer {
  readonly at: number;
  readonly wake: () => void;
}

export class EventClock implements PacerClock {
  #timers: Timer[] = [];
  #inflight = 0;

  constructor(public t = Date.UTC(2020, 0, 6, 18, 0, 0)) {}

  now = (): number => this.t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', timer.wake);
          this.#timers = this.#timers.filter((t) => t !== timer);
          resolve();
        },
      };
      this.#timers.push(timer);
      signal?.addEventListener('abort', timer.wake, { once: true });
    });

  /** Time jumps (a slow answer): whoever sleeps past it still wakes at its own instant or later. */
  advance(ms: number): void {
    this.t += ms;
  }

  /** Count `work` as I/O in flight: time does not move until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inflight += 1;
    return work.finally(() => {
      this.#inflight -= 1;
    });
  }

  /** Let everything run until it waits on this clock only. */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      if (this.#inflight > 0) {
        quiet = 0;
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      await new Promise((resolve) => setImmediate(resolve));
      quiet += 1;
    }
  }

  /** Move time from wake-up to wake-up until `done` settles; fails past `limitMs` of clock time. */
  async runUntil<T>(done: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let finished = false;
    void done.then(
      () => (finished = true),
      () => (finished = true),
    );
    const end = this.t + limitMs;
    for (;;) {
      await this.settle();
      if (finished) return done;
      const next = this.#timers.reduce<Timer | undefined>(
        (a, b) => (a === undefined || b.at < a.at ? b : a),
        undefined,
      );
      if (next === undefined) throw new Error('nothing sleeps and nothing is in flight, but the work is not done');
      if (next.at > end) throw new Error(`still not done after ${limitMs} ms of clock time`);
      this.t = Math.max(this.t, next.at);
      next.wake();
    }
  }
}

/** The most units started in any one-second window [t, t + 1 s) of these starts (0 for none). */
export function busiestSecond(starts: readonly { readonly at: number; readonly cost: number }[]): number {
  return Math.max(
    0,
    ...starts.map((s) => starts.filter((o) => o.at >= s.at && o.at < s.at + 1_000).reduce((n, o) => n + o.cost, 0)),
  );
}
