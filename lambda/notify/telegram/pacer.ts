/**
 * The one place that decides when the next Bot API message goes: callers ask for their turn in a
 * chat and wait, and the turns go out in the order pacing.ts plans them (the dispatching itself is
 * ../pacing/turns.ts, shared with the SES and SNS pacers). A turn that could not start before the
 * caller's deadline is answered "not before T" at once, and a 429 reported back re-plans
 * everything queued.
 */
import { type PacerClock, type Turn, TurnQueue } from '../pacing/turns';
import {
  DEFAULT_PACING,
  EMPTY_PACING,
  type PacedChat,
  type PacingLimits,
  type PacingState,
  planSends,
  recordSend,
  recordThrottle,
} from './pacing';

export class Pacer {
  readonly #turns: TurnQueue<PacedChat, PacingState>;

  constructor(clock: PacerClock, limits: PacingLimits = DEFAULT_PACING) {
    this.#turns = new TurnQueue<PacedChat, PacingState>(
      clock,
      {
        plan: (state, queue, now) => {
          const deadlines = new Map(queue.map((q) => [q.id, q.deadline]));
          return planSends(
            state,
            queue.map((q) => ({ id: q.id, chat: q.ask })),
            now,
            limits,
          ).map(({ id, at }) => ({ id, at, late: at > deadlines.get(id)! }));
        },
        record: (state, chat, now) => recordSend(state, chat, now, limits),
      },
      EMPTY_PACING,
    );
  }

  /**
   * Wait for a turn to send to `chat`. `{ go: true }`: start now (the send is already counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(chat: PacedChat, deadline = Number.POSITIVE_INFINITY): Promise<Turn> {
    return this.#turns.turn(chat, deadline);
  }

  /** Telegram answered 429 for `chat`: nothing goes there (or anywhere, see pacing.ts) for `retryAfterMs`. */
  throttled(chat: PacedChat, retryAfterMs: number): void {
    this.#turns.update((state, now) => recordThrottle(state, chat, now, retryAfterMs));
  }

  /** When a message to `chat` could start if asked now (nothing queued counted). */
  get snapshot(): PacingState {
    return this.#turns.state;
  }
}
