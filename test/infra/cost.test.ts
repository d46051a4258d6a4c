/**
 * The resource counts the cost model bills, read from the synthesized stacks of
 * config/example.yaml and of the same config with 50 sources (bench/cost/inventory.ts): one KMS
 * key, the same alarms whatever the number of sources, no secret, one token parameter per source
 * and one for the bot, no dashboard by default — and the model's verdict on the fixed part.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type InventoryResult, SCALE_SOURCES, stackInventory } from '../../bench/cost/inventory';
import { buildCostModel, COST_GOALS, type RunFigures } from '../../bench/cost/model';
import { DASHBOARD_METRICS } from '../../lambda/domain/metrics';

let inventory: InventoryResult;

beforeAll(() => {
  inventory = stackInventory('config/example.yaml');
}, 120_000);

describe('the example deployment, counted from its template', () => {
  it('has one KMS key, no Secrets Manager secret and no dashboard', () => {
    expect(inventory.asWritten).toMatchObject({
      sources: 1,
      kmsKeys: 1,
      secrets: 0,
      referencedSecrets: 0,
      dashboards: 0,
    });
    // the source's token and the Telegram bot's: SSM parameters the operator puts, free
    expect(inventory.asWritten.tokenParameters).toBe(2);
  });

  it('has the same alarms with 50 sources as with 1 (nothing per source)', () => {
    const one = inventory.asWritten;
    const many = inventory.scaled!;
    expect(many.sources).toBe(SCALE_SOURCES);
    // needs-attention, poller (3 Lambda metrics), schedule-dlq, sms-spend, and the daily report's two
    expect(one.alarms).toBe(6);
    expect(one.alarmMetrics).toBe(8);
    expect(many.alarms).toBe(one.alarms);
    expect(many.alarmMetrics).toBe(one.alarmMetrics);
    expect(many.kmsKeys).toBe(1);
    expect(many.tokenParameters).toBe(SCALE_SOURCES + 1);
    expect(many.metricSeries).toEqual({ attention: 1, dashboard: 0 });
  });

  it('drops the SMS spend alarm with the optional items off', () => {
    expect(inventory.optionalOff.alarms).toBe(inventory.asWritten.alarms - 1);
  });
});

describe('the cost model over these counts', () => {
  const run: RunFigures = { ticks: 28, writeUnits: 2, readUnits: 0, readRequests: 1, logBytes: 2000, logLines: 7 };
  /** A 128-MB poller at 2-s polling, 25 sources a shard, over the given counts. */
  const model = (counts: InventoryResult = inventory) =>
    buildCostModel({
      memoryMb: 128,
      maxRunMs: 57_000,
      runWorkMs: 40,
      runs: new Map([[2, run]]),
      secretCacheSeconds: 300,
      inventory: counts,
      defaultIntervalSeconds: 2,
      sourcesPerShard: 25,
      customMetrics: { idle: 0, busy: 0 },
      perEvent: {
        writeUnits: 4,
        readUnits: 0,
        readRequests: 0,
        snsPublishes: 1,
        sesRecipients: 1,
        smsMessages: 1,
        sendCalls: 2,
        lambdaMs: 10,
      },
    });

  it('bills the fixed part from the counts: one key, alarm metrics, nothing for the tokens, under the goal', () => {
    const cost = model();
    const item = (name: string) => cost.fixed.find((f) => f.item.startsWith(name))?.usd;
    expect(item('KMS keys')).toBe(1);
    expect(item('CloudWatch alarms')).toBeCloseTo(0.7, 10);
    expect(item('CloudWatch alarm: SMS spend')).toBeCloseTo(0.1, 10);
    expect(item('Token store')).toBe(0);
    expect(cost.fixed.some((f) => f.item === 'CloudWatch dashboard')).toBe(false);
    expect(cost.fixedTotalUsd).toBeLessThanOrEqual(COST_GOALS.fixedUsd);
  });

  it('bills a shard once a minute for its whole run and shares it among its sources', () => {
    const cost = model();
    // the last tick at 2-s polling starts at 56 s; the run's work follows it
    expect(cost.shard?.runSeconds).toBeCloseTo(56.04, 10);
    expect(cost.shard?.gbSecondsPerMonth).toBeCloseTo(43_800 * 56.04 * 0.125, 6);
    const share = cost.marginal?.find((m) => m.item.startsWith('Lambda'))?.usd ?? 0;
    expect(share).toBeCloseTo((cost.shard?.totalUsd ?? 0) / 25, 10);
    expect(cost.marginal?.find((m) => m.item.startsWith('Alarms, keys'))?.usd).toBe(0);
    expect(cost.marginalUsd).toBeLessThanOrEqual(COST_GOALS.marginalUsdPerSource);
  });

  it("states the dashboard's metrics per source where it is switched on", () => {
    const on: InventoryResult = {
      ...inventory,
      asWritten: {
        ...inventory.asWritten,
        dashboards: 1,
        metricSeries: { attention: 1, dashboard: DASHBOARD_METRICS.size },
      },
    };
    const cost = model(on);
    expect(cost.fixed.find((f) => f.item === 'CloudWatch dashboard')).toMatchObject({ usd: 3, optional: true });
    const metrics = cost.fixed.find((f) => f.item.startsWith("CloudWatch metrics the dashboard's"));
    expect(metrics?.usd).toBeCloseTo(DASHBOARD_METRICS.size * 0.3, 10);
    expect(metrics?.optional).toBe(true);
  });
});
