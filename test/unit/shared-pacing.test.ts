/**
 * One send quota paced for all shards together (lambda/notify/pacing/shared-pacer.ts), on a
 * discrete-event clock with an in-memory slot pointer that keeps DynamoDB's conditional semantics:
 * each shard's own share (half the quota split evenly) needs no write, a burst in one shard gets
 * its own share and the whole pool (the other half), shards together never put more than the
 * quota into any one-second window, sporadic sends through the pool cost one write each, and a
 * store that fails, answers late or is slow makes the pacer pace to its own share alone, losing
 * no send.
 */
import { describe, expect, it } from 'vitest';
import { leastBurstMs } from '../../lambda/core/send-rate';
import { instantOf, slotAtOrAfter, slotGrid } from '../../lambda/core/send-slots';
import type { QuotaService, SendSlotStore, SlotRequest, SlotReservation } from '../../lambda/domain/ports';
import { SendPacer } from '../../lambda/notify/pacing/send-pacer';
import { SHARED_PACING, SharedSendPacer } from '../../lambda/notify/pacing/shared-pacer';
import type { Turn } from '../../lambda/notify/pacing/turns';
import { busiestSecond, EventClock } from '../support/event-clock';
import { seededRandom } from '../support/harness';

type Fault = 'throw' | 'applied-then-throw' | { slowMs: number } | undefined;

/** The table's pointer per quota, moved only where the request's condition holds (as state/store.ts asks DynamoDB). */
class MemorySlots implements SendSlotStore {
  readonly pointers = new Map<QuotaService, number>();
  readonly faults: Fault[] = [];
  readonly requests: SlotRequest[] = [];
  constructor(private readonly clock: EventClock) {}

  async reserveSendSlots(service: QuotaService, request: SlotRequest): Promise<SlotReservation> {
    this.requests.push(request);
    // DynamoDB stores no Infinity or NaN.
    for (const n of Object.values(request))
      if (typeof n === 'number' && !Number.isFinite(n)) throw new Error(`${n} is not a number DynamoDB stores`);
    const fault = this.faults.shift();
    if (fault === 'throw') throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    if (typeof fault === 'object') await this.clock.sleep(fault.slowMs);
    const current = this.pointers.get(service);
    const holds =
      request.mode === 'claim'
        ? current === undefined || current <= request.from
        : current !== undefined && current >= request.from && current <= request.latestFirst;
    if (!holds) return current === undefined ? { reserved: false } : { reserved: false, next: current };
    const next = request.mode === 'claim' ? request.from + request.slots : current! + request.slots;
    this.pointers.set(service, next);
    if (fault === 'applied-then-throw') throw Object.assign(new Error('the call timed out'), { name: 'TimeoutError' });
    return { reserved: true, next };
  }

  get writes(): number {
    return this.requests.length;
  }
}

interface Shard {
  readonly pacer: SharedSendPacer;
  readonly fallbacks: string[];
}

function shardsOn(clock: EventClock, store: SendSlotStore, count: number, quota = 14, ownShares = true): Shard[] {
  return Array.from({ length: count }, () => {
    const fallbacks: string[] = [];
    const pacer = new SharedSendPacer({
      clock,
      service: 'ses',
      perSecond: ownShares ? quota * SHARED_PACING.poolShare : quota,
      store,
      own: new SendPacer(clock, ownShares ? (quota * (1 - SHARED_PACING.poolShare)) / count : quota / count),
      ownShare: ownShares,
      onFallback: (reason) => fallbacks.push(reason),
    });
    return { pacer, fallbacks };
  });
}

interface Started {
  readonly shard: number;
  readonly at: number;
  readonly cost: number;
}

/** Ask for `count` turns of `cost` on a shard; every granted turn is recorded with its instant. */
function ask(clock: EventClock, shards: Shard[], shard: number, count: number, cost = 1, deadline?: number) {
  const log: Started[] = [];
  const turns = Array.from({ length: count }, () =>
    shards[shard]!.pacer.turn(cost, deadline).then((turn: Turn) => {
      if (turn.go) log.push({ shard, at: clock.now(), cost });
      return turn;
    }),
  );
  return { log, done: Promise.all(turns) };
}

/** The least time from first send to last of `units` one-unit sends through the pool's slots. */
function sharedBurstMs(units: number, perSecond: number): number {
  return (units - 1) * slotGrid(perSecond, SHARED_PACING.graceMs).slotMs;
}

const sum = (shards: Shard[], count: keyof SharedSendPacer['counts']) =>
  shards.reduce((n, s) => n + s.pacer.counts[count], 0);

describe('send pacing shared by the shards', () => {
  it('quiet traffic: each shard sends on its own share, with no write', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2); // own 3.5/s each, pool 7/s
    for (let i = 0; i < 10; i++) {
      const a = ask(clock, shards, i % 2, 3);
      await clock.runUntil(a.done);
      expect(a.log).toHaveLength(3);
      clock.advance(1_000);
    }
    expect(store.writes).toBe(0);
  });

  it("quiet traffic through the pool: one write per send, though each shard has not seen the others' writes", async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 4, 14, false); // all pool: no own shares
    for (let i = 0; i < 12; i++) {
      const a = ask(clock, shards, i % 4, 1);
      await clock.runUntil(a.done);
      expect(a.log).toHaveLength(1);
      clock.advance(1_500);
    }
    expect(store.writes).toBe(12);
    expect(store.requests.every((r) => r.mode === 'claim')).toBe(true);
    expect(sum(shards, 'refused')).toBe(0);
  });

  it('20 shards, all pool, calls arriving at random about 8 a second: about one write per send, never over the quota', async () => {
    const random = seededRandom(42);
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 20, 14, false);
    const asks: ReturnType<typeof ask>[] = [];
    const arrivals: Promise<unknown>[] = [];
    let at = 0;
    for (let i = 0; i < 240; i++) {
      at += -Math.log(1 - random()) * 125; // Poisson, 8 a second
      const shard = Math.floor(random() * 20);
      arrivals.push(
        clock.sleep(at).then(() => {
          const a = ask(clock, shards, shard, 1);
          asks.push(a);
          return a.done;
        }),
      );
    }
    await clock.runUntil(Promise.all(arrivals));
    await clock.runUntil(Promise.all(asks.map((a) => a.done)));
    const all = asks.flatMap((a) => a.log);
    expect(all).toHaveLength(240);
    expect(busiestSecond(all)).toBeLessThanOrEqual(14);
    // Two shards asking within one slot's time both claim the same slot: one is refused, learns the
    // pointer and appends. Nothing else is ever refused.
    expect(store.writes / all.length).toBeLessThanOrEqual(1.5);
    expect(sum(shards, 'refused')).toBe(store.writes - all.length);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
  });

  it('a burst in one shard gets its own share and the whole pool while the others are quiet', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 5); // own 1.4/s each (one a second), pool 7/s
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 80);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(80);
    expect(busiestSecond(a.log)).toBe(8); // 1 of its own + 7 of the pool
    const took = Math.max(...a.log.map((s) => s.at)) - t0;
    expect(took).toBeLessThanOrEqual(sharedBurstMs(80, 7) + 1_000);
    expect(took).toBeGreaterThanOrEqual(leastBurstMs(80, 8));
    expect(took).toBeLessThan(leastBurstMs(80, 14 / 5) / 2); // the old equal share: 28 s
    expect(store.writes).toBeLessThanOrEqual(14); // one second's slots a write
    expect(shards[0]!.fallbacks).toEqual([]);
  });

  it('shards bursting together share the quota: never more than 14 in any second, and refuse each other at most once', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 3); // own 2.33/s each, pool 7/s
    const t0 = clock.now();
    const bursts = [ask(clock, shards, 0, 40), ask(clock, shards, 1, 25), ask(clock, shards, 2, 5, 3)];
    await clock.runUntil(Promise.all(bursts.map((b) => b.done)));
    const all = bursts.flatMap((b) => b.log);
    expect(all).toHaveLength(70);
    expect(busiestSecond(all)).toBeLessThanOrEqual(14);
    // An e-mail to 3 takes 5 slots (core/send-slots.ts): 90 slots, some of them on the own shares.
    const slots = all.reduce((n, s) => n + 2 * s.cost - 1, 0);
    expect(slots).toBe(90);
    expect(Math.max(...all.map((s) => s.at)) - t0).toBeLessThanOrEqual(sharedBurstMs(slots, 7));
    // A shard believes the pointer behind it until it first sees it: then it appends, refused no more.
    expect(sum(shards, 'refused')).toBeLessThanOrEqual(2);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
  });

  it('counts what other shards reserved in the pool before it ever wrote', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const grid = slotGrid(7, SHARED_PACING.graceMs);
    const taken = slotAtOrAfter(grid, clock.now()) + 5; // another shard holds the next 5 slots
    store.pointers.set('ses', taken);
    const shards = shardsOn(clock, store, 2); // own 3.5/s (3 a second), pool 7/s
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 10);
    await clock.runUntil(a.done);
    expect(a.log.filter((s) => s.at === t0)).toHaveLength(3); // its own 3 at once
    const pool = a.log.filter((s) => s.at > t0);
    expect(pool).toHaveLength(7);
    expect(Math.min(...pool.map((s) => s.at))).toBeGreaterThanOrEqual(instantOf(grid, taken));
    expect(store.requests.map((r) => r.mode)).toEqual(['claim', 'append']); // refused once, then after them
  });

  it('a pointer gone (its TTL): the append is refused with nothing stored, the next write claims, nothing lost', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2, 14, false);
    await clock.runUntil(ask(clock, shards, 0, 3).done);
    store.pointers.clear();
    const a = ask(clock, shards, 0, 3);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(3);
    // Its first three: one claim, then the two queued meanwhile appended; then an append refused (nothing stored), a claim.
    expect(store.requests.map((r) => r.mode)).toEqual(['claim', 'append', 'append', 'claim']);
    expect(shards[0]!.pacer.counts.refused).toBe(1);
  });

  it('answers "not before" at once for sends that cannot start by their deadline, reserving no slot for them', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2);
    const grid = slotGrid(7, SHARED_PACING.graceMs);
    const t0 = clock.now();
    const first = slotAtOrAfter(grid, t0);
    const a = ask(clock, shards, 0, 20, 1, t0 + 500);
    const turns = await clock.runUntil(a.done);
    const went = a.log.filter((s) => s.at > t0);
    expect(a.log.filter((s) => s.at === t0)).toHaveLength(3); // its own share
    expect(went.length).toBeGreaterThan(0);
    expect(Math.max(...went.map((s) => s.at))).toBeLessThanOrEqual(t0 + 500);
    const late = turns.filter((t): t is Extract<Turn, { go: false }> => !t.go);
    expect(late).toHaveLength(20 - 3 - went.length);
    for (const t of late) expect(t.notBefore).toBeGreaterThan(t0 + 500);
    expect(store.pointers.get('ses')! - first).toBe(went.length); // one slot for each send that went
  });

  it('a store that fails twice: it paces to its own share for a while, says why once, loses no send, then shares again', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push('throw', 'throw');
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 21);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(21);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(shards[0]!.fallbacks[0]).toMatch(
      /could not be written \(ServiceUnavailable: Service unavailable\).*own share \(3\.5\/s\) for 30 s/,
    );
    expect(busiestSecond(a.log)).toBe(3);
    expect(Math.max(...a.log.map((s) => s.at)) - t0).toBe(leastBurstMs(21, 3.5)); // 6 s on its own share
    expect(shards[0]!.pacer.fallingBack).toBe(true);

    clock.t += SHARED_PACING.fallbackMs;
    expect(shards[0]!.pacer.fallingBack).toBe(false);
    const b = ask(clock, shards, 0, 30);
    await clock.runUntil(b.done);
    expect(busiestSecond(b.log)).toBe(10); // its own and the pool again
  });

  it('a write applied but answered with an error: its slots go unused, the next write is a new one, no fallback, never over', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push('applied-then-throw');
    const a = ask(clock, shards, 0, 14);
    const b = ask(clock, shards, 1, 14);
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect([a.log.length, b.log.length]).toEqual([14, 14]);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
    expect(sum(shards, 'failed')).toBe(1);
    expect(busiestSecond([...a.log, ...b.log])).toBeLessThanOrEqual(14);
  });

  it('a write applied, then an error again: the shard keeps to its own share, the others never use the lost slots', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const grid = slotGrid(7, SHARED_PACING.graceMs);
    const shards = shardsOn(clock, store, 2);
    store.faults.push('applied-then-throw', 'throw');
    const a = ask(clock, shards, 0, 14);
    await clock.settle(); // both of shard 0's writes fail before shard 1 asks
    const lostUntil = store.pointers.get('ses')!; // the lost answer's slots end here
    const b = ask(clock, shards, 1, 14);
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect([a.log.length, b.log.length]).toEqual([14, 14]);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(busiestSecond(a.log)).toBe(3); // its own share alone
    const pool = b.log.slice(3); // after its own 3
    expect(Math.min(...pool.map((s) => s.at))).toBeGreaterThanOrEqual(instantOf(grid, lostUntil));
    expect(busiestSecond([...a.log, ...b.log])).toBeLessThanOrEqual(14);
  });

  it('a slow store: reservations that come back too late are planned again, nothing goes early or twice', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push({ slowMs: 200 }, { slowMs: 200 }, { slowMs: 200 });
    const a = ask(clock, shards, 0, 30);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(30);
    expect(busiestSecond(a.log)).toBeLessThanOrEqual(10);
    expect(shards[0]!.pacer.counts.spoiled).toBeGreaterThan(0);
    expect(shards[0]!.fallbacks).toEqual([]);
  });

  it('a write slower than the limit: it falls back to its own share, and the reservations it got still go', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push({ slowMs: SHARED_PACING.slowWriteMs + 1 });
    const a = ask(clock, shards, 0, 20);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(20);
    expect(shards[0]!.fallbacks[0]).toMatch(/took 501 ms to write/);
    expect(busiestSecond(a.log)).toBeLessThanOrEqual(10);
  });

  it('a pointer that is never where it is believed: after 50 refusals in a row it falls back rather than spin', async () => {
    const clock = new EventClock();
    // Each claim finds its slot just taken; each append finds nothing stored.
    const refusing: SendSlotStore = {
      reserveSendSlots: async (_service, request) =>
        request.mode === 'claim' ? { reserved: false, next: request.from + 1 } : { reserved: false },
    };
    const shards = shardsOn(clock, refusing, 2);
    const a = ask(clock, shards, 0, 60);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(60);
    expect(shards[0]!.pacer.counts.refused).toBe(SHARED_PACING.maxConflicts);
    expect(shards[0]!.fallbacks[0]).toMatch(/refused 50 times in a row/);
    expect(shards[0]!.fallbacks).toHaveLength(1);
  });

  it('a pointer far ahead of anything a pacer writes (a hand-edited item): it paces to its share, says why, loses nothing', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    store.pointers.set('ses', slotAtOrAfter(slotGrid(7, SHARED_PACING.graceMs), clock.now() + 86_400_000));
    const shards = shardsOn(clock, store, 2);
    const a = ask(clock, shards, 0, 10);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(10);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(shards[0]!.fallbacks[0]).toMatch(/taken 86400 s ahead.*own share \(3\.5\/s\) for 30 s/);
    expect(busiestSecond(a.log)).toBe(3);
  });

  it('a fault in the pacer itself (its clock fails) and a logger that throws: every waiting send still goes, at the share', async () => {
    const clock = new EventClock();
    const store = new MemorySlots(clock);
    let failures = 1;
    const failingClock = {
      now: clock.now,
      sleep: (ms: number, signal?: AbortSignal) =>
        failures-- > 0 ? Promise.reject(new Error('timer broke')) : clock.sleep(ms, signal),
    };
    const pacer = new SharedSendPacer({
      clock: failingClock,
      service: 'sns',
      perSecond: 14,
      store,
      own: new SendPacer(clock, 7),
      onFallback: () => {
        throw new Error('the logger is down');
      },
    });
    const log: number[] = [];
    const done = Promise.all(
      Array.from({ length: 40 }, () => pacer.turn(1).then((t) => t.go && log.push(clock.now()))),
    );
    await clock.runUntil(done);
    expect(log).toHaveLength(40);
    expect(pacer.counts.fallbacks).toBe(1);
    expect(pacer.fallingBack).toBe(true);
  });

  for (const faulty of [false, true]) {
    it(`random bursts in 4 shards${faulty ? ', with failing, late and slow writes' : ''}: never more than the quota in any second, every send once`, async () => {
      for (let seed = 1; seed <= 20; seed++) {
        const random = seededRandom(seed);
        const clock = new EventClock();
        const store = new MemorySlots(clock);
        if (faulty) {
          for (let i = 0; i < 200; i++) {
            const r = random();
            store.faults.push(
              r < 0.08 ? 'throw' : r < 0.16 ? 'applied-then-throw' : r < 0.24 ? { slowMs: random() * 600 } : undefined,
            );
          }
        }
        const shards = shardsOn(clock, store, 4, 10);
        const t0 = clock.now();
        const bursts: ReturnType<typeof ask>[] = [];
        const arrivals: Promise<unknown>[] = [];
        let asked = 0;
        for (let i = 0; i < 12; i++) {
          const shard = Math.floor(random() * 4);
          const count = 1 + Math.floor(random() * 8);
          // With faults every shard may fall back to its own share, which sends an e-mail costing more
          // than the share in a second of its own (as one shard alone would): costs of 1 then.
          const cost = faulty ? 1 : 1 + Math.floor(random() * 3);
          const at = Math.floor(random() * 5_000);
          asked += count;
          arrivals.push(
            clock.sleep(at).then(() => {
              const b = ask(clock, shards, shard, count, cost);
              bursts.push(b);
              return b.done;
            }),
          );
        }
        await clock.runUntil(Promise.all(arrivals));
        await clock.runUntil(Promise.all(bursts.map((b) => b.done)));
        const all = bursts.flatMap((b) => b.log);
        expect(all.length, `seed ${seed}`).toBe(asked);
        expect(busiestSecond(all), `seed ${seed}`).toBeLessThanOrEqual(10);
        expect(clock.now() - t0).toBeLessThan(faulty ? 120_000 : 60_000);
        if (!faulty) expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
      }
    });
  }
});
