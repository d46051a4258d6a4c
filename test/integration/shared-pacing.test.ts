/**
 * The send quotas paced for all shards together, on DynamoDB Local: the shards' pacers move the
 * real slot pointer with real conditional writes, a burst in one shard's deliverer goes out at its
 * own share and the pool through the SES emulator, faster than at its equal share, and faults at
 * the wire (a write applied but answered late, errors, a slow answer) lose no send and never put
 * more than the quota into one second. Time is a discrete-event clock: DynamoDB and SES calls take none of it.
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { leastBurstMs } from '../../lambda/core/send-rate';
import type { QrEvent } from '../../lambda/domain/event';
import { instantOf, slotGrid } from '../../lambda/core/send-slots';
import type { SendSlotStore } from '../../lambda/domain/ports';
import { createDeliverer } from '../../lambda/notify/deliverer';
import { SendPacer } from '../../lambda/notify/pacing/send-pacer';
import { SHARED_PACING, SharedSendPacer } from '../../lambda/notify/pacing/shared-pacer';
import { createSesClient } from '../../lambda/notify/ses';
import { StateStore } from '../../lambda/state/store';
import { busiestSecond, EventClock } from '../support/event-clock';
import { type DynamoFault, faultInjectingDynamoDb } from '../support/faulty-dynamodb';
import { adminDynamoDb, freshTable } from '../support/harness';
import { destinationsOf, interceptingHandler } from '../support/wire';

inject('emulators');

/** The store on DynamoDB Local, its calls counted as I/O on the clock, with faults queued for its slot writes. */
async function windowsOn(clock: EventClock) {
  const tableName = await freshTable();
  const faults: DynamoFault[] = [];
  const client = faultInjectingDynamoDb({
    kindOf: (call) => (call.action === 'UpdateItem' ? 'send-slots' : undefined),
    pick: () => faults.shift(),
    clock,
  });
  const store = new StateStore({ tableName, client });
  const tracked: SendSlotStore = {
    reserveSendSlots: (...args) => clock.track(store.reserveSendSlots(...args)),
  };
  return { tableName, faults, store: tracked };
}

/** `count` shards' pacers of one quota: half of it split among them, half the pool. */
function pacers(clock: EventClock, store: SendSlotStore, count: number, quota: number, ownShares = true) {
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
  readonly at: number;
  readonly cost: number;
}

function burst(clock: EventClock, pacer: SharedSendPacer, count: number, cost = 1) {
  const log: Started[] = [];
  const done = Promise.all(
    Array.from({ length: count }, () =>
      pacer.turn(cost).then((turn) => {
        if (turn.go) log.push({ at: clock.now(), cost });
      }),
    ),
  );
  return { log, done };
}

describe('send quotas shared by the shards, on DynamoDB Local', () => {
  it('three shards bursting at once: real conditional writes, never more than 10 in a second, every send once, hardly a refusal', async () => {
    const clock = new EventClock();
    const { tableName, store } = await windowsOn(clock);
    const shards = pacers(clock, store, 3, 10);
    const t0 = clock.now();
    const bursts = [
      burst(clock, shards[0]!.pacer, 30),
      burst(clock, shards[1]!.pacer, 15, 2),
      burst(clock, shards[2]!.pacer, 5),
    ];
    await clock.runUntil(Promise.all(bursts.map((b) => b.done)));
    const all = bursts.flatMap((b) => b.log);
    expect(all).toHaveLength(50);
    expect(busiestSecond(all)).toBeLessThanOrEqual(10);
    // 80 slots (an e-mail to 2 takes 3) at the pool's 5 a second, some of them on the own shares.
    const grid = slotGrid(5, SHARED_PACING.graceMs);
    expect(Math.max(...all.map((s) => s.at)) - t0).toBeLessThanOrEqual(80 * grid.slotMs);
    // Each shard's first claim may find the slot taken; after that it appends.
    expect(shards.reduce((n, s) => n + s.pacer.counts.refused, 0)).toBeLessThanOrEqual(2);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);

    const { Item } = await adminDynamoDb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'rate#ses' }, sk: { S: 'slots' } } }),
    );
    const pointer = Number(Item?.next?.N);
    expect(instantOf(grid, pointer)).toBeGreaterThan(Math.max(...all.map((s) => s.at)) - SHARED_PACING.graceMs);
    expect(Number(Item?.expiresAt?.N)).toBeGreaterThan(Math.floor(t0 / 1000));
  });

  it('two shards asking for the same slot at once: one claim is refused, it appends behind; no slot is given twice', async () => {
    const clock = new EventClock();
    const { store } = await windowsOn(clock);
    const shards = pacers(clock, store, 2, 10, false); // all pool
    const grid = slotGrid(10, SHARED_PACING.graceMs);
    const a = burst(clock, shards[0]!.pacer, 1);
    const b = burst(clock, shards[1]!.pacer, 1);
    await clock.runUntil(Promise.all([a.done, b.done]));
    const starts = [...a.log, ...b.log].map((s) => s.at).sort((x, y) => x - y);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeCloseTo(grid.slotMs, 6);
    expect(shards.map((s) => s.pacer.counts.refused).sort()).toEqual([0, 1]);
    expect(shards.reduce((n, s) => n + s.pacer.counts.writes, 0)).toBe(3);
  });

  it('a write applied but answered late: its slots go unused (no fallback); two errors fall back to the share; nothing is lost', async () => {
    const clock = new EventClock();
    const { faults, store } = await windowsOn(clock);
    const shards = pacers(clock, store, 2, 10);
    faults.push({ kind: 'late' });
    const first = [burst(clock, shards[0]!.pacer, 10), burst(clock, shards[1]!.pacer, 10)];
    await clock.runUntil(Promise.all(first.map((b) => b.done)));
    expect(first.flatMap((b) => b.log)).toHaveLength(20);
    expect(shards.reduce((n, s) => n + s.pacer.counts.failed, 0)).toBe(1);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);
    expect(busiestSecond(first.flatMap((b) => b.log))).toBeLessThanOrEqual(10);

    clock.advance(5_000);
    faults.push({ kind: 'error' }, { kind: 'error' });
    const second = burst(clock, shards[0]!.pacer, 10);
    await clock.runUntil(second.done);
    expect(second.log).toHaveLength(10);
    expect(shards[0]!.fallbacks).toHaveLength(1);
    expect(shards[0]!.fallbacks[0]).toMatch(/ProvisionedThroughputExceeded.*this shard's own share \(2\.5\/s\)/);
    expect(busiestSecond(second.log)).toBe(2);
  });

  it('a slow answer: the reservations it got still go, late ones are planned again, then it paces to its share', async () => {
    const clock = new EventClock();
    const { faults, store } = await windowsOn(clock);
    const [shard] = pacers(clock, store, 2, 10);
    faults.push({ kind: 'slow', ms: SHARED_PACING.slowWriteMs + 100 });
    const b = burst(clock, shard!.pacer, 25);
    await clock.runUntil(b.done);
    expect(b.log).toHaveLength(25);
    expect(shard!.fallbacks[0]).toMatch(/took 600 ms to write/);
    expect(busiestSecond(b.log)).toBeLessThanOrEqual(10);
  });

  it("a burst in one shard's deliverer goes out at its own share and the pool through the emulator, not at an equal share", async () => {
    const clock = new EventClock();
    const { store } = await windowsOn(clock);
    const run = randomUUID().slice(0, 8);
    const config = parseAlertsConfig({
      sources: [
        { id: 'pizzeria', url: 'https://qr.example', shard: 0 },
        { id: 'sushi', url: 'https://qr2.example', shard: 1 },
      ],
      routes: [{ name: 'hall', email: [`hall-${run}@staff.example`] }],
      email: { from: `alerts-${run}@pizzeria.example` },
      delivery: { cooldownSeconds: 0, sesPerSecond: 4 },
    });
    const sends: number[] = [];
    const ses = createSesClient({
      requestHandler: interceptingHandler((call, send) => {
        if (call.action === 'SendEmail' && destinationsOf(call).length > 0) sends.push(clock.now());
        return clock.track(send());
      }),
    });
    const fallbacks: string[] = [];
    const deliverer = createDeliverer({
      config,
      ses,
      clock,
      sendSlots: store,
      onPacingFallback: (m) => fallbacks.push(m),
    });
    const t0 = clock.now();
    const event = (n: number): QrEvent => ({
      hash: `0x${n}`,
      code: 'waiter_call',
      tableId: n,
      tableName: String(n),
      invoice: null,
      order: null,
      raw: {},
      placeholders: [],
    });
    const results = await clock.runUntil(
      Promise.all(
        Array.from({ length: 12 }, (_, n) =>
          deliverer.deliver({ sourceId: 'pizzeria', sourceName: 'Pizzeria', event: event(n), firstSeenAt: t0 }),
        ),
      ),
    );
    expect(results.flatMap((r) => r.channels.map((c) => c.ok))).toEqual(Array(12).fill(true));
    expect(sends).toHaveLength(12);
    // 12 e-mails, 4/s for both shards: 1/s of its own (4 of them by 3 s) and the pool's 2 slots a
    // 1,025 ms (the other 8, one slot apart): about 4 s; at an equal share (2/s), 5 s.
    const took = Math.max(...sends) - t0;
    const { slotMs } = slotGrid(2, SHARED_PACING.graceMs);
    expect(took).toBeGreaterThanOrEqual(leastBurstMs(12, 3));
    expect(took).toBeLessThanOrEqual(8 * slotMs);
    expect(took).toBeLessThan(leastBurstMs(12, 2));
    expect(fallbacks).toEqual([]);
  });
});
