/**
 * Paces one account quota (SES recipients, SNS SMS) for all shards together. Half of the quota is
 * split evenly among the shards (`own`, a local SendPacer: no I/O) when that gives each at least
 * one a second; the rest is a pool any shard draws from when its own share has no room, so that a
 * burst in one restaurant gets the pool while the others are quiet, and quiet traffic its own
 * share carries costs no write. With own shares, the shards together never exceed the quota even
 * while the pool cannot be used; with the quota all pool (many shards), the equal share they
 * fall back to is not seen by the others, and SES or SNS may throttle a send (sent again later).
 *
 * The pool is a grid of slots (core/send-slots.ts) and one pointer per quota in DynamoDB
 * (`SendSlotStore`): the next slot no shard has been given. A write takes a block of slots for
 * what waits now (one second's units at most): it *claims* the block from the first slot still
 * ahead when the pointer is believed behind it, or *appends* it after the pointer otherwise —
 * each a conditional write that never needs the others' reservations, so shards do not refuse
 * each other's writes while they keep sending (a wrong belief costs one refused write, which
 * returns the pointer). A send goes at its slot; one whose write came back too late to use it
 * (`graceMs`) is planned again, its slots left unused (never over the quota).
 *
 * A write that fails may have been applied: its slots are then nobody's, and the next is a new
 * write. When the pointer cannot be written (two errors in a row, a write slower than
 * `slowWriteMs`, `maxConflicts` refusals in a row) the pacer paces to its own share alone for
 * `fallbackMs`, and says why.
 */
import {
  instantOf,
  planSlotBatch,
  type SlotBatch,
  type SlotGrid,
  slotAtOrAfter,
  slotGrid,
} from '../../core/send-slots';
import type { QuotaService, SendSlotStore, SlotRequest, SlotReservation } from '../../domain/ports';
import type { SendPacer } from './send-pacer';
import type { PacerClock, Turn } from './turns';

export const SHARED_PACING = {
  /** The part of each quota in the pool; the rest is split evenly among the shards. */
  poolShare: 0.5,
  /**
   * A send goes at most this long after its slot (a later one is planned again); slots are spaced
   * so that a second and this much hold one second's units: the sends' own instants never put
   * more than the rate into any second either.
   */
  graceMs: 25,
  /**
   * How far ahead of now a write takes slots (one write takes one second's units at most): a burst
   * takes turns with the other shards a second at a time, and its own share sends what it can.
   */
  horizonMs: 1_000,
  /** A write slower than this, or two failing in a row, make the pacer pace to its share for `fallbackMs`. */
  slowWriteMs: 500,
  fallbackMs: 30_000,
  /** Refused writes in a row (the pointer never where it was believed) after which it falls back. */
  maxConflicts: 50,
  /**
   * A pointer further ahead than this is not one the pacers wrote (each write takes at most a
   * second, a horizon ahead): the pacer paces to its share rather than wait for it.
   */
  maxAheadMs: 600_000,
  /** How long a quiet quota's pointer is kept (TTL). */
  keepMs: 86_400_000,
} as const;

export interface SharedPacerOptions {
  readonly clock: PacerClock;
  readonly service: QuotaService;
  /** The pool's rate, units per second, for every shard together (`sharedParts` in notify/deliverer.ts). */
  readonly perSecond: number;
  readonly store: SendSlotStore;
  /** The shard's own pacer: its share of the rest, tried first, and all it paces to while the store cannot be used. */
  readonly own: SendPacer;
  /** False: `own` is only the fallback (the quota is all pool, own shares would be under one a second). Default true. */
  readonly ownShare?: boolean;
  /** Told each time the pacer falls back to its own share, with why (no secret in it). */
  readonly onFallback?: (reason: string) => void;
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
  readonly #grid: SlotGrid;
  /** The highest pointer seen (it only grows while stored); undefined: none seen, or it expired. */
  #pointer: number | undefined;
  readonly #queue: Waiting[] = [];
  /** Reserved, waiting for their instant, earliest first. */
  #granted: Granted[] = [];
  #running = false;
  #wake = new AbortController();
  #fallbackUntil = Number.NEGATIVE_INFINITY;
  #errors = 0;
  #conflicts = 0;
  #leadMs = 0;
  /**
   * Writes; refused ones (the pointer was not where it was believed); failed ones, which may have
   * been applied (their slots unused); reservations that came back too late; fallbacks.
   */
  readonly counts = { writes: 0, refused: 0, failed: 0, spoiled: 0, fallbacks: 0 };

  constructor(private readonly options: SharedPacerOptions) {
    this.#grid = slotGrid(options.perSecond, SHARED_PACING.graceMs);
  }

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
    const { clock } = this.options;
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
        // The first slot still ahead when the write's answer is back (the last write's time ahead).
        const ahead = slotAtOrAfter(this.#grid, now + this.#leadMs);
        const known = this.#pointer ?? Number.NEGATIVE_INFINITY;
        const from = Math.max(ahead, known);
        const batch = planSlotBatch(
          this.#grid,
          this.#queue.map((w) => ({ id: w, cost: w.cost, deadline: w.deadline })),
          from,
        );
        for (const { id, notBefore } of batch.late) {
          this.#queue.splice(this.#queue.indexOf(id), 1);
          id.resolve({ go: false, notBefore });
        }
        if (batch.late.length > 0) continue; // the own share may take the rest now
        // Slots are taken at most a horizon ahead: what the own share can send before then, it sends.
        const firstAt = instantOf(this.#grid, from);
        if (firstAt > now + SHARED_PACING.maxAheadMs) {
          this.#pointer = undefined;
          this.#fallBack(
            `the shared ${this.options.service} send slots are taken ${Math.round((firstAt - now) / 1000)} s ahead, more than any pacer takes (the item expires a day after its last write)`,
          );
          continue;
        }
        if (firstAt <= now + SHARED_PACING.horizonMs) {
          const expiresAt = now + SHARED_PACING.keepMs;
          const request: SlotRequest =
            known <= ahead
              ? { mode: 'claim', from: ahead, slots: batch.slots, expiresAt }
              : { mode: 'append', from: known, latestFirst: batch.latestFirst, slots: batch.slots, expiresAt };
          await this.#reserve(request, batch);
          continue;
        }
        wakeAt = Math.min(wakeAt, firstAt - SHARED_PACING.horizonMs);
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

  /** Write the pointer for `batch`; on success its sends wait in #granted for their slots. */
  async #reserve(request: SlotRequest, batch: SlotBatch<Waiting>): Promise<void> {
    const { clock, store, service } = this.options;
    const began = clock.now();
    this.counts.writes += 1;
    let answer: SlotReservation;
    try {
      answer = await store.reserveSendSlots(service, request);
    } catch (error) {
      // It may have been applied: those slots are nobody's now. The next write is a new one.
      this.counts.failed += 1;
      if (++this.#errors >= 2) {
        this.#fallBack(`the shared ${service} send slots could not be written (${describe(error)})`);
      }
      return;
    }
    this.#errors = 0;
    const took = clock.now() - began;
    if (!answer.reserved) {
      this.counts.refused += 1;
      // Where the pointer is (absent: expired, or never written); the plan starts from there.
      this.#pointer = answer.next;
      if (++this.#conflicts >= SHARED_PACING.maxConflicts) {
        this.#fallBack(`the shared ${service} send slots were refused ${this.#conflicts} times in a row`);
      }
      return;
    }
    this.#conflicts = 0;
    this.#pointer = Math.max(this.#pointer ?? Number.NEGATIVE_INFINITY, answer.next);
    // Slots are planned the last write's time ahead, so that they are still ahead when it returns.
    this.#leadMs = Math.min(SHARED_PACING.slowWriteMs, took);
    const first = answer.next - request.slots;
    for (const { id, startOffset } of batch.sends) {
      this.#queue.splice(this.#queue.indexOf(id), 1);
      this.#granted.push({ ...id, at: instantOf(this.#grid, first + startOffset) });
    }
    this.#granted.sort((a, b) => a.at - b.at);
    if (took > SHARED_PACING.slowWriteMs) {
      this.#fallBack(`the shared ${service} send slots took ${Math.round(took)} ms to write`);
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
    this.#errors = 0;
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
