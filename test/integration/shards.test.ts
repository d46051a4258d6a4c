/**
 * Shards over the real peers: two handlers (two Lambda containers) share DynamoDB Local and run
 * their shards' invocations at the same time, each told its shard as its schedule tells it. Every
 * source is polled by exactly one of them, every call is delivered once, and a restaurant that
 * never answers in one shard does not cost the other shard a single tick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { createPollHandler } from '../../lambda/handler';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { shardEvent, sourcesOfShard } from '../../lambda/config/shards';
import { QrMenuClient } from '../../lambda/qrmenu/client';
import { StateStore } from '../../lambda/state/store';
import type { StaffBot } from '../../lambda/domain/ports';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingLog,
  RecordingMetrics,
  countingDynamoDbClient,
  freshTable,
} from '../support/harness';

const TOKEN = 'shards-test-token';
const db = countingDynamoDbClient();
const clock = new ManualClock();
let sims: Simulator[];

beforeAll(async () => {
  sims = await Promise.all(
    [31, 32, 33, 34].map((seed) => createSimulator({ token: TOKEN, tls: false, now: clock.now, seed })),
  );
});
afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.close()));
});

const context = (name: string) => ({ awsRequestId: name, getRemainingTimeInMillis: () => 90_000 });

describe('two shards, two concurrent invocations', () => {
  it('each source is polled by exactly one shard, each call delivered once', async () => {
    const config = parseAlertsConfig({
      name: 'chain',
      sources: sims.map((sim, i) => ({ id: `r${i}`, url: sim.url, allowPlainHttp: true, token: { value: TOKEN } })),
      polling: { intervalSeconds: 2, requestTimeoutMs: 1_000, retries: 0, sourcesPerShard: 2 },
      delivery: { cooldownSeconds: 0 },
    });
    expect(sourcesOfShard(config, 0).map((s) => s.id)).toEqual(['r0', 'r1']);
    expect(sourcesOfShard(config, 1).map((s) => s.id)).toEqual(['r2', 'r3']);
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const deliverer = new RecordingDeliverer();
    /** source id → the containers that polled it. */
    const polledBy = new Map<string, Set<string>>();
    const container = (name: string) =>
      createPollHandler({
        config,
        store,
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
          return (cursor, options) => {
            polledBy.set(source.id, (polledBy.get(source.id) ?? new Set()).add(name));
            return client.fetchEvents(cursor, options);
          };
        },
        clock,
      });
    const [a, b] = [container('a'), container('b')];
    const both = () => Promise.all([a(shardEvent(0), context('a')), b(shardEvent(1), context('b'))]);
    const first = await both(); // the baseline of every source
    expect(first.map((r) => [r.shard, r.sources])).toEqual([
      [0, 2],
      [1, 2],
    ]);
    const calls = sims.map((sim) => sim.inject());
    const second = await both();
    expect(Object.fromEntries([...polledBy].map(([id, by]) => [id, [...by]]))).toEqual({
      r0: ['a'],
      r1: ['a'],
      r2: ['b'],
      r3: ['b'],
    });
    for (const call of calls) expect(deliverer.count(call.hash), call.hash).toBe(1);
    expect(second.every((r) => r.errors === 0)).toBe(true);
  });

  it("only shard 0 reads the staff bot's presses", async () => {
    const config = parseAlertsConfig({
      name: 'chain',
      sources: sims.map((sim, i) => ({ id: `r${i}`, url: sim.url, allowPlainHttp: true, token: { value: TOKEN } })),
      polling: { intervalSeconds: 10, requestTimeoutMs: 1_000, retries: 0, sourcesPerShard: 2 },
    });
    const reads: string[] = [];
    let reading = 'none';
    const staff: StaffBot = {
      async nextPresses(offset, waitSeconds) {
        reads.push(reading);
        await clock.sleep(waitSeconds * 1_000); // a long poll that sees no press
        return { presses: [], chats: [], nextOffset: offset };
      },
      showAcknowledged: async () => true,
      answer: async () => {},
    };
    const handler = createPollHandler({
      config,
      store: new StateStore({ tableName: await freshTable(), client: db.client }),
      deliverer: new RecordingDeliverer(),
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
      staff,
    });
    reading = 'shard 1';
    await handler(shardEvent(1), context('b'));
    reading = 'shard 0';
    await handler(shardEvent(0), context('a'));
    expect(new Set(reads)).toEqual(new Set(['shard 0']));
  });

  it('a restaurant that never answers delays only its own shard', async () => {
    const config = parseAlertsConfig({
      name: 'chain',
      sources: sims.map((sim, i) => ({ id: `r${i}`, url: sim.url, allowPlainHttp: true, token: { value: TOKEN } })),
      polling: { intervalSeconds: 10, requestTimeoutMs: 1_000, retries: 0, sourcesPerShard: 2, concurrency: 1 },
    });
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const handler = createPollHandler({
      config,
      store,
      deliverer: new RecordingDeliverer(),
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
    await Promise.all([handler(shardEvent(0), context('a')), handler(shardEvent(1), context('b'))]);
    sims[2]!.setFaults({ latencyMs: 60_000 });
    try {
      const before = sims.map((sim) => sim.served.length);
      const [lead, other] = await Promise.all([
        handler(shardEvent(0), context('a')),
        handler(shardEvent(1), context('b')),
      ]);
      const served = sims.map((sim, i) => sim.served.length - before[i]!);
      // Shard 0 polled both its sources at every tick, although shard 1 runs one slot (concurrency 1) stuck on r2.
      expect(served[0]).toBe(lead.ticks / 2);
      expect(served[1]).toBe(lead.ticks / 2);
      expect(lead.errors).toBe(0);
      expect(other.errors).toBeGreaterThan(0);
    } finally {
      sims[2]!.setFaults({ latencyMs: 0 });
    }
  });
});
