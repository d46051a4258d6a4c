/**
 * Paces one account quota (SES recipients, SNS SMS) for all shards together. Half of the quota is
 * split evenly among the shards (`own`, a local SendPacer: no I/O) when that gives each at least
 * one a second; the rest is a pool any shard draws from when its own share has no room, so that a
 * burst in one restaurant gets the pool while the others are quiet, and quiet traffic its own
 * share carries costs no write. With own shares, the shards together never exceed the quota even
 * while the pool cannot be used; with the quota all pool (many shards), the equal share they
 * fall back to is not seen by the others, and SES or SNS may throttle a send (sent again later).
 *
 * The pool's window (core/send-rate.ts) lives in one DynamoDB item per quota (`SendWindowStore`);
 * each write reserves the starts of what waits now, up to `horizonMs` ahead, with a condition on
 * the write last seen (its unique `writer`), or on nothing in it still counting (so quiet traffic
 * is one write per send, whoever wrote last). A refused write returns the item; the pacer backs off at random and plans
 * again. A send goes at its reserved instant; one whose write came back too late to use it
 * (`graceMs`) is planned again, its reservation left to count (unused: never over the quota).
 *
 * A write that fails is made once more, the same (the store recognises its own write applied
 * but answered late). When the item cannot be written (two errors, a write slower than
 * `slowWriteMs`, `maxConflicts` refusals in a row) the pacer paces to its own share alone for
 * `fallbackMs`, and says why (an e-mail to more recipients than that share holds in a second then
 * goes alone, holding it longer, as the one-shard pacer sends it).
 */
import { randomUUID } from 'node:crypto';
import {
  countedStarts,
  EMPTY_WINDOW,
  type PlannedSend,
  planStarts,
  type RateWindow,
  windowOf,
} from '../../core/send-rate';
import type { QuotaService, SendWindowStore, SendWindowSwap } from '../../domain/ports';
import type { SendPacer } from './send-pacer';
import { answerLate, type PacerClock, type Turn } from './turns';

export const SHARED_PACING = {
  /** The part of each quota in the pool; the rest is split evenly among the shards. */
  poolShare: 0.5,
  /** How far ahead of now one write reserves starts (a quota's second: one write a second in a burst). */
  horizonMs: 1_000,
  /**
   * A send goes at most this long after its reserved instant (a later one is planned again), and
   * every reservation counts this much longer than a second: the sends' own instants never put
   * more than the rate into any second either.
   */
  graceMs: 25,
  /** A write slower than this, or failing, makes the pacer pace to its share for `fallbackMs`. */
  slowWriteMs: 500,
  fallbackMs: 30_000,
  /**
   * After a refused write (another shard wrote first) the pacer waits a random time up to
   * 5 ms × 2^refusals in a row, at most `maxBackoffMs`, so that 20 shards bursting at once take
   * turns instead of colliding again; after `maxConflicts` in a row it falls back.
   */
  maxBackoffMs: 200,
  maxConflicts: 50,
  /** How long a quiet window's item is kept (TTL). */
  keepMs: 86_400_000,
} as const;

export interface SharedPacerOptions {
  readonly clock: PacerClock;
  readonly service: QuotaService;
  /** The pool's rate, units per second, for every shard together (`sharedParts` in notify/deliverer.ts). */
  readonly perSecond: number;
  readonly store: SendWindowStore;
  /** The shard's own pacer: its share of the rest, tried first, and all it paces to while the store cannot be used. */
  readonly own: SendPacer;
  /** False: `own` is only the fallback (the quota is all pool, own shares would be under one a second). Default true. */
  readonly ownShare?: boolean;
  /** Told each time the pacer falls back to its own share, with why (no secret in it). */
  readonly onFallback?: (reason: string) => void;
  /** Draws the backoff after a refused write, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

interface Waiting {
  readonly cost: number;
  readonly deadline: number;
  readonly resolve: (turn: Turn) => void;
}

interface Granted extends Waiting {
  readonly at: number;
}

export class SharedSendPacer {
  #window: RateWindow = EMPTY_WINDOW;
  /** The stored window's version and writer as last seen; undefined: none stored (or not read yet). */
  #version: number | undefined;
  #writer: string | undefined;
  readonly #queue: Waiting[] = [];
  /** Reserved, waiting for their instant, earliest first. */
  #granted: Granted[] = [];
  #running = false;
  #wake = new AbortController();
  #fallbackUntil = Number.NEGATIVE_INFINITY;
  #conflicts = 0;
  #leadMs = 0;
  /** Names this pacer's writes: a write refused because it is already stored is recognised as ours. */
  readonly #id = randomUUID().slice(0, 13);
  /** Writes, refused writes and reservations left unused, for the logs and tests. */
  readonly counts = { writes: 0, refused: 0, spoiled: 0, fallbacks: 0 };

  constructor(private readonly options: SharedPacerOptions) {}

  get perSecond(): number {
    return this.options.perSecond;
  }

  /** Is it pacing to its own share alone now (the store failed or was slow)? */
  get fallingBack(): boolean {
    return this.options.clock.now() < this.#fallbackUntil;
  }

  /**
   * Wait for the turn of a send costing `cost` units. `{ go: true }`: start now (it is counted).
   * `{ go: false, notBefore }`: it could not start by `deadline` (epoch ms); nothing was counted.
   */
  turn(cost: number, deadline = Number.POSITIVE_INFINITY): Promise<Turn> {
    const units = Math.max(1, cost);
    const { own, clock } = this.options;
    if (this.#queue.length === 0 && this.#ownNow(units)) return Promise.resolve({ go: true, at: clock.now() });
    if (this.fallingBack) return own.turn(units, deadline);
    return new Promise<Turn>((resolve) => {
      this.#queue.push({ cost: units, deadline, resolve });
      this.#poke();
    });
  }

  /**
   * Start on the shard's own share now if it has room. A send costing more than the share's second
   * (an e-mail to many recipients) goes through the pool: alone in a second of its own, it would
   * put more than the share into that second, and every shard could do so at once.
   */
  #ownNow(units: number): boolean {
    return this.options.ownShare !== false && units <= this.options.own.perSecond && this.options.own.tryNow(units);
  }

  #poke(): void {
    if (this.#running) {
      this.#wake.abort();
      return;
    }
    this.#running = true;
    void this.#run()
      .catch((error) => this.#rescue(error))
      .finally(() => {
        this.#running = false;
        if (this.#queue.length > 0 || this.#granted.length > 0) this.#poke();
      });
  }

  async #run(): Promise<void> {
    const { clock, perSecond } = this.options;
    while (this.#queue.length > 0 || this.#granted.length > 0) {
      const now = clock.now();
      this.#handOut(now);
      // Whatever its own share has room for now goes first, without a write.
      while (this.#queue.length > 0 && this.#ownNow(this.#queue[0]!.cost)) {
        this.#queue.shift()!.resolve({ go: true, at: now });
      }
      if (now < this.#fallbackUntil) {
        for (const w of this.#queue.splice(0)) void this.options.own.turn(w.cost, w.deadline).then(w.resolve);
      }
      let wakeAt = this.#granted[0]?.at ?? Number.POSITIVE_INFINITY;
      if (this.#queue.length > 0) {
        // The rule plans after every start it counts: none before a reservation already made.
        const latest = Math.max(Number.NEGATIVE_INFINITY, ...this.#window.starts.map((st) => st.at));
        const from = Math.max(now + this.#leadMs, latest);
        const plan = planStarts(
          this.#window,
          this.#queue.map((w) => ({ id: w, cost: w.cost, deadline: w.deadline })),
          from,
          perSecond,
          SHARED_PACING.graceMs,
        );
        if (answerLate(this.#queue, plan)) continue; // the others may go earlier now
        const due = plan.filter((p) => p.at <= from + SHARED_PACING.horizonMs);
        if (due.length > 0) {
          await this.#reserve(due, now);
          continue;
        }
        // Other shards' reservations only ever make the plan later: planning again then is soon enough.
        wakeAt = Math.min(wakeAt, plan[0]!.at - SHARED_PACING.horizonMs);
      }
      if (wakeAt === Number.POSITIVE_INFINITY) break;
      this.#wake = new AbortController();
      await clock.sleep(Math.max(0, wakeAt - now), this.#wake.signal);
    }
  }

  /** Resolve the reservations whose instant has come; one that came too late is planned again. */
  #handOut(now: number): void {
    const spoiled: Waiting[] = [];
    while (this.#granted.length > 0 && this.#granted[0]!.at <= now) {
      const g = this.#granted.shift()!;
      if (now - g.at > SHARED_PACING.graceMs) spoiled.push(g);
      else g.resolve({ go: true, at: now });
    }
    if (spoiled.length > 0) {
      this.counts.spoiled += spoiled.length;
      this.#queue.unshift(...spoiled.map(({ cost, deadline, resolve }) => ({ cost, deadline, resolve })));
    }
  }

  /** Write the window with `due` reserved; on success they wait in #granted for their instants. */
  async #reserve(due: readonly PlannedSend<Waiting>[], now: number): Promise<void> {
    const { clock, perSecond, store, service } = this.options;
    const starts = [...countedStarts(this.#window, now), ...due.map((p) => ({ at: p.at, cost: p.id.cost }))];
    const counted = windowOf(starts, perSecond, now, SHARED_PACING.graceMs);
    const next = {
      version: (this.#version ?? 0) + 1,
      writer: `${this.#id}/${this.counts.writes}`,
      countsUntil: Math.max(now, ...counted.starts.map((st) => st.until)),
      starts,
    };
    const began = clock.now();
    this.counts.writes += 1;
    const write = () =>
      store.swapSendWindow(service, this.#writer, next, { now, expiresAt: now + SHARED_PACING.keepMs });
    let swap: SendWindowSwap;
    try {
      // A failed write may have been applied: the same write again tells (the store recognises its own).
      swap = await write().catch(() => {
        this.counts.writes += 1;
        return write();
      });
    } catch (error) {
      // Its reservations may still be stored: they then count against every shard, unused — never over.
      this.#fallBack(`the shared ${service} send window could not be written (${describe(error)})`);
      return;
    }
    const took = clock.now() - began;
    if (!swap.saved) {
      this.counts.refused += 1;
      this.#version = swap.current?.version;
      this.#writer = swap.current?.writer;
      this.#window = windowOf(swap.current?.starts ?? [], perSecond, clock.now(), SHARED_PACING.graceMs);
      if (++this.#conflicts >= SHARED_PACING.maxConflicts) {
        this.#fallBack(`the shared ${service} send window was written by others ${this.#conflicts} times in a row`);
        return;
      }
      const ceiling = Math.min(SHARED_PACING.maxBackoffMs, 5 * 2 ** this.#conflicts);
      await clock.sleep(ceiling * (this.options.random ?? Math.random)());
      return;
    }
    this.#conflicts = 0;
    this.#version = next.version;
    this.#writer = next.writer;
    this.#window = counted;
    // Starts are planned the last write's time ahead, so that they are still ahead when it returns.
    this.#leadMs = Math.min(SHARED_PACING.slowWriteMs, took);
    for (const { id, at } of due) {
      this.#queue.splice(this.#queue.indexOf(id), 1);
      this.#granted.push({ ...id, at });
    }
    this.#granted.sort((a, b) => a.at - b.at);
    if (took > SHARED_PACING.slowWriteMs) {
      this.#fallBack(`the shared ${service} send window took ${Math.round(took)} ms to write`);
    }
  }

  /** A bug in the loop must not leave a send waiting for ever: everything waiting goes to the share. */
  #rescue(error: unknown): void {
    this.#fallBack(`the shared ${this.options.service} pacer failed (${describe(error)})`);
    const waiting = [...this.#granted, ...this.#queue.splice(0)];
    this.#granted = [];
    for (const w of waiting) void this.options.own.turn(w.cost, w.deadline).then(w.resolve);
  }

  #fallBack(reason: string): void {
    this.#fallbackUntil = this.options.clock.now() + SHARED_PACING.fallbackMs;
    this.#conflicts = 0;
    this.counts.fallbacks += 1;
    try {
      this.options.onFallback?.(
        `${reason}: pacing to this shard's ${this.options.ownShare === false ? 'equal' : 'own'} share (${round(this.options.own.perSecond)}/s) for ${SHARED_PACING.fallbackMs / 1000} s`,
      );
    } catch {
      // A failing logger must not stop the pacing.
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
