/**
 * The Lambda handler's invocation loop, with the production wiring swapped for test peers where
 * needed: DynamoDB Local, two simulators, a recording deliverer and a manual clock. It polls every
 * `polling.intervalSeconds` until shortly before its deadline, and a slow source never holds up
 * the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { createPollHandler, MAX_RUN_MS } from '../../lambda/handler';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { QrMenuClient } from '../../lambda/qrmenu/client';
import { StateStore } from '../../lambda/state/store';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingLog,
  RecordingMetrics,
  countingDynamoDbClient,
  freshTable,
} from '../support/harness';

const TOKEN = 'handler-test-token';
const db = countingDynamoDbClient();
let fast: Simulator;
let slow: Simulator;
const clock = new ManualClock();

beforeAll(async () => {
  [fast, slow] = await Promise.all([
    createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 21 }),
    createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 22 }),
  ]);
});
afterAll(async () => {
  await Promise.all([fast.close(), slow.close()]);
});

async function handlerFor(intervalSeconds: number, sims: Simulator[]) {
  const config = parseAlertsConfig({
    name: 'test',
    sources: sims.map((sim, i) => ({ id: `s${i}`, url: sim.url, token: { value: TOKEN } })),
    polling: { intervalSeconds, requestTimeoutMs: 1_000, retries: 0 },
  });
  const deliverer = new RecordingDeliverer();
  const handler = createPollHandler({
    config,
    store: new StateStore({ tableName: await freshTable(db.client), client: db.client }),
    deliverer,
    log: new RecordingLog(),
    metricsFor: () => new RecordingMetrics(),
    fetchFor: (source) => {
      const client = new QrMenuClient({
        baseUrl: source.url,
        token: TOKEN,
        requestTimeoutMs: 1_000,
        retries: 0,
        now: clock.now,
      });
      return (cursor, options) => client.fetchEvents(cursor, options);
    },
    clock,
  });
  return { handler, deliverer };
}

const context = (remainingMs: number) => ({ awsRequestId: 'req-1', getRemainingTimeInMillis: () => remainingMs });

describe('one invocation', () => {
  it('polls every intervalSeconds until shortly before its deadline', async () => {
    const { handler } = await handlerFor(10, [fast]);
    const before = fast.served.length;
    const started = clock.now();
    const report = await handler({}, context(90_000));
    expect(report.ticks).toBe(Math.ceil(MAX_RUN_MS / 10_000)); // 0, 10, …, 50 s: six polls
    expect(fast.served.length - before).toBe(report.ticks);
    expect(clock.now() - started).toBeLessThanOrEqual(MAX_RUN_MS + 10_000);
  });

  it('polls once when the interval is a minute', async () => {
    const { handler } = await handlerFor(60, [fast]);
    expect((await handler({}, context(90_000))).ticks).toBe(1);
  });

  it('stops earlier when the Lambda has less time left', async () => {
    const { handler } = await handlerFor(5, [fast]);
    const report = await handler({}, context(30_000)); // stops 12 s before the deadline: 0, 5, 10, 15 s
    expect(report.ticks).toBe(4);
  });

  it('a source that never answers does not hold up the others', async () => {
    slow.setFaults({ latencyMs: 60_000 });
    try {
      const { handler, deliverer } = await handlerFor(10, [fast, slow]);
      await handler({}, context(90_000)); // first run of both sources: the baseline
      const before = fast.served.length;
      const call = fast.inject();
      const report = await handler({}, context(90_000));
      expect(fast.served.length - before).toBe(6); // every tick of the fast source happened
      expect(report.errors).toBeGreaterThan(0); // the slow one timed out
      expect(deliverer.deliveries.map((d) => d.hash)).toContain(call.hash);
    } finally {
      slow.setFaults({ latencyMs: 0 });
    }
  });
});
