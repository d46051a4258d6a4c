/**
 * Paces one channel's sends (SES e-mails, SNS publishes) to an account quota: every concurrent
 * delivery of an invocation asks for its turn here and waits, and the turns go out at the instants
 * core/send-rate.ts plans (the dispatching itself is turns.ts, shared with Telegram's pacer). A send
 * that could not start by its deadline is answered "not before T" at once, counting nothing: the
 * poller leaves it for a later tick, nothing is dropped.
 */
import { EMPTY_WINDOW, planStarts, type RateWindow, recordStart } from '../../core/send-rate';
import { type PacerClock, type Turn, TurnQueue } from './turns';

export class SendPacer {
  readonly #turns: TurnQueue<number, RateWindow>;

  constructor(
    clock: PacerClock,
    /** Units (recipients, SMS) per second. */
    readonly perSecond: number,
  ) {
    this.#turns = new TurnQueue<number, RateWindow>(
      clock,
      {
        plan: (window, queue, now) =>
          planStarts(
            window,
            queue.map((q) => ({ id: q.id, cost: q.ask, deadline: q.deadline })),
            now,
            perSecond,
          ),
        record: (window, cost, now) => recordStart(window, cost, now, perSecond),
      },
      EMPTY_WINDOW,
    );
  }

  /**
   * Wait for the turn of a send costing `cost` units. `{ go: true }`: start now (it is counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(cost: number, deadline = Number.POSITIVE_INFINITY): Promise<Turn> {
    return this.#turns.turn(Math.max(1, cost), deadline);
  }

  /** Start a send of `cost` now if nothing waits and the window has room (it is counted); else false. */
  tryNow(cost: number): boolean {
    return this.#turns.tryNow(Math.max(1, cost));
  }
}
