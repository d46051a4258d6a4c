/**
 * Scheduled invocations the way the handler runs them (lambda/handler.ts): one a minute, each
 * the real `runInvocation` loop (lease, a tick every interval until `MAX_RUN_MS`, save and release
 * at the end), with the lease until the function's hard end (its 90-s timeout). The manual clock
 * moves only through a `Timeline`: while the loop sleeps between ticks, the timeline runs what was
 * planned meanwhile (events a guest raises at any instant, a server restart, an outage ending)
 * at its own instant, then the hook of the next tick.
 */
import type { Clock, Log } from '../../../../lambda/domain/ports';
import { MAX_RUN_MS } from '../../../../lambda/handler';
import { runInvocation } from '../../../../lambda/poller/invocation';
import type { SourcePoller } from '../../../../lambda/poller/source-poller';
import type { ManualClock } from '../../harness';

export const SCHEDULE_MS = 60_000;
/** The function's timeout (infra/constructs/poller.ts POLLER_TIMEOUT): the lease lasts until then. */
export const HARD_END_MS = 90_000;
export const INTERVAL_MS = 10_000;

/** Things planned at instants of the manual clock, run in order as it moves. */
export class Timeline {
  readonly #plans: { at: number; seq: number; run: () => void }[] = [];
  #seq = 0;
  constructor(readonly clock: ManualClock) {}

  at(at: number, run: () => void): void {
    this.#plans.push({ at, seq: this.#seq++, run });
    this.#plans.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** Move the clock to `to`, running every plan due by then at its own instant. */
  advanceTo(to: number): void {
    while (this.#plans.length > 0 && this.#plans[0]!.at <= to) {
      const plan = this.#plans.shift()!;
      if (plan.at > this.clock.t) this.clock.t = plan.at;
      plan.run();
    }
    if (to > this.clock.t) this.clock.t = to;
  }
}

export interface InvokeOptions {
  readonly poller: SourcePoller;
  readonly timeline: Timeline;
  readonly log: Log;
  /** When the scheduler starts it (epoch ms of the manual clock). */
  readonly start: number;
  /** Before each tick, the first included (inject events, switch faults). */
  readonly beforeTick?: (tick: number) => void;
}

/** One scheduled invocation of one source's poller; resolves when it has saved and released. */
export async function invoke(options: InvokeOptions): Promise<void> {
  const { timeline, start } = options;
  timeline.advanceTo(start);
  let tick = 0;
  options.beforeTick?.(tick++);
  const clock: Clock = {
    now: timeline.clock.now,
    sleep: async (ms) => {
      timeline.advanceTo(timeline.clock.now() + Math.max(0, ms));
      options.beforeTick?.(tick++);
    },
  };
  await runInvocation({
    pollers: [options.poller],
    clock,
    log: options.log,
    intervalMs: INTERVAL_MS,
    stopAt: start + MAX_RUN_MS,
    leaseUntil: start + HARD_END_MS,
    concurrency: 4,
  });
}
