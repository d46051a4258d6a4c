/**
 * Paces one channel's sends (SES e-mails, SNS publishes) to an account quota: every concurrent
 * delivery of an invocation asks for its turn here and waits; a single loop hands turns out in
 * arrival order at the instants core/send-rate.ts plans, sleeping on the injected clock in between
 * (one sleeper at a time, so a manual test clock gives exact times). A send that could not start
 * by its deadline is answered "not before T" at once, counting nothing: the poller leaves it for a
 * later tick, nothing is dropped.
 */
import { EMPTY_WINDOW, planStarts, recordStart, type RateWindow } from '../core/send-rate';

/** Time as the pacer sees it. `sleep` should end early when the signal aborts (the real one does). */
export interface PacerClock {
  /** Epoch ms. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realPacerClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export type SendTurn = { readonly go: true; readonly at: number } | { readonly go: false; readonly notBefore: number };

interface Waiting {
  readonly cost: number;
  readonly deadline: number;
  readonly resolve: (turn: SendTurn) => void;
}

export class SendPacer {
  private window: RateWindow = EMPTY_WINDOW;
  private readonly queue: Waiting[] = [];
  private running = false;
  private wake = new AbortController();

  constructor(
    private readonly clock: PacerClock,
    /** Units (recipients, SMS) per second. */
    readonly perSecond: number,
  ) {}

  /**
   * Wait for the turn of a send costing `cost` units. `{ go: true }`: start now (it is counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(cost: number, deadline = Number.POSITIVE_INFINITY): Promise<SendTurn> {
    return new Promise<SendTurn>((resolve) => {
      this.queue.push({ cost: Math.max(1, cost), deadline, resolve });
      this.poke();
    });
  }

  private poke(): void {
    if (this.running) {
      this.wake.abort();
      return;
    }
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      if (this.queue.length > 0) this.poke();
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const now = this.clock.now();
      const plan = planStarts(
        this.window,
        this.queue.map((w) => ({ id: w, cost: w.cost, deadline: w.deadline })),
        now,
        this.perSecond,
      );
      const late = plan.filter((p) => p.late);
      if (late.length > 0) {
        for (const { id, at } of late) {
          this.queue.splice(this.queue.indexOf(id), 1);
          id.resolve({ go: false, notBefore: at });
        }
        continue; // the others may go earlier now
      }
      const first = plan[0]!;
      if (first.at <= now) {
        this.queue.shift();
        this.window = recordStart(this.window, first.id.cost, now, this.perSecond);
        first.id.resolve({ go: true, at: now });
        continue;
      }
      this.wake = new AbortController();
      await this.clock.sleep(first.at - now, this.wake.signal);
    }
  }
}
