/**
 * The send quotas paced for all shards together, on DynamoDB Local: the shards' pacers contend
 * for the real pool item with real conditional writes, a burst in one shard's deliverer goes out
 * at its own share and the pool through the SES emulator, faster than at its equal share, and
 * faults at the wire (a write applied but answered late, errors, a slow answer) lose no send and
 * never put more than the quota into one second. Time is a discrete-event clock: DynamoDB and SES calls take none of it.
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { leastBurstMs } from '../../lambda/core/send-rate';
import type { QrEvent } from '../../lambda/domain/event';
import type { SendWindowStore } from '../../lambda/domain/ports';
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

/** The store on DynamoDB Local, its calls counted as I/O on the clock, with faults queued for its send-window writes. */
async function windowsOn(clock: EventClock) {
  const tableName = await freshTable();
  const faults: DynamoFault[] = [];
  const client = faultInjectingDynamoDb({
    kindOf: (call) => (call.action === 'UpdateItem' ? 'send-window' : undefined),
    pick: () => faults.shift(),
    clock,
  });
  const store = new StateStore({ tableName, client });
  const tracked: SendWindowStore = {
    swapSendWindow: (...args) => clock.track(store.swapSendWindow(...args)),
  };
  return { tableName, faults, store: tracked };
}

/** `count` shards' pacers of one quota: half of it split among them, half the pool. */
function pacers(clock: EventClock, store: SendWindowStore, count: number, quota: number) {
  return Array.from({ length: count }, () => {
    const fallbacks: string[] = [];
    const pacer = new SharedSendPacer({
      clock,
      service: 'ses',
      perSecond: quota * SHARED_PACING.poolShare,
      store,
      own: new SendPacer(clock, (quota * (1 - SHARED_PACING.poolShare)) / count),
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
  it('three shards bursting at once: real conditional writes contend, never more than 10 in a second, every send once', async () => {
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
    expect(Math.max(...all.map((s) => s.at)) - t0).toBeLessThanOrEqual(leastBurstMs(65, 5) + 2_000); // the pool alone, and some
    expect(shards.reduce((n, s) => n + s.pacer.counts.refused, 0)).toBeGreaterThan(0);
    expect(shards.flatMap((s) => s.fallbacks)).toEqual([]);

    const { Item } = await adminDynamoDb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'rate#ses' }, sk: { S: 'state' } } }),
    );
    const saved = shards.reduce((n, s) => n + s.pacer.counts.writes - s.pacer.counts.refused, 0);
    expect(Number(Item?.version?.N)).toBe(saved);
    expect(Number(Item?.expiresAt?.N)).toBeGreaterThan(Math.floor(t0 / 1000));
  });

  it('a window overwritten once expired is not taken for an older one of the same version: no shard plans on a stale view', async () => {
    const clock = new EventClock();
    const { store } = await windowsOn(clock);
    const shards = pacers(clock, store, 2, 10);
    // Own shares 2.5/s: the 3rd send of a shard goes to the pool.
    await clock.runUntil(burst(clock, shards[0]!.pacer, 3).done); // shard 0 writes version 1
    clock.advance(2_000);
    const t1 = clock.now();
    const b = burst(clock, shards[1]!.pacer, 1, 5); // shard 1 writes over the expired window in one write: version 1 again
    await clock.settle();
    const a = burst(clock, shards[0]!.pacer, 7);
    await clock.runUntil(Promise.all([a.done, b.done]));
    expect(busiestSecond([...a.log, ...b.log])).toBeLessThanOrEqual(10);
    expect(a.log.filter((s) => s.at < t1 + 1_000)).toHaveLength(2); // its own share only: the pool's second is shard 1's
  });

  it('a write applied but answered late is recognised (no fallback); two errors fall back to the share; nothing is lost', async () => {
    const clock = new EventClock();
    const { faults, store } = await windowsOn(clock);
    const shards = pacers(clock, store, 2, 10);
    faults.push({ kind: 'late' });
    const first = [burst(clock, shards[0]!.pacer, 10), burst(clock, shards[1]!.pacer, 10)];
    await clock.runUntil(Promise.all(first.map((b) => b.done)));
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
      sendWindows: store,
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
    // 12 e-mails, 4/s for both shards: 1/s of its own and the pool's 2/s, 3 s; at an equal share (2/s), 5 s.
    const took = Math.max(...sends) - t0;
    expect(took).toBeGreaterThanOrEqual(leastBurstMs(12, 3));
    expect(took).toBeLessThanOrEqual(leastBurstMs(12, 3) + 3 * SHARED_PACING.graceMs);
    expect(fallbacks).toEqual([]);
  });
});
