/**
 * A send quota shared by every shard, as a grid of slots on the epoch clock: slot k is the instant
 * k × slotMs, each slot is given out once (by a pointer the shards move in one DynamoDB item,
 * notify/pacing/shared-pacer.ts), and a send of cost c takes 2c − 1 consecutive slots and starts
 * at the middle one, at most `graceMs` after it. Pure functions; the caller passes the time.
 *
 * Why no one-second window then holds more than m = ⌊perSecond⌋ units (slotMs = (1000 + graceMs) / m):
 * the sends starting in [t, t + 1000) have their middle slots in [t − graceMs, t + 1000), a
 * half-open span of m slot lengths, which holds at most m slots. The blocks are disjoint, and each
 * block whose middle lies in that span has at least min(c, m) of its slots in it: so the costs add
 * up to at most m, unless a single send costs more than m (an e-mail to more recipients than the
 * rate), which then is alone there and holds the c − 1 slots after it, as SES allows such a message
 * and refuses the next ones. Below one unit a second, slots are (1000 + graceMs) / perSecond apart.
 */

export interface SlotGrid {
  /** Milliseconds between two slots. */
  readonly slotMs: number;
  /** Units one second of slots holds (⌊perSecond⌋, at least 1): how much one write reserves at most. */
  readonly perWindow: number;
}

/** Float slack: 14 × 0.5 is exact, 14 / 3 is not. */
const EPSILON = 1e-9;

export function slotGrid(perSecond: number, graceMs: number): SlotGrid {
  const whole = Math.floor(perSecond + EPSILON);
  if (whole < 1) return { slotMs: (1_000 + graceMs) / perSecond, perWindow: 1 };
  return { slotMs: (1_000 + graceMs) / whole, perWindow: whole };
}

/** Slots a send of `cost` units takes: its start in the middle of as many empty ones on each side. */
export function slotsFor(cost: number): number {
  return 2 * Math.max(1, cost) - 1;
}

/** The first slot at or after the instant `at` (epoch ms). */
export function slotAtOrAfter(grid: SlotGrid, at: number): number {
  return Math.ceil(at / grid.slotMs - EPSILON);
}

/** The last slot at or before `at`. */
export function slotAtOrBefore(grid: SlotGrid, at: number): number {
  return Math.floor(at / grid.slotMs + EPSILON);
}

export function instantOf(grid: SlotGrid, slot: number): number {
  return slot * grid.slotMs;
}

/** One send a reservation holds: its offset from the block's first slot to its start's slot. */
export interface SlotSend<T> {
  readonly id: T;
  readonly startOffset: number;
}

/**
 * What one write asks for: the queued sends (in queue order: none before one queued ahead of it)
 * that fit in one second's units, taken as one block of slots from `from` on (the first free slot
 * is at least `from`); `latestFirst` is the last first slot with which every one of them still
 * starts by its deadline (Number.MAX_SAFE_INTEGER without one). Sends that cannot start by their
 * deadline even from `from` are `late` (the caller answers "not before" with `notBefore`); the
 * rest wait for a later write.
 */
export interface SlotBatch<T> {
  readonly sends: readonly SlotSend<T>[];
  readonly slots: number;
  readonly latestFirst: number;
  readonly late: readonly { readonly id: T; readonly notBefore: number }[];
}

export function planSlotBatch<T>(
  grid: SlotGrid,
  queue: readonly { readonly id: T; readonly cost: number; readonly deadline: number }[],
  from: number,
): SlotBatch<T> {
  const sends: SlotSend<T>[] = [];
  const late: { id: T; notBefore: number }[] = [];
  let slots = 0;
  let units = 0;
  let latestFirst = Number.MAX_SAFE_INTEGER; // no deadline: still a number DynamoDB stores
  for (const { id, cost, deadline } of queue) {
    const c = Math.max(1, cost);
    const startOffset = slots + c - 1;
    const lastStart = slotAtOrBefore(grid, deadline);
    if (from + c - 1 > lastStart) {
      // Not even first, from the first slot that may be free: it cannot start by its deadline.
      late.push({ id, notBefore: instantOf(grid, from + c - 1) });
      continue;
    }
    if (from + startOffset > lastStart) break; // after the ones ahead of it: a later write
    // One second's units a write: a burst takes turns with the other shards, a second at a time.
    if (sends.length > 0 && units + c > grid.perWindow) break;
    sends.push({ id, startOffset });
    latestFirst = Math.min(latestFirst, lastStart - startOffset);
    slots += slotsFor(c);
    units += c;
  }
  return { sends, slots, latestFirst, late };
}
