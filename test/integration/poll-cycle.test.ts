/**
 * The poll cycle over real peers: DynamoDB Local for the state, the QR-menu simulator over HTTP
 * for the events, a recording deliverer for the delivery port. The clock is a manual one shared
 * by the simulator and the pollers, so retention, leases and retries are tested without sleeping.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { METRIC } from '../../lambda/domain/metrics';
import { StateStore } from '../../lambda/state/store';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingMetrics,
  RecordingOps,
  countingDynamoDbClient,
  freshTable,
  makePoller,
  type PollerKit,
} from '../support/harness';

const TOKEN = 'poll-cycle-token-1234';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 42 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  sim.setUnknownHashMode('all');
  const tableName = await freshTable();
  kit = { clock, sim, token: TOKEN, store: new StateStore({ tableName, client: db.client }) };
});

const lease = () => clock.now() + 60_000;

describe('first run', () => {
  it('records the events already queued as seen and sends none of them', async () => {
    const backlog = sim.injectMany(3);
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const poller = makePoller(kit, { deliverer, metrics });
    await poller.begin(lease());
    await poller.tick(lease());
    expect(deliverer.deliveries).toEqual([]);
    expect(metrics.get(METRIC.baselineRecorded)).toBe(3);

    clock.advance(10_000);
    const fresh = sim.inject({ code: 'waiter_call', tableName: '6' });
    await poller.tick(lease());
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([fresh.hash]);
    // A later hash=none poll returns the backlog again: still not sent.
    clock.advance(30_000);
    await poller.tick(lease());
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([fresh.hash]);
    expect(backlog.every((e) => deliverer.count(e.hash) === 0)).toBe(true);
  });

  it('delivers the backlog when the config asks for it', async () => {
    const backlog = sim.injectMany(2);
    const deliverer = new RecordingDeliverer();
    const poller = makePoller(kit, { deliverer, settings: { deliverBacklog: true } });
    await poller.begin(lease());
    await poller.tick(lease());
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual(backlog.map((e) => e.hash));
  });

  it('keeps the baseline when the poller stops right after recording it', async () => {
    sim.injectMany(2);
    const first = makePoller(kit);
    await first.begin(lease());
    await first.tick(lease()); // the poller "dies" here: no end()
    clock.advance(61_000);
    const deliverer = new RecordingDeliverer();
    const second = makePoller(kit, { deliverer });
    expect(await second.begin(lease())).toBe(true);
    await second.tick(lease());
    expect(deliverer.deliveries).toEqual([]);
  });
});

describe('steady polling', () => {
  async function warm(poller = makePoller(kit)) {
    await poller.begin(lease());
    await poller.tick(lease()); // first run: empty baseline
    return poller;
  }

  it('delivers a new event once and moves the cursor past it', async () => {
    const deliverer = new RecordingDeliverer();
    const poller = await warm(makePoller(kit, { deliverer }));
    clock.advance(10_000);
    const call = sim.inject({ code: 'waiter_call', tableName: '6' });
    await poller.tick(lease());
    clock.advance(10_000);
    await poller.tick(lease());
    expect(deliverer.count(call.hash)).toBe(1);
    expect(sim.served.at(-1)?.hashParam).toBe(call.hash);
  });

  it('an empty tick writes nothing to DynamoDB', async () => {
    const poller = await warm();
    clock.advance(10_000);
    await poller.tick(lease()); // hash=none reconcile is due on the second tick
    const before = db.writes();
    clock.advance(10_000);
    await poller.tick(lease());
    clock.advance(10_000);
    await poller.tick(lease());
    expect(db.writes() - before).toBe(0);
  });

  it('a new event costs two writes: the claim and the mark', async () => {
    const poller = await warm();
    clock.advance(10_000);
    await poller.tick(lease());
    const before = db.writes();
    clock.advance(10_000);
    sim.inject();
    await poller.tick(lease());
    expect(db.writes() - before).toBe(2);
  });

  it('takes the lease once per invocation and saves the state once at the end', async () => {
    const before = db.writes();
    const poller = makePoller(kit);
    await poller.begin(lease());
    for (let i = 0; i < 5; i += 1) {
      await poller.tick(lease());
      clock.advance(10_000);
    }
    await poller.end();
    // lease + the first run's baseline checkpoint + the final checkpoint
    expect(db.writes() - before).toBe(3);
  });

  it('skips an event the server sends twice', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const poller = await warm(makePoller(kit, { deliverer, metrics }));
    clock.advance(10_000);
    const call = sim.inject();
    await poller.tick(lease());
    sim.failNext('duplicate');
    clock.advance(10_000);
    await poller.tick(lease());
    expect(deliverer.count(call.hash)).toBe(1);
    expect(metrics.get(METRIC.duplicatesSkipped)).toBeGreaterThan(0);
  });

  it('reports a malformed event and delivers the good ones beside it', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const poller = await warm(makePoller(kit, { deliverer, metrics }));
    clock.advance(10_000);
    const good = sim.inject();
    sim.inject({ code: 'waiter_call', table: 9 }, { raw: true });
    const after = sim.inject();
    await poller.tick(lease());
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([good.hash, after.hash]);
    expect(metrics.get(METRIC.malformedEvents)).toBe(1);
  });

  it('a failed poll leaves the cursor where it was and loses nothing', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const poller = await warm(makePoller(kit, { deliverer, metrics }));
    clock.advance(10_000);
    const call = sim.inject();
    sim.failNext('server-error', 'server-error'); // the first attempt and its one retry
    await poller.tick(lease());
    expect(deliverer.count(call.hash)).toBe(0);
    expect(metrics.get(METRIC.serverErrors)).toBe(1);
    clock.advance(10_000);
    await poller.tick(lease());
    expect(deliverer.count(call.hash)).toBe(1);
  });
});

describe('a server that forgets our cursor', () => {
  it.each(['all', 'empty', 'error'] as const)(
    'unknown-hash mode "%s": every event after a restart is delivered, none twice',
    async (mode) => {
      sim.setUnknownHashMode(mode);
      const deliverer = new RecordingDeliverer();
      const poller = makePoller(kit, { deliverer });
      await poller.begin(clock.now() + 600_000);
      await poller.tick(clock.now() + 600_000);
      const injected: string[] = [];
      for (let tick = 1; tick <= 24; tick += 1) {
        clock.advance(10_000);
        if (tick === 6) sim.restart(); // forgets every hash, our cursor included
        if (tick % 2 === 0) injected.push(sim.inject().hash);
        await poller.tick(clock.now() + 600_000);
      }
      // Events queued for at least two intervals before the run ended must have been delivered.
      for (let tick = 0; tick < 3; tick += 1) {
        clock.advance(10_000);
        await poller.tick(clock.now() + 600_000);
      }
      for (const hash of injected) expect(deliverer.count(hash), hash).toBe(1);
    },
  );

  it('asks for everything once the cursor is older than the retention', async () => {
    const poller = makePoller(kit);
    await poller.begin(clock.now() + 900_000);
    await poller.tick(clock.now() + 900_000);
    clock.advance(10_000);
    sim.inject();
    await poller.tick(clock.now() + 900_000);
    clock.advance(5_000);
    await poller.tick(clock.now() + 900_000);
    expect(sim.served.at(-1)?.hashParam).not.toBe('none');
    clock.advance(290_000);
    await poller.tick(clock.now() + 900_000);
    expect(sim.served.at(-1)?.hashParam).toBe('none');
  });
});

describe('leases', () => {
  it('lets one poller work a source at a time, and the next take over once the lease ends', async () => {
    const a = makePoller(kit, { owner: 'a' });
    const b = makePoller(kit, { owner: 'b' });
    expect(await a.begin(clock.now() + 60_000)).toBe(true);
    expect(await b.begin(clock.now() + 60_000)).toBe(false);
    expect((await b.tick(clock.now() + 60_000)).idle).toBe('no-lease');
    const c = makePoller(kit, { owner: 'c' });
    expect(await c.begin(clock.now() + 120_000)).toBe(false);
    clock.advance(61_000); // a died without releasing; its lease ran out
    expect((await c.tick(clock.now() + 60_000)).polled).toBe(true);
  });

  it('releases the lease at the end, so the next invocation starts at once', async () => {
    const a = makePoller(kit, { owner: 'a' });
    await a.begin(clock.now() + 60_000);
    await a.tick(clock.now() + 60_000);
    await a.end();
    expect(await makePoller(kit, { owner: 'b' }).begin(clock.now() + 60_000)).toBe(true);
  });

  it('five overlapping pollers and a burst of events: every event delivered exactly once', async () => {
    const deliverer = new RecordingDeliverer();
    const pollers = Array.from({ length: 5 }, (_, i) => makePoller(kit, { owner: `p${i}`, deliverer }));
    const began = await Promise.all(pollers.map((p) => p.begin(clock.now() + 120_000)));
    expect(began.filter(Boolean)).toHaveLength(1);
    await Promise.all(pollers.map((p) => p.tick(clock.now() + 120_000)));
    const burst = sim.injectMany(60);
    for (let i = 0; i < 3; i += 1) {
      clock.advance(10_000);
      await Promise.all(pollers.map((p) => p.tick(clock.now() + 120_000)));
    }
    for (const event of burst) expect(deliverer.count(event.hash), event.hash).toBe(1);
  });

  it('even without the lease, racing pollers deliver each event once: the claims are conditional', async () => {
    // A store whose lease always says yes: five pollers work the source at once.
    const store = kit.store;
    const leaky = {
      acquireLease: (sourceId: string, _owner: string, now: number, until: number) =>
        store.acquireLease(sourceId, 'shared', now, until),
      saveState: (...[sourceId, , state, options]: Parameters<StateStore['saveState']>) =>
        store.saveState(sourceId, 'shared', state, options),
      findRecorded: store.findRecorded.bind(store),
      create: store.create.bind(store),
      markDelivered: store.markDelivered.bind(store),
      markRetry: store.markRetry.bind(store),
      markFailed: store.markFailed.bind(store),
      listDue: store.listDue.bind(store),
      takeOver: store.takeOver.bind(store),
      revive: store.revive.bind(store),
    } as unknown as StateStore;
    const deliverer = new RecordingDeliverer();
    const pollers = Array.from({ length: 5 }, (_, i) => makePoller(kit, { owner: `r${i}`, deliverer, store: leaky }));
    await Promise.all(pollers.map((p) => p.begin(clock.now() + 120_000)));
    await pollers[0]!.tick(clock.now() + 120_000);
    await pollers[0]!.end();
    await Promise.all(pollers.slice(1).map((p) => p.begin(clock.now() + 120_000)));
    const burst = sim.injectMany(40);
    for (let i = 0; i < 3; i += 1) {
      clock.advance(10_000);
      await Promise.all(pollers.slice(1).map((p) => p.tick(clock.now() + 120_000)));
    }
    for (const event of burst) expect(deliverer.count(event.hash), event.hash).toBe(1);
  });
});

describe('delivery failures', () => {
  it('retries a failed delivery with backoff and delivers it once the fault clears', async () => {
    const deliverer = new RecordingDeliverer();
    const poller = makePoller(kit, { deliverer });
    await poller.begin(clock.now() + 600_000);
    await poller.tick(clock.now() + 600_000);
    deliverer.failing = { sns: 'transient' };
    clock.advance(10_000);
    const call = sim.inject();
    await poller.tick(clock.now() + 600_000);
    expect(deliverer.count(call.hash, 'email')).toBe(1);
    expect(deliverer.count(call.hash, 'sns')).toBe(0);
    deliverer.failing = {};
    clock.advance(10_000);
    await poller.tick(clock.now() + 600_000);
    // e-mail went out on the first attempt and is not sent again; SNS follows on the retry
    expect(deliverer.count(call.hash, 'email')).toBe(1);
    expect(deliverer.count(call.hash, 'sns')).toBe(1);
  });

  it('marks an event failed after its attempts, counts it and tells the operator once', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    const poller = makePoller(kit, { deliverer, metrics, ops, settings: { maxAttempts: 3 } });
    await poller.begin(clock.now() + 900_000);
    await poller.tick(clock.now() + 900_000);
    deliverer.failing = { email: 'throttled', sns: 'throttled' };
    clock.advance(10_000);
    sim.inject();
    sim.inject();
    for (let i = 0; i < 12; i += 1) {
      await poller.tick(clock.now() + 900_000);
      clock.advance(10_000);
    }
    expect(metrics.get(METRIC.deliveryFailed)).toBe(2);
    expect(metrics.get(METRIC.deliveryRetries)).toBe(4);
    expect(ops.alerts).toHaveLength(1);
  });

  it('gives up at once on a permanent error', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const poller = makePoller(kit, { deliverer, metrics });
    await poller.begin(lease());
    await poller.tick(lease());
    deliverer.failing = { email: 'permanent', sns: 'permanent' };
    clock.advance(10_000);
    sim.inject();
    await poller.tick(lease());
    expect(metrics.get(METRIC.deliveryFailed)).toBe(1);
    expect(metrics.get(METRIC.deliveryRetries)).toBe(0);
  });
});

describe('collapsing repeated calls', () => {
  it('suppresses a repeat from the same table inside the cooldown, across invocations, but never another table', async () => {
    const settings = { cooldownMs: 60_000 };
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const first = makePoller(kit, { deliverer, metrics, settings });
    await first.begin(lease());
    await first.tick(lease());
    clock.advance(10_000);
    const call = sim.inject({ code: 'waiter_call', tableName: '6' });
    const repeatSameTick = sim.inject({ code: 'waiter_call', tableName: '6' });
    const otherTable = sim.inject({ code: 'waiter_call', tableName: '7' });
    const otherCode = sim.inject({ code: 'bill_request', tableName: '6' });
    await first.tick(lease());
    await first.end();

    clock.advance(20_000);
    const second = makePoller(kit, { deliverer, metrics, settings });
    await second.begin(lease());
    const repeatNextInvocation = sim.inject({ code: 'waiter_call', tableName: '6' });
    await second.tick(lease());
    clock.advance(40_000); // past the cooldown
    const later = sim.inject({ code: 'waiter_call', tableName: '6' });
    await second.tick(lease());

    expect(deliverer.count(call.hash)).toBe(1);
    expect(deliverer.count(repeatSameTick.hash)).toBe(0);
    expect(deliverer.count(repeatNextInvocation.hash)).toBe(0);
    expect(deliverer.count(otherTable.hash)).toBe(1);
    expect(deliverer.count(otherCode.hash)).toBe(1);
    expect(deliverer.count(later.hash)).toBe(1);
    expect(metrics.get(METRIC.eventsSuppressed)).toBe(2);
  });
});

describe('possible gaps', () => {
  it('counts a PossibleGap and tells the operator when the last good poll is older than the retention', async () => {
    const first = makePoller(kit);
    await first.begin(lease());
    await first.tick(lease());
    await first.end();
    clock.advance(400_000); // the poller was down for longer than the server keeps events
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    const second = makePoller(kit, { metrics, ops });
    await second.begin(lease());
    await second.tick(lease());
    expect(metrics.get(METRIC.possibleGap)).toBe(1);
    expect(ops.alerts[0]?.message).toMatch(/may have been missed/);
  });

  it('does not count a gap after an ordinary pause between invocations', async () => {
    const first = makePoller(kit);
    await first.begin(lease());
    await first.tick(lease());
    await first.end();
    clock.advance(60_000);
    const metrics = new RecordingMetrics();
    const second = makePoller(kit, { metrics });
    await second.begin(lease());
    await second.tick(lease());
    expect(metrics.get(METRIC.possibleGap)).toBe(0);
  });
});

describe('overlapping invocations', () => {
  it('a waiting poller takes over on its next tick once the holder releases early', async () => {
    const a = makePoller(kit, { owner: 'a' });
    const b = makePoller(kit, { owner: 'b' });
    await a.begin(clock.now() + 90_000);
    expect(await b.begin(clock.now() + 90_000)).toBe(false);
    await a.tick(clock.now() + 90_000);
    await a.end(); // a's run ends long before its lease would have
    clock.advance(10_000);
    expect((await b.tick(clock.now() + 80_000)).polled).toBe(true);
  });
});
