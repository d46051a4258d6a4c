/**
 * One send quota paced for all shards together (lambda/notify/pacing/shared-pacer.ts), on a
 * discrete-event clock with an in-memory store that keeps DynamoDB's conditional semantics: each
 * shard's own share (half the quota split evenly) needs no write, a burst in one shard gets its
 * own share and the whole pool (the other half), shards together never put more than the quota
 * into any one-second window, refused writes are planned again, and a store that fails, answers
 * late or is slow makes the pacer pace to its own share alone, losing no send.
 */
import { describe, expect, it } from 'vitest';
import { leastBurstMs } from '../../lambda/core/send-rate';
import type { QuotaService, SendWindowStore, SendWindowSwap, SharedSendWindow } from '../../lambda/domain/ports';
import { SendPacer } from '../../lambda/notify/pacing/send-pacer';
import { SHARED_PACING, SharedSendPacer } from '../../lambda/notify/pacing/shared-pacer';
import type { Turn } from '../../lambda/notify/pacing/turns';
import { busiestSecond, EventClock } from '../support/event-clock';
import { seededRandom } from '../support/harness';

type Fault = 'throw' | 'applied-then-throw' | { slowMs: number } | undefined;

/** The table's item per quota, written only if the version is still the expected one. */
class MemoryWindows implements SendWindowStore {
  readonly items = new Map<QuotaService, SharedSendWindow>();
  readonly faults: Fault[] = [];
  writes = 0;
  constructor(private readonly clock: EventClock) {}

  async swapSendWindow(
    service: QuotaService,
    expected: string | undefined,
    next: SharedSendWindow,
    at: { readonly now: number },
  ): Promise<SendWindowSwap> {
    this.writes += 1;
    const fault = this.faults.shift();
    if (fault === 'throw') throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    if (typeof fault === 'object') await this.clock.sleep(fault.slowMs);
    const current = this.items.get(service);
    if (current === next) return { saved: true }; // ours, applied before (as StateStore recognises it)
    const over = current !== undefined && current.countsUntil <= at.now;
    if (current !== undefined && current.writer !== expected && !over) return { saved: false, current };
    this.items.set(service, next);
    if (fault === 'applied-then-throw') throw Object.assign(new Error('the call timed out'), { name: 'TimeoutError' });
    return { saved: true };
  }
}

interface Shard {
  readonly pacer: SharedSendPacer;
  readonly fallbacks: string[];
}

function shardsOn(
  clock: EventClock,
  store: SendWindowStore,
  count: number,
  quota = 14,
  random: () => number = () => 0,
  ownShares = true,
): Shard[] {
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
      random,
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

/** The least time from first send to last of `units` one-unit sends through a shared window. */
function sharedBurstMs(units: number, perSecond: number): number {
  return (Math.ceil(units / perSecond) - 1) * (1_000 + SHARED_PACING.graceMs);
}

describe('send pacing shared by the shards', () => {
  it('quiet traffic: each shard sends on its own share, with no write', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
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
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 4, 14, () => 0, false); // all pool: no own shares
    for (let i = 0; i < 12; i++) {
      const a = ask(clock, shards, i % 4, 1);
      await clock.runUntil(a.done);
      expect(a.log).toHaveLength(1);
      clock.advance(1_500); // the last send no longer counts
    }
    expect(store.writes).toBe(12);
    expect(shards.reduce((n, s) => n + s.pacer.counts.refused, 0)).toBe(0);
  });

  it('a burst in one shard gets its own share and the whole pool while the others are quiet', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 5); // own 1.4/s each (one a second), pool 7/s
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 80);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(80);
    expect(busiestSecond(a.log)).toBe(8); // 1 of its own + 7 of the pool
    const took = Math.max(...a.log.map((s) => s.at)) - t0;
    expect(took).toBeLessThanOrEqual(sharedBurstMs(80, 7));
    expect(took).toBeGreaterThanOrEqual(leastBurstMs(80, 8));
    expect(took).toBeLessThan(leastBurstMs(80, 14 / 5) / 2); // the old equal share: 28 s
    expect(store.writes).toBeLessThanOrEqual(12); // about one reservation a second
    expect(shards[0]!.fallbacks).toEqual([]);
  });

  it('shards bursting together share the quota: never more than 14 in any second', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 3); // own 2.33/s each, pool 7/s
    const t0 = clock.now();
    const bursts = [ask(clock, shards, 0, 40), ask(clock, shards, 1, 25), ask(clock, shards, 2, 5, 3)];
    await clock.runUntil(Promise.all(bursts.map((b) => b.done)));
    const all = bursts.flatMap((b) => b.log);
    expect(all).toHaveLength(70);
    expect(busiestSecond(all)).toBeLessThanOrEqual(14);
    const units = all.reduce((n, s) => n + s.cost, 0); // 80
    expect(Math.max(...all.map((s) => s.at)) - t0).toBeLessThanOrEqual(sharedBurstMs(units, 10) + 1_000); // the pool and two own shares at 2 a second
    expect(store.writes).toBeGreaterThan(shards.length); // they did contend for the item
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
  });

  it('counts what other shards reserved in the pool before it ever wrote', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const others = Array.from({ length: 5 }, (_, i) => ({ at: clock.now() - 500 + i, cost: 1 }));
    store.items.set('ses', { version: 41, writer: 'another-shard/40', countsUntil: clock.now() + 525, starts: others });
    const shards = shardsOn(clock, store, 2); // own 3.5/s (3 a second), pool 7/s
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 10);
    await clock.runUntil(a.done);
    expect(a.log.filter((s) => s.at === t0)).toHaveLength(3 + 2); // its own 3, and the pool's 7 − the 5 still counting
    expect(busiestSecond([...others.map((o) => ({ shard: 1, ...o })), ...a.log])).toBeLessThanOrEqual(10);
    expect(store.items.get('ses')!.version).toBeGreaterThan(41);
  });

  it('a window overwritten once expired (by a shard that had not seen it) is not taken for the one another shard saw', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 2, 14, () => 0, false); // all pool
    await clock.runUntil(ask(clock, shards, 0, 1).done); // shard 0 writes the first window (version 1)
    clock.advance(2_000); // it expires
    const t1 = clock.now();
    const b = ask(clock, shards, 1, 1, 14); // shard 1, which saw nothing, writes over it in one write: version 1 again
    await clock.settle();
    const a = ask(clock, shards, 0, 14); // shard 0 still holds its own version 1
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect(busiestSecond([...a.log, ...b.log])).toBe(14);
    expect(a.log.filter((st) => st.at < t1 + 1_000)).toHaveLength(0); // shard 1's e-mail to 14 fills that second
  });

  it('answers "not before" at once for sends that cannot start by their deadline, reserving nothing for them', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 2);
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 20, 1, t0 + 500);
    const turns = await clock.runUntil(a.done);
    expect(turns.filter((t) => t.go)).toHaveLength(3 + 7);
    const late = turns.filter((t): t is Extract<Turn, { go: false }> => !t.go);
    expect(late).toHaveLength(10);
    for (const t of late) expect(t.notBefore).toBe(t0 + 1_000 + SHARED_PACING.graceMs);
    expect(clock.now() - t0).toBeLessThan(1_000);
    expect(store.items.get('ses')!.starts.reduce((n, s) => n + s.cost, 0)).toBe(7);
  });

  it('a store that fails twice: it paces to its own share for a while, says why once, loses no send, then shares again', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
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

  it('a write applied but answered with an error: the same write again is recognised, no fallback, never over', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push('applied-then-throw');
    const a = ask(clock, shards, 0, 14);
    const b = ask(clock, shards, 1, 14);
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect([a.log.length, b.log.length]).toEqual([14, 14]);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
    expect(busiestSecond([...a.log, ...b.log])).toBeLessThanOrEqual(14);
  });

  it('a write applied, then two errors: the shard keeps to its own share, the others count its lost reservation', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push('applied-then-throw', 'throw');
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 14);
    await clock.settle(); // both of shard 0's writes fail before shard 1 asks
    const lost = store.items.get('ses')!.starts.length; // what the lost answer had reserved
    expect(lost).toBeGreaterThan(0);
    const b = ask(clock, shards, 1, 14);
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect([a.log.length, b.log.length]).toEqual([14, 14]);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(busiestSecond(a.log)).toBe(3); // its own share alone
    expect(b.log.filter((s) => s.at < t0 + 1_000)).toHaveLength(3 + 7 - lost);
    // Everything that started, with the reservation nobody used: still within the quota.
    expect(busiestSecond([...a.log, ...b.log])).toBeLessThanOrEqual(14);
  });

  it('a slow store: reservations that come back too late are planned again, nothing goes early or twice', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
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
    const store = new MemoryWindows(clock);
    const shards = shardsOn(clock, store, 2);
    store.faults.push({ slowMs: SHARED_PACING.slowWriteMs + 1 });
    const a = ask(clock, shards, 0, 20);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(20);
    expect(shards[0]!.fallbacks[0]).toMatch(/took 501 ms to write/);
    expect(busiestSecond(a.log)).toBeLessThanOrEqual(10);
  });

  it('shards that keep writing first: after 50 refusals in a row, each after a backoff, it falls back rather than spin', async () => {
    const clock = new EventClock();
    const refusing: SendWindowStore = {
      swapSendWindow: async () => ({
        saved: false,
        current: { version: Math.random(), writer: 'another-shard', countsUntil: Number.MAX_SAFE_INTEGER, starts: [] },
      }),
    };
    const shards = shardsOn(clock, refusing, 2, 14, () => 0.5);
    const t0 = clock.now();
    const a = ask(clock, shards, 0, 60);
    await clock.runUntil(a.done);
    expect(a.log).toHaveLength(60);
    expect(shards[0]!.pacer.counts.refused).toBe(SHARED_PACING.maxConflicts);
    expect(shards[0]!.fallbacks[0]).toMatch(/written by others 50 times in a row/);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(clock.now() - t0).toBeGreaterThan(3_000); // it backed off between refusals
  });

  it('a fault in the pacer itself (its clock fails) and a logger that throws: every waiting send still goes, at the share', async () => {
    const clock = new EventClock();
    const store = new MemoryWindows(clock);
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
      random: () => 0,
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

  it('random bursts in 4 shards, with refusals and drawn backoffs: never more than the quota in any second, every send once', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      const clock = new EventClock();
      const store = new MemoryWindows(clock);
      const shards = shardsOn(clock, store, 4, 10, random); // backoffs drawn too
      const t0 = clock.now();
      const bursts: ReturnType<typeof ask>[] = [];
      const arrivals: Promise<unknown>[] = [];
      let asked = 0;
      for (let i = 0; i < 12; i++) {
        const shard = Math.floor(random() * 4);
        const count = 1 + Math.floor(random() * 8);
        const cost = 1 + Math.floor(random() * 3);
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
      expect(clock.now() - t0).toBeLessThan(60_000);
      expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
    }
  });
});
