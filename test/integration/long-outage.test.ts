/**
 * Delivery outages longer than a minute and a half, over the simulator and DynamoDB Local with a
 * recording deliverer whose channels are switched off: every call raised during a 2–8 minute
 * outage is delivered once it ends (retried for `retryForMs`, backoff capped); past the retry
 * window the call is failed and the operator told; a repeat tap that was suppressed behind an
 * original that failed is sent after all; the records outlive the whole retry schedule.
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

const TOKEN = 'long-outage-token-31';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 17 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  kit = {
    clock,
    sim,
    token: TOKEN,
    store: new StateStore({ tableName: await freshTable(), client: db.client }),
  };
});

async function minutes(
  count: number,
  options: Parameters<typeof makePoller>[1],
  each?: (tick: number) => void,
): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const start = clock.now();
    // The production defaults: up to 20 attempts within 10 minutes.
    const settings = { maxAttempts: 20, retryForMs: 600_000, ...options?.settings };
    const poller = makePoller(kit, { ...options, settings, owner: `inv-${start}` });
    await poller.begin(start + 55_000);
    for (let t = 0; t < 5; t += 1) {
      each?.(i * 5 + t);
      await poller.tick(start + 55_000);
      clock.advance(10_000);
    }
    await poller.end();
    clock.t = start + 60_000;
  }
}

describe('an outage of SES and SNS', () => {
  it.each([2, 5, 8])('lasting %i minutes: every call raised during it is delivered once it ends', async (length) => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    await minutes(1, { deliverer });
    deliverer.failing = { email: 'transient', sns: 'throttled' };
    const calls: string[] = [];
    await minutes(length, { deliverer, metrics }, (tick) => {
      if (tick % 4 === 0) calls.push(sim.inject({ tableName: `${tick}` }).hash);
    });
    deliverer.failing = {};
    await minutes(3, { deliverer, metrics });
    for (const hash of calls) {
      expect(deliverer.count(hash, 'sns'), hash).toBe(1);
      expect(deliverer.count(hash, 'email'), hash).toBe(1);
    }
    expect(metrics.get(METRIC.deliveryFailed)).toBe(0);
    // The backoff is capped: once the outage ends, nothing waits longer than a minute.
    expect(metrics.get(METRIC.deliveryRetries)).toBeGreaterThan(calls.length);
  });

  it('longer than the retry window: failed for good, and the operator told once', async () => {
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    const ops = new RecordingOps();
    await minutes(1, { deliverer });
    deliverer.failing = { sns: 'transient' };
    const call = sim.inject();
    await minutes(4, { deliverer, metrics, ops, settings: { retryForMs: 120_000 } });
    expect(metrics.get(METRIC.deliveryFailed)).toBe(1);
    expect(ops.alerts.filter((a) => /could not be delivered/.test(a.subject))).toHaveLength(1);
    expect(deliverer.count(call.hash, 'email')).toBe(1); // the channel that worked is not repeated
  });
});

describe('a repeat held behind an original that fails', () => {
  it('is sent once the original gives up; a repeat behind a delivered original stays suppressed', async () => {
    const settings = { cooldownMs: 60_000, retryForMs: 60_000 };
    const deliverer = new RecordingDeliverer();
    const metrics = new RecordingMetrics();
    await minutes(1, { deliverer, settings });
    deliverer.failing = { sns: 'transient' };
    const original = sim.inject({ code: 'waiter_call', tableName: '6' });
    let repeat: string | undefined;
    await minutes(2, { deliverer, metrics, settings }, (tick) => {
      if (tick === 2) repeat = sim.inject({ code: 'waiter_call', tableName: '6' }).hash;
      if (tick === 6) deliverer.failing = {}; // the outage ends after the original gave up
    });
    await minutes(2, { deliverer, metrics, settings });
    expect(deliverer.count(original.hash, 'sns')).toBe(0);
    expect(deliverer.count(repeat!, 'sns')).toBe(1);

    const ok = sim.inject({ code: 'waiter_call', tableName: '9' });
    await minutes(1, { deliverer, metrics, settings }, (tick) => {
      if (tick === 1) sim.inject({ code: 'waiter_call', tableName: '9' });
    });
    expect(deliverer.count(ok.hash, 'sns')).toBe(1);
    expect(deliverer.deliveries.filter((d) => d.request.event.tableName === '9')).toHaveLength(1);
  });
});
