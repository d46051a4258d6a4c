/**
 * A call that arrives in the last seconds before a run stops polling is sent in that run: a send
 * may start up to the tick's deadline, and run its budget past it inside the lease. One that
 * arrives too near the lease's end — claimed, but with too little time left for a send — goes
 * out at the next run's first tick, not after the claim timeout: the run releases
 * the claims it did not send (due now) when it ends. Over DynamoDB Local and the simulator, on a
 * manual clock. Before this, such a call waited the 30-s claim timeout: at 2-s polling it made
 * the latency's p95 ≈ 33 s in the bench. A release that fails, answers late or slowly loses
 * nothing and sends nothing twice: a refused or failed release leaves the claim to its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { StateStore } from '../../lambda/state/store';
import { type DynamoFault, FaultyDynamoDb } from '../support/faulty-dynamodb';
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
    store: new StateStore({ tableName: await freshTable(), client: db.client }),
  };
});
afterAll(async () => {
  await sim.close();
});

const settings = { sendBudgetMs: 10_000 };

/**
 * A baseline run, then a run whose last tick comes 14 s before its lease ends (less than the lease
 * margin and a send): the new call is claimed but not sent. Returns the call.
 */
async function claimedButNotSent(on: PollerKit, deliverer: RecordingDeliverer) {
  const first = makePoller(on, { settings, deliverer });
  await first.begin(clock.now() + 60_000);
  await first.tick(clock.now() + 60_000);
  await first.end();
  const leaseUntil = clock.now() + 60_000;
  const run = makePoller(on, { settings, deliverer });
  await run.begin(leaseUntil);
  clock.advance(46_000);
  const call = on.sim.inject({ code: 'waiter_call' });
  const tick = await run.tick(leaseUntil);
  expect(tick).toMatchObject({ claimed: 1, delivered: 0, left: 1 });
  await run.end();
  expect(deliverer.deliveries).toHaveLength(0);
  return call;
}

/** One scheduled run, `afterMs` after the last. */
async function nextRun(on: PollerKit, deliverer: RecordingDeliverer, afterMs: number) {
  clock.advance(afterMs);
  const next = makePoller(on, { settings, deliverer });
  const until = clock.now() + 60_000;
  await next.begin(until);
  await next.tick(until);
  await next.end();
}

describe('a call in the last seconds before the run stops polling', () => {
  it('is sent in this run when its lease leaves a send its budget: the tick deadline bounds the start', async () => {
    const deliverer = new RecordingDeliverer();
    deliverer.now = clock.now;
    // As the handler runs it: polling stops 57 s in (stopAt), the lease lasts the 90-s timeout.
    const start = clock.now();
    const [stopAt, leaseUntil] = [start + 57_000, start + 90_000];
    const run = makePoller(kit, { settings, deliverer });
    await run.begin(leaseUntil);
    await run.tick(stopAt);
    clock.advance(52_000); // 5 s before stopAt: less than the 10-s send budget
    const call = kit.sim.inject({ code: 'waiter_call' });
    expect(await run.tick(stopAt)).toMatchObject({ claimed: 1, delivered: 1, left: 0 });
    await run.end();
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([call.hash]);
    expect(deliverer.deliveries[0]!.at! - call.enqueuedAt).toBeLessThan(1_000);
  });
});

describe('a claim the run had no time to send', () => {
  it('is sent at the next run’s first tick, not after the claim timeout', async () => {
    const deliverer = new RecordingDeliverer();
    deliverer.now = clock.now;
    const call = await claimedButNotSent(kit, deliverer);
    // The next scheduled run, 3 s later (well inside the 30-s claim timeout), sends it at once.
    await nextRun(kit, deliverer, 3_000);
    expect(deliverer.deliveries.map((d) => d.hash)).toEqual([call.hash]);
    expect(deliverer.deliveries[0]!.at! - call.enqueuedAt).toBeLessThan(TEST_SETTINGS.claimTimeoutMs);
  });
});

describe('a fault at the release', () => {
  const faultyClock = clock;
  it.each<[string, DynamoFault, 'next run' | 'claim timeout']>([
    ['refused before it reached the table', { kind: 'error' }, 'claim timeout'],
    ['applied, its answer lost', { kind: 'late' }, 'next run'],
    ['slow (20 s), then applied', { kind: 'slow', ms: 20_000 }, 'next run'],
  ])('%s: the call is sent once, at the %s', async (_what, fault, when) => {
    const faults = new FaultyDynamoDb(faultyClock);
    const faultySim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 12 });
    try {
      const on: PollerKit = {
        clock,
        sim: faultySim,
        token: TOKEN,
        store: new StateStore({ tableName: await freshTable(), client: faults.client }),
      };
      const deliverer = new RecordingDeliverer();
      deliverer.now = clock.now;
      faults.failNext('release', fault);
      const call = await claimedButNotSent(on, deliverer);
      expect(faults.injected).toEqual([{ kind: 'release', fault: fault.kind }]);
      await nextRun(on, deliverer, 3_000);
      if (when === 'claim timeout') {
        // The claim is still held: the next run leaves it; the one after the timeout sends it.
        expect(deliverer.deliveries).toHaveLength(0);
        await nextRun(on, deliverer, TEST_SETTINGS.claimTimeoutMs);
      }
      expect(deliverer.deliveries.map((d) => d.hash)).toEqual([call.hash]);
      await nextRun(on, deliverer, TEST_SETTINGS.claimTimeoutMs + 60_000);
      expect(deliverer.count(call.hash, 'sns')).toBe(1);
    } finally {
      await faultySim.close();
    }
  });
});
