/**
 * A call that arrives in the last seconds of a run — claimed, but with too little time left for a
 * send — goes out at the next run's first tick, not after the claim timeout: the run releases
 * the claims it did not send (due now) when it ends. Over DynamoDB Local and the simulator, on a
 * manual clock. Before this, such a call waited the 30-s claim timeout: at 2-s polling it made
 * the latency's p95 ≈ 33 s in the bench.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { StateStore } from '../../lambda/state/store';
import {
  countingDynamoDbClient,
  freshTable,
  ManualClock,
  makePoller,
  RecordingDeliverer,
  TEST_SETTINGS,
  type PollerKit,
} from '../support/harness';

const TOKEN = 'release-unsent-token-4321';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 11 });
  kit = {
    clock,
    sim,
    token: TOKEN,
    store: new StateStore({ tableName: await freshTable(db.client), client: db.client }),
  };
});
afterAll(async () => {
  await sim.close();
});

describe('a claim the run had no time to send', () => {
  it('is sent at the next run’s first tick, not after the claim timeout', async () => {
    const settings = { sendBudgetMs: 10_000 };
    const deliverer = new RecordingDeliverer();
    deliverer.now = clock.now;
    // A first run takes the baseline.
    const first = makePoller(kit, { settings, deliverer });
    await first.begin(clock.now() + 60_000);
    await first.tick(clock.now() + 60_000);
    await first.end();

    // A run whose last tick comes 14 s before its lease ends (less than the lease margin and a send): the new call is claimed but not sent.
    const leaseUntil = clock.now() + 60_000;
    const run = makePoller(kit, { settings, deliverer });
    await run.begin(leaseUntil);
    clock.advance(46_000);
    const call = sim.inject({ code: 'waiter_call' });
    const tick = await run.tick(leaseUntil);
    expect(tick).toMatchObject({ claimed: 1, delivered: 0, left: 1 });
    await run.end();
    expect(deliverer.deliveries).toHaveLength(0);

    // The next scheduled run, 3 s later (well inside the 30-s claim timeout), sends it at once.
    clock.advance(3_000);
    const next = makePoller(kit, { settings, deliverer });
    const nextUntil = clock.now() + 60_000;
    await next.begin(nextUntil);
    await next.tick(nextUntil);
    await next.end();
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([call.hash]);
    expect(deliverer.deliveries[0]!.at! - call.enqueuedAt).toBeLessThan(TEST_SETTINGS.claimTimeoutMs);
  });
});
