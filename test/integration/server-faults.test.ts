/**
 * A QR-menu server that misbehaves in ways the vendor does not rule out, over the simulator and
 * DynamoDB Local: hashes reused after a restart (a counter that starts again with an emptied
 * queue), a queue kept for less time than the config says, a `hash=none` answer that keeps
 * failing while the cursor works, and one event whose record DynamoDB refuses. Nothing is lost,
 * nothing sent twice, and one bad event or query holds up nothing else.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import type { FetchEvents } from '../../lambda/domain/fetch';
import { METRIC } from '../../lambda/domain/metrics';
import { BadResponseError } from '../../lambda/qrmenu/errors';
import { RecordRejectedError } from '../../lambda/domain/ports';
import { StateStore } from '../../lambda/state/store';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingLog,
  RecordingMetrics,
  RecordingOps,
  countingDynamoDbClient,
  freshTable,
  makePoller,
  type PollerKit,
} from '../support/harness';

const TOKEN = 'server-faults-token-9';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 11 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  sim.setUnknownHashMode('all');
  kit = {
    clock,
    sim,
    token: TOKEN,
    store: new StateStore({ tableName: await freshTable(), client: db.client }),
  };
});

/** Hashes as a server numbering its events would issue them. */
const counter = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Invocations of a minute with five ticks each; `each` runs before every tick. */
async function run(
  invocations: number,
  options: Parameters<typeof makePoller>[1],
  each?: (tick: number) => void,
  k: PollerKit = kit,
) {
  let tick = 0;
  for (let i = 0; i < invocations; i += 1) {
    const start = clock.now();
    const poller = makePoller(k, { ...options, owner: `inv-${start}` });
    await poller.begin(start + 55_000);
    for (let t = 0; t < 5; t += 1) {
      each?.(tick);
      tick += 1;
      await poller.tick(start + 55_000);
      clock.advance(10_000);
    }
    await poller.end();
    clock.t = start + 60_000;
  }
}

describe('a server that reuses hashes', () => {
  it.each(['all', 'empty', 'error'] as const)(
    'a counter restarting with an emptied queue (unknown-hash mode "%s"): each new event delivered once',
    async (mode) => {
      sim.setUnknownHashMode(mode);
      const deliverer = new RecordingDeliverer();
      await run(1, { deliverer });
      const sent: { hash: string; table: string }[] = [];
      const before = [1, 2, 3, 4, 5].map((n) =>
        sim.inject({ hash: counter(n), code: 'waiter_call', tableName: `${n}` }),
      );
      await run(2, { deliverer });
      sim.restart(); // the queue is lost, the counter starts again
      const after = [1, 2, 3].map((n) => sim.inject({ hash: counter(n), code: 'waiter_call', tableName: `${10 + n}` }));
      await run(8, { deliverer });
      for (const e of [...before, ...after]) sent.push({ hash: e.hash, table: e.wire.table_repr.name });
      const copies = (hash: string, table: string) =>
        deliverer.deliveries.filter(
          (d) => d.hash === hash && d.request.event.tableName === table && d.channels.includes('sns'),
        ).length;
      for (const { hash, table } of sent) expect(copies(hash, table), `${hash} at table ${table}`).toBe(1);
    },
  );

  it('the simulator counting hashes and restarting with an empty queue every 40 s: each call delivered once', async () => {
    const counting = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 21, hashes: 'counter' });
    try {
      const k = { ...kit, sim: counting };
      const deliverer = new RecordingDeliverer();
      await run(1, { deliverer }, undefined, k);
      const calls: { hash: string; table: string }[] = [];
      await run(
        8,
        { deliverer },
        (tick) => {
          if (tick % 4 === 3) counting.restart(); // the queue and the counter are gone
          // Every call from another table: (hash, table) names one event, whatever the hash.
          const e = counting.inject({ code: 'waiter_call', tableName: `${10 + tick}` });
          calls.push({ hash: e.hash, table: e.wire.table_repr.name });
        },
        k,
      );
      await run(2, { deliverer }, undefined, k);
      expect(new Set(calls.map((c) => c.hash)).size).toBeLessThan(calls.length); // hashes were reused
      for (const { hash, table } of calls) {
        const copies = deliverer.deliveries.filter(
          (d) => d.hash === hash && d.request.event.tableName === table && d.channels.includes('sns'),
        );
        expect(copies.length, `${hash} at table ${table}`).toBe(1);
      }
    } finally {
      await counting.close();
    }
  });

  it('a reissued hash with the same code and table is new when the queue was seen rebuilt', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    await run(1, { deliverer });
    sim.inject({ hash: counter(1), code: 'waiter_call', tableName: '6' });
    sim.inject({ hash: counter(2), code: 'bill_request', tableName: '7' });
    sim.inject({ hash: counter(3), code: 'waiter_call', tableName: '8' });
    await run(1, { deliverer, metrics });
    sim.restart();
    // 0x1 comes back exactly as before; 0x2 and 0x3 are gone: the queue was rebuilt.
    sim.inject({ hash: counter(1), code: 'waiter_call', tableName: '6' });
    await run(3, { deliverer, metrics });
    expect(deliverer.count(counter(1))).toBe(2);
    expect(deliverer.count(counter(2))).toBe(1);
    expect(metrics.get(METRIC.queueResets)).toBeGreaterThan(0);
    expect(metrics.get(METRIC.reusedHashes)).toBe(1);
  });

  it('a hash that left the queue and comes back is a new event; a repeat within the queue is not', async () => {
    const short = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 12, retentionSeconds: 60 });
    try {
      const k = { ...kit, sim: short };
      const deliverer = new RecordingDeliverer();
      await run(1, { deliverer }, undefined, k);
      short.inject({ hash: counter(7), code: 'waiter_call', tableName: '3' });
      await run(3, { deliverer }, undefined, k); // seen, then expired from the 60-s queue
      expect(deliverer.count(counter(7))).toBe(1);
      short.inject({ hash: counter(7), code: 'waiter_call', tableName: '3' });
      await run(3, { deliverer }, undefined, k);
      expect(deliverer.count(counter(7))).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('a reissue costs the same two writes as any new event', async () => {
    const deliverer = new RecordingDeliverer();
    await run(1, { deliverer });
    sim.inject({ hash: counter(1), code: 'waiter_call', tableName: '6' });
    sim.inject({ hash: counter(2), code: 'waiter_call', tableName: '9' });
    await run(1, { deliverer });
    sim.restart();
    const poller = makePoller(kit, { deliverer });
    await poller.begin(clock.now() + 55_000);
    await poller.tick(clock.now() + 55_000);
    clock.advance(10_000);
    sim.inject({ hash: counter(1), code: 'bill_request', tableName: '4' });
    const writes = db.writes();
    await poller.tick(clock.now() + 55_000);
    expect(db.writes() - writes).toBe(2);
    expect(deliverer.count(counter(1))).toBe(2);
    await poller.end();
  });

  it('a hash reused while the earlier event is still being retried: both are delivered once', async () => {
    const deliverer = new RecordingDeliverer();
    await run(1, { deliverer });
    deliverer.failing = { sns: 'transient' };
    sim.inject({ hash: counter(1), code: 'waiter_call', tableName: '6' });
    await run(1, { deliverer });
    sim.restart();
    sim.inject({ hash: counter(1), code: 'bill_request', tableName: '2' });
    deliverer.failing = {};
    await run(3, { deliverer });
    const sns = deliverer.deliveries.filter((d) => d.hash === counter(1) && d.channels.includes('sns'));
    expect(sns.map((d) => d.request.event.tableName).sort()).toEqual(['2', '6']);
  });
});

describe('a server whose retention is shorter than configured', () => {
  let short: Simulator;
  beforeAll(async () => {
    short = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 13, retentionSeconds: 60 });
  });
  afterAll(async () => {
    await short.close();
  });

  it('is learnt from the answers, and an absence longer than it is reported as a possible gap', async () => {
    short.restart();
    const k = { ...kit, sim: short };
    const deliverer = new RecordingDeliverer();
    const log = new RecordingLog();
    await run(1, { deliverer }, undefined, k);
    await run(
      4,
      { deliverer, log },
      (tick) => {
        if (tick % 2 === 0) short.inject();
      },
      k,
    );
    expect(log.text()).toContain('the retention learnt from the server');
    clock.advance(130_000); // the poller was away: events queued meanwhile expired unseen
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    await run(1, { deliverer, metrics, ops }, undefined, k);
    expect(metrics.get(METRIC.possibleGap)).toBe(1);
    expect(ops.alerts[0]?.message).toMatch(/as learnt from its answers/);
  });

  it('quiet periods keep new calls prompt: the cursor is not trusted past the learnt retention', async () => {
    short.restart();
    short.setUnknownHashMode('empty'); // a forgotten cursor is answered with nothing, forever
    const k = { ...kit, sim: short };
    const deliverer = new RecordingDeliverer();
    await run(1, { deliverer }, undefined, k);
    await run(
      3,
      { deliverer },
      (tick) => {
        if (tick % 3 === 0) short.inject();
      },
      k,
    );
    await run(2, { deliverer }, undefined, k); // quiet: the cursor's event expires from the queue
    const late = short.inject();
    const at = clock.now();
    await run(1, { deliverer }, undefined, k);
    const delivered = deliverer.deliveries.find((d) => d.hash === late.hash);
    expect(delivered).toBeDefined();
    expect(delivered!.request.firstSeenAt - at).toBeLessThanOrEqual(10_000);
  });
});

describe('a hash=none answer that keeps failing', () => {
  it('falls back to the cursor on the same tick, backs the reconcile off and tells the operator', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    let noneFails = false;
    const wrapFetch =
      (fetch: FetchEvents): FetchEvents =>
      (cursor, options) =>
        noneFails && cursor === null
          ? Promise.reject(new BadResponseError('too_large', 'the answer is larger than 1 MiB (injected)'))
          : fetch(cursor, options);
    await run(1, { deliverer, wrapFetch });
    sim.inject();
    await run(1, { deliverer, wrapFetch });
    noneFails = true;
    const calls: { hash: string; at: number }[] = [];
    await run(3, { deliverer, metrics, ops, wrapFetch }, (tick) => {
      if (tick % 2 === 0) calls.push({ hash: sim.inject().hash, at: clock.now() });
    });
    for (const call of calls) {
      const d = deliverer.deliveries.find((x) => x.hash === call.hash);
      expect(d, call.hash).toBeDefined();
      expect(d!.request.firstSeenAt - call.at).toBeLessThanOrEqual(10_000);
    }
    expect(metrics.get(METRIC.reconcileFailures)).toBeGreaterThanOrEqual(3);
    // Backed off: far fewer hash=none attempts than ticks.
    expect(metrics.get(METRIC.reconcileFailures)).toBeLessThan(8);
    expect(ops.alerts.some((a) => /fails to list its queue/.test(a.subject))).toBe(true);
  });
});

describe('one event whose record cannot be written', () => {
  it('a table name of 120 k characters: stored without the extra data and delivered; the others on time', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    await run(1, { deliverer });
    const huge = sim.inject({ tableName: 'Ж'.repeat(120_000) });
    const others = [sim.inject(), sim.inject()];
    await run(1, { deliverer, metrics });
    for (const e of [huge, ...others]) expect(deliverer.count(e.hash), e.hash).toBe(1);
    const hashes = deliverer.deliveries.map((d) => d.hash);
    expect(hashes.slice(0, 3).sort()).toEqual([huge, ...others].map((e) => e.hash).sort()); // all on the first tick
    expect((await kit.store.findRecorded('pizzeria', [huge.hash])).get(huge.hash)?.table.length).toBeLessThanOrEqual(
      200,
    );
    expect(metrics.get(METRIC.stateErrors)).toBe(0);
  });

  it('refused in every form: reported once as poison, the cursor moves on, the others are delivered', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    await run(1, { deliverer });
    const poison = sim.inject();
    const others = [sim.inject(), sim.inject()];
    const store = kit.store;
    const refusing = new Proxy(store, {
      get(target, property) {
        if (property === 'create') {
          return (sourceId: string, record: Parameters<StateStore['create']>[1]) =>
            record.event.hash === poison.hash
              ? Promise.reject(new RecordRejectedError('Item size has exceeded the maximum allowed size (injected)'))
              : target.create(sourceId, record);
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await run(2, { deliverer, metrics, ops, store: refusing });
    for (const e of others) expect(deliverer.count(e.hash), e.hash).toBe(1);
    expect(deliverer.count(poison.hash)).toBe(0);
    expect(metrics.get(METRIC.poisonEvents)).toBe(1);
    expect(ops.alerts.filter((a) => /could not be handled/.test(a.subject))).toHaveLength(1);
  });
});
