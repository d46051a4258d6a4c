/**
 * DynamoDB faults at every call the poll cycle makes — lease, checkpoint, lookup, claim, mark,
 * take-over, due list — each failing before it reaches the table, answering slowly, or applied
 * and then answered with an error (the answer that arrives after the caller gave up). Over real
 * DynamoDB Local and the simulator: every event is delivered exactly once and ends recorded as
 * delivered; a send is never repeated because its outcome could not be written; every phase of a
 * tick stops at its deadline and leaves the rest, durably claimed, to the next.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { METRIC } from '../../lambda/domain/metrics';
import { StateStore } from '../../lambda/state/store';
import type { DeliveryRequest } from '../../lambda/domain/delivery';
import { CALL_KINDS, type CallKind, type DynamoFault, FaultyDynamoDb } from '../support/faulty-dynamodb';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingLog,
  RecordingMetrics,
  freshTable,
  makePoller,
} from '../support/harness';

const TOKEN = 'state-faults-token-42';
const clock = new ManualClock();
let sim: Simulator;
let faults: FaultyDynamoDb;
let store: StateStore;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 5 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  faults = new FaultyDynamoDb(clock);
  store = new StateStore({ tableName: await freshTable(), client: faults.client });
});

const kit = () => ({ clock, sim, store, token: TOKEN });

/** Invocations of a minute, five ticks each, a fresh poller each time (as the scheduler runs them). */
async function invocations(
  count: number,
  options: { deliverer: RecordingDeliverer; metrics?: RecordingMetrics; log?: RecordingLog; first?: number },
  between?: (invocation: number, tick: number) => void,
) {
  for (let i = 0; i < count; i += 1) {
    const start = clock.now();
    const poller = makePoller(kit(), {
      owner: `inv${(options.first ?? 0) + i}`,
      deliverer: options.deliverer,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    const leaseUntil = start + 55_000;
    await poller.begin(leaseUntil).catch(() => false);
    for (let tick = 0; tick < 5; tick += 1) {
      between?.(i, tick);
      await poller.tick(leaseUntil);
      clock.advance(10_000);
    }
    await poller.end();
    clock.t = start + 60_000;
  }
}

async function statusOf(hash: string): Promise<string | undefined> {
  return (await store.findRecorded('pizzeria', [hash])).get(hash)?.status;
}

describe('a fault at each DynamoDB call', () => {
  const FAULTS: DynamoFault[] = [{ kind: 'error' }, { kind: 'late' }, { kind: 'slow', ms: 20_000 }];
  // A release happens only when a run ends with claims it had no time to send: its faults are
  // tested where that is staged (test/integration/release-unsent.test.ts).
  const cases = CALL_KINDS.filter((kind) => kind !== 'release').flatMap((kind) =>
    FAULTS.map((fault) => [kind, fault] as const),
  );

  it.each(cases)('%s, %o: every event delivered once, and recorded as delivered', async (kind: CallKind, fault) => {
    const deliverer = new RecordingDeliverer();
    await invocations(1, { deliverer }); // the first run records the empty backlog
    const events = [sim.inject(), sim.inject()];
    // A first attempt that fails on SNS makes the retry path (mark as retry, take-over) run too.
    let firstAttempt = true;
    deliverer.beforeDeliver = () => {
      deliverer.failing = firstAttempt ? { sns: 'transient' } : {};
      firstAttempt = false;
    };
    faults.failNext(kind, fault, fault);
    await invocations(3, { deliverer, first: 1 });
    faults.next.clear();
    await invocations(2, { deliverer, first: 4 }); // quiet invocations drain whatever was left
    for (const event of events) {
      expect(deliverer.count(event.hash, 'sns'), `${event.hash} by SNS`).toBe(1);
      expect(deliverer.count(event.hash, 'email'), `${event.hash} by e-mail`).toBe(1);
      expect(await statusOf(event.hash)).toBe('delivered');
    }
    expect(faults.injected.filter((f) => f.kind === kind).length).toBeGreaterThan(0);
  });
});

describe('an outcome that cannot be written', () => {
  it('is written later and the alert is not sent again (the mark fails after a successful send)', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    await invocations(1, { deliverer });
    const events = [sim.inject(), sim.inject(), sim.inject()];
    faults.failNext('mark', { kind: 'error' }, { kind: 'error' }, { kind: 'error' }, { kind: 'late' });
    await invocations(2, { deliverer, metrics, first: 1 });
    for (const event of events) {
      expect(deliverer.count(event.hash, 'sns')).toBe(1);
      expect(await statusOf(event.hash)).toBe('delivered');
    }
    expect(metrics.get(METRIC.stateErrors)).toBeGreaterThanOrEqual(4);
    expect(metrics.get(METRIC.unmarkedDeliveries)).toBe(0);
  });

  it('still unwritten when the run ends: logged and counted as the one window a duplicate may come from', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const log = new RecordingLog();
    await invocations(1, { deliverer });
    const event = sim.inject();
    faults.chooser = (kind) => (kind === 'mark' ? { kind: 'error' } : undefined);
    await invocations(1, { deliverer, metrics, log, first: 1 });
    faults.chooser = undefined;
    expect(metrics.get(METRIC.unmarkedDeliveries)).toBe(1);
    expect(log.text()).toContain('the next run may send it again');
    await invocations(2, { deliverer, first: 2 });
    // The next run found the claim timed out and sent it again: the counted, logged window.
    expect(deliverer.count(event.hash, 'sns')).toBe(2);
    expect(await statusOf(event.hash)).toBe('delivered');
  });
});

describe('the tick deadline', () => {
  it('a slow channel: sends stop starting at the deadline, the rest go out on the next tick, each once', async () => {
    const deliverer = new RecordingDeliverer();
    const slowDeliverer = {
      async deliver(request: DeliveryRequest) {
        clock.advance(6_000); // SES throttled: six seconds per e-mail
        return deliverer.deliver(request);
      },
    };
    const poller = makePoller(kit(), {
      deliverer: slowDeliverer,
      settings: { concurrency: 1, sendBudgetMs: 9_000 },
    });
    const leaseUntil = clock.now() + 90_000;
    await poller.begin(leaseUntil);
    await poller.tick(clock.now() + 10_000);
    const burst = sim.injectMany(12);
    const started = clock.now();
    const until = started + 40_000;
    const report = await poller.tick(until);
    // A send starts only before the deadline: the last one ends within its 9-s budget after it.
    expect(clock.now()).toBeGreaterThan(until - 6_000);
    expect(clock.now()).toBeLessThanOrEqual(until + 9_000);
    expect(report.claimed).toBe(12);
    expect(report.left).toBeGreaterThan(0);
    for (let i = 0; i < 4; i += 1) await poller.tick(clock.now() + 40_000);
    await poller.end();
    for (const event of burst) expect(deliverer.count(event.hash, 'sns'), event.hash).toBe(1);
  });

  it('a slow table: claims stop at the deadline and the cursor waits for the unrecorded events', async () => {
    const deliverer = new RecordingDeliverer();
    const poller = makePoller(kit(), { deliverer, settings: { concurrency: 1 } });
    const leaseUntil = clock.now() + 90_000;
    await poller.begin(leaseUntil);
    await poller.tick(clock.now() + 10_000);
    const burst = sim.injectMany(6);
    faults.failNext('claim', { kind: 'slow', ms: 8_000 }, { kind: 'slow', ms: 8_000 }, { kind: 'slow', ms: 8_000 });
    const until = clock.now() + 20_000;
    const report = await poller.tick(until);
    expect(report.left).toBeGreaterThan(0);
    expect(clock.now()).toBeLessThanOrEqual(until + 8_000); // one call in flight at most
    for (let i = 0; i < 3; i += 1) await poller.tick(clock.now() + 30_000);
    await poller.end();
    for (const event of burst) expect(deliverer.count(event.hash, 'sns'), event.hash).toBe(1);
  });
});
