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

/** Counts the flushes of every source's metrics: one flush is one EMF log line per metrics object. */
class FlushCounter extends RecordingMetrics {
  flushes = 0;
  override flush(): void {
    this.flushes += 1;
  }
}

async function handlerFor(
  intervalSeconds: number,
  sims: Simulator[],
  options: { slowness?: { sendMs: number }; concurrency?: number; log?: RecordingLog; metrics?: FlushCounter } = {},
) {
  const config = parseAlertsConfig({
    name: 'test',
    sources: sims.map((sim, i) => ({ id: `s${i}`, url: sim.url, allowPlainHttp: true, token: { value: TOKEN } })),
    polling: { intervalSeconds, requestTimeoutMs: 1_000, retries: 0 },
    ...(options.concurrency ? { delivery: { concurrency: options.concurrency, cooldownSeconds: 0 } } : {}),
  });
  const deliverer = new RecordingDeliverer();
  const store = new StateStore({ tableName: await freshTable(), client: db.client });
  const handler = createPollHandler({
    config,
    store,
    deliverer: {
      async deliver(request) {
        clock.advance(options.slowness?.sendMs ?? 0); // a slow channel: SES throttled, a black-holed endpoint
        return deliverer.deliver(request);
      },
    },
    log: options.log ?? new RecordingLog(),
    metricsFor: () => options.metrics ?? new RecordingMetrics(),
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
  return { handler, deliverer, store };
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

  it('logs and flushes metrics once per invocation, however many quiet ticks it runs (28 at 2 s = 1 at 60 s)', async () => {
    const quiet = async (intervalSeconds: number, remainingMs: number) => {
      const log = new RecordingLog();
      const metrics = new FlushCounter();
      const { handler } = await handlerFor(intervalSeconds, [fast], { log, metrics });
      await handler({}, context(90_000)); // the first run records the (empty) backlog
      log.lines.length = 0;
      metrics.flushes = 0;
      const report = await handler({}, context(remainingMs));
      return { ticks: report.ticks, lines: log.lines.filter((l) => l.level !== 'debug'), flushes: metrics.flushes };
    };
    // 67 s left: the run stops 12 s before it, at 55 s — ticks at 0, 2, …, 54 s.
    const many = await quiet(2, 67_000);
    const one = await quiet(60, 90_000);
    expect(many.ticks).toBe(28);
    expect(one.ticks).toBe(1);
    expect(many.flushes).toBe(one.flushes);
    expect(many.flushes).toBe(1); // one source: one EMF flush per invocation
    expect(many.lines.map((l) => l.message)).toEqual(one.lines.map((l) => l.message));
    expect(many.lines.map((l) => l.message)).toEqual(['invocation done']);
  });

  it('a tick with news still logs what it did', async () => {
    const log = new RecordingLog();
    const { handler } = await handlerFor(2, [fast], { log });
    await handler({}, context(90_000));
    const call = fast.inject();
    log.lines.length = 0;
    await handler({}, context(67_000));
    const ticks = log.lines.filter((l) => l.message === 'tick');
    expect(ticks).toHaveLength(1);
    expect(ticks[0]!.attributes).toMatchObject({ source: 's0', claimed: 1, delivered: 1 });
    expect(call.hash).toBeDefined();
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

  it('a slow channel and a backlog: the invocation ends in time, and every source saves its state', async () => {
    const slowness = { sendMs: 6_000 };
    const { handler, deliverer, store } = await handlerFor(10, [fast, slow], { slowness, concurrency: 1 });
    await handler({}, context(90_000));
    const burst = fast.injectMany(30);
    const other = slow.inject();
    const started = clock.now();
    await handler({}, context(90_000));
    // Lambda would kill it at 90 s; it returned with the last send's margin to spare.
    expect(clock.now() - started).toBeLessThanOrEqual(90_000 - 5_000);
    for (const id of ['s0', 's1']) {
      const lease = await store.acquireLease(id, 'probe', clock.now(), clock.now() + 1);
      expect(lease.acquired, `${id} released its lease`).toBe(true);
      // Saved by this invocation (its first poll is at `started`; the one before polled earlier).
      if (lease.acquired) expect(lease.state.lastSuccessAt, `${id} saved its state`).toBeGreaterThanOrEqual(started);
    }
    clock.advance(10_000);
    slowness.sendMs = 0; // the channel recovers: what was left goes out, each once
    for (let i = 0; i < 2; i += 1) await handler({}, context(90_000));
    for (const e of [...burst, other]) expect(deliverer.count(e.hash), e.hash).toBe(1);
  });
});
