/**
 * The one dispatcher behind every paced channel (SES and SNS sends, Telegram messages): callers
 * ask for a turn and wait; a single loop hands turns out at the instants a pure rule plans
 * (core/send-rate.ts for the account quotas, notify/telegram/pacing.ts for the Bot API's
 * limits), sleeping on the injected clock in between — one sleeper at a time, so a manual test
 * clock gives exact times. A turn the rule says cannot start by its deadline is answered "not before T" at once and
 * counts nothing: the poller leaves that send for a later tick, nothing is dropped.
 *
 *   const queue = new TurnQueue(clock, rule, initialState);
 *   const turn = await queue.turn(ask, deadline);   // { go: true, at } or { go: false, notBefore }
 */

/** Time as the pacers see it. `sleep` should end early when the signal aborts (the real one does). */
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

export type Turn = { readonly go: true; readonly at: number } | { readonly go: false; readonly notBefore: number };

/** One waiting send as a rule sees it: an identity to hand back, what it asks, its deadline (epoch ms). */
export interface QueuedAsk<Ask, Id> {
  readonly id: Id;
  readonly ask: Ask;
  readonly deadline: number;
}

/** A plan's answer for one queued send. */
export interface PlannedTurn<Id> {
  readonly id: Id;
  /** When it may start; for a late one, the first instant it could have. */
  readonly at: number;
  /** It cannot start by its deadline: answered at once, nothing counted. */
  readonly late: boolean;
}

/** The pure pacing rule a TurnQueue follows. */
export interface TurnRule<Ask, State> {
  /** When each queued send may start, in the order they should go. */
  plan<Id>(state: State, queue: readonly QueuedAsk<Ask, Id>[], now: number): readonly PlannedTurn<Id>[];
  /** The state once `ask` has started at `now`. */
  record(state: State, ask: Ask, now: number): State;
}

interface Waiting<Ask> {
  readonly ask: Ask;
  readonly deadline: number;
  readonly resolve: (turn: Turn) => void;
}

/** Take a plan's late sends out of `queue` and answer each "not before" its instant; true if there were any. */
export function answerLate<W extends { readonly resolve: (turn: Turn) => void }>(
  queue: W[],
  plan: readonly { readonly id: W; readonly at: number; readonly late: boolean }[],
): boolean {
  const late = plan.filter((p) => p.late);
  for (const { id, at } of late) {
    queue.splice(queue.indexOf(id), 1);
    id.resolve({ go: false, notBefore: at });
  }
  return late.length > 0;
}

export class TurnQueue<Ask, State> {
  #state: State;
  readonly #queue: Waiting<Ask>[] = [];
  #running = false;
  #wake = new AbortController();

  constructor(
    private readonly clock: PacerClock,
    private readonly rule: TurnRule<Ask, State>,
    initial: State,
  ) {
    this.#state = initial;
  }

  /** The rule's state now (every started send counted, nothing queued). */
  get state(): State {
    return this.#state;
  }

  /**
   * Wait for the turn of `ask`. `{ go: true }`: start now (it is already counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(ask: Ask, deadline = Number.POSITIVE_INFINITY): Promise<Turn> {
    return new Promise<Turn>((resolve) => {
      this.#queue.push({ ask, deadline, resolve });
      this.#poke();
    });
  }

  /** Start `ask` at once if nothing waits and the rule lets it now (it is counted); false otherwise, nothing counted. */
  tryNow(ask: Ask): boolean {
    if (this.#queue.length > 0) return false;
    const now = this.clock.now();
    const [first] = this.rule.plan(this.#state, [{ id: 0, ask, deadline: now }], now);
    if (first === undefined || first.late || first.at > now) return false;
    this.#state = this.rule.record(this.#state, ask, now);
    return true;
  }

  /** Change the state from outside (a 429 the service answered), then re-plan what waits. */
  update(change: (state: State, now: number) => State): void {
    this.#state = change(this.#state, this.clock.now());
    this.#poke();
  }

  #poke(): void {
    if (this.#running) {
      this.#wake.abort();
      return;
    }
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
      if (this.#queue.length > 0) this.#poke();
    });
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const now = this.clock.now();
      const plan = this.rule.plan(
        this.#state,
        this.#queue.map((w) => ({ id: w, ask: w.ask, deadline: w.deadline })),
        now,
      );
      if (answerLate(this.#queue, plan)) continue; // the others may go earlier now
      const first = plan[0]!;
      if (first.at <= now) {
        this.#queue.splice(this.#queue.indexOf(first.id), 1);
        this.#state = this.rule.record(this.#state, first.id.ask, now);
        first.id.resolve({ go: true, at: now });
        continue;
      }
      this.#wake = new AbortController();
      await this.clock.sleep(first.at - now, this.#wake.signal);
    }
  }
}
