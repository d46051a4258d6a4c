/**
 * The one place that decides when the next Bot API message goes: callers ask for their turn in a
 * chat and wait; a single loop hands out turns in the order pacing.ts plans them, sleeping on the
 * injected clock in between (one sleeper at a time, so a manual test clock gives exact times).
 * A turn that could not start before the caller's deadline is answered "not before T" at once,
 * and a 429 reported back re-plans everything queued.
 */
import {
  DEFAULT_PACING,
  EMPTY_PACING,
  planSends,
  recordSend,
  recordThrottle,
  type PacedChat,
  type PacingLimits,
  type PacingState,
} from './pacing';

/** Time as the channel sees it. `sleep` should end early when the signal aborts (the real one does). */
export interface TelegramClock {
  /** Epoch ms. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: TelegramClock = {
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

export type Turn = { readonly go: true; readonly at: number } | { readonly go: false; readonly notBefore: number };

interface Waiting {
  readonly chat: PacedChat;
  readonly deadline: number;
  readonly resolve: (turn: Turn) => void;
}

export class Pacer {
  private state: PacingState = EMPTY_PACING;
  private readonly queue: Waiting[] = [];
  private running = false;
  private wake = new AbortController();

  constructor(
    private readonly clock: TelegramClock,
    private readonly limits: PacingLimits = DEFAULT_PACING,
  ) {}

  /**
   * Wait for a turn to send to `chat`. `{ go: true }`: start now (the send is already counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(chat: PacedChat, deadline = Number.POSITIVE_INFINITY): Promise<Turn> {
    return new Promise<Turn>((resolve) => {
      this.queue.push({ chat, deadline, resolve });
      this.poke();
    });
  }

  /** Telegram answered 429 for `chat`: nothing goes there (or anywhere, see pacing.ts) for `retryAfterMs`. */
  throttled(chat: PacedChat, retryAfterMs: number): void {
    this.state = recordThrottle(this.state, chat, this.clock.now(), retryAfterMs);
    this.poke();
  }

  /** When a message to `chat` could start if asked now (nothing queued counted). */
  get snapshot(): PacingState {
    return this.state;
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
      const plan = planSends(
        this.state,
        this.queue.map((w) => ({ id: w, chat: w.chat })),
        now,
        this.limits,
      );
      const late = plan.filter((p) => p.at > p.id.deadline);
      if (late.length > 0) {
        for (const { id, at } of late) {
          this.queue.splice(this.queue.indexOf(id), 1);
          id.resolve({ go: false, notBefore: at });
        }
        continue; // the others may go earlier now
      }
      const first = plan[0]!;
      if (first.at <= now) {
        this.queue.splice(this.queue.indexOf(first.id), 1);
        this.state = recordSend(this.state, first.id.chat, now, this.limits);
        first.id.resolve({ go: true, at: now });
        continue;
      }
      this.wake = new AbortController();
      await this.clock.sleep(first.at - now, this.wake.signal);
    }
  }
}
