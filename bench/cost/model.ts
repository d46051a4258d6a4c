/**
 * The monthly AWS cost of one restaurant, from measured figures and the unit prices in
 * prices.ts, with the arithmetic written next to every amount:
 *   polling part (per poll interval) — Lambda arm64 GB-s and requests, Scheduler, DynamoDB
 *     on-demand units, Secrets Manager calls, CloudWatch Logs ingestion;
 *   fixed part — secrets, KMS keys, alarms, dashboard, custom metrics, log storage, each marked
 *     required or optional (with the config switch that removes it);
 *   per 1,000 events — SNS publishes, SES e-mails, DynamoDB units (SMS counted apart).
 * Pure: values in, values out.
 */
import {
  FREE_TIER,
  KMS_REQUESTS_PER_MONTH_ESTIMATE,
  LAMBDA_PLATFORM_LOG_BYTES,
  LOG_EVENT_OVERHEAD_BYTES,
  MINUTES_PER_MONTH,
  PRICES,
  PRICE_SOURCE,
} from './prices';
import type { InventoryResult } from './inventory';

export interface LineItem {
  readonly item: string;
  readonly arithmetic: string;
  readonly usd: number;
}

export interface FixedItem extends LineItem {
  readonly optional: boolean;
  /** How to switch an optional item off, or why a required one cannot be. */
  readonly howToSwitchOff: string;
}

/** What one scheduled run at a given poll interval costs in requests and log bytes (measured). */
export interface RunFigures {
  readonly ticks: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly readRequests: number;
  readonly logBytes: number;
  readonly logLines: number;
}

export interface CostInputs {
  readonly memoryMb: number;
  /** The handler's MAX_RUN_MS: no tick but the first starts this long after the run's start. */
  readonly maxRunMs: number;
  /** Work of a run besides its sleeping: lease, one tick, checkpoint (measured). */
  readonly runWorkMs: number;
  /** Measured per poll interval (seconds). */
  readonly runs: ReadonlyMap<number, RunFigures>;
  readonly secretCacheSeconds: number;
  readonly inventory: InventoryResult;
  /** Custom metrics per source: emitted every hour (idle) and in hours with events. */
  readonly customMetrics: { readonly idle: number; readonly busy: number };
  readonly perEvent: {
    readonly writeUnits: number;
    readonly readUnits: number;
    readonly readRequests: number;
    readonly snsPublishes: number;
    readonly sesRecipients: number;
    readonly smsMessages: number;
    /** Handler time per event in the burst (matters only where a run would otherwise end). */
    readonly lambdaMs: number;
  };
}

export interface PollingCost {
  readonly intervalSeconds: number;
  readonly ticksPerRun: number;
  /** Billed duration of one run. */
  readonly runSeconds: number;
  /** CloudWatch Logs ingested a month. */
  readonly logGb: number;
  readonly items: readonly LineItem[];
  readonly totalUsd: number;
  /** The same after the always-free tier, if the account uses it for nothing else. */
  readonly afterFreeTierUsd: number;
}

export interface CostModel {
  readonly prices: typeof PRICE_SOURCE;
  readonly sources: number;
  readonly memoryMb: number;
  readonly polling: readonly PollingCost[];
  readonly fixed: readonly FixedItem[];
  readonly fixedTotalUsd: number;
  readonly fixedRequiredUsd: number;
  readonly perThousandEvents: readonly LineItem[];
  readonly perThousandEventsUsd: number;
  readonly smsPerThousandEvents: number;
}

/** When the last tick of a run starts: ticks go at k·interval while k·interval < maxRunMs. */
export function lastTickStartMs(intervalMs: number, maxRunMs: number): number {
  return (Math.ceil(maxRunMs / intervalMs) - 1) * intervalMs;
}

export function buildCostModel(input: CostInputs): CostModel {
  const runsPerMonth = MINUTES_PER_MONTH;
  const sources = input.inventory.asWritten.sources;
  const gb = input.memoryMb / 1024;
  const polling = [...input.runs].map(([intervalSeconds, run]): PollingCost => {
    const runSeconds = (lastTickStartMs(intervalSeconds * 1000, input.maxRunMs) + input.runWorkMs) / 1000;
    const gbSeconds = runsPerMonth * runSeconds * gb;
    const reads = Math.max(run.readUnits, run.readRequests);
    const secretCalls = sources * runsPerMonth * (60 / input.secretCacheSeconds);
    const logBytesPerRun = run.logBytes + run.logLines * LOG_EVENT_OVERHEAD_BYTES + LAMBDA_PLATFORM_LOG_BYTES;
    const logGb = (runsPerMonth * logBytesPerRun) / 1e9;
    const items: LineItem[] = [
      {
        item: 'Lambda compute (arm64)',
        arithmetic: `${n(runsPerMonth)} runs × ${n(runSeconds, 2)} s × ${n(gb, 2)} GB = ${n(gbSeconds)} GB-s × ${PRICES.lambdaArmGbSecond}`,
        usd: gbSeconds * PRICES.lambdaArmGbSecond,
      },
      {
        item: 'Lambda requests',
        arithmetic: `${n(runsPerMonth)} × ${PRICES.lambdaRequestsPerMillion} / 1M`,
        usd: (runsPerMonth * PRICES.lambdaRequestsPerMillion) / 1e6,
      },
      {
        item: 'EventBridge Scheduler',
        arithmetic: `${n(runsPerMonth)} × ${PRICES.schedulerInvocationsPerMillion} / 1M`,
        usd: (runsPerMonth * PRICES.schedulerInvocationsPerMillion) / 1e6,
      },
      {
        item: 'DynamoDB writes',
        arithmetic: `${n(runsPerMonth)} runs × ${n(run.writeUnits, 2)} WRU × ${PRICES.dynamoWriteUnitsPerMillion} / 1M`,
        usd: (runsPerMonth * run.writeUnits * PRICES.dynamoWriteUnitsPerMillion) / 1e6,
      },
      {
        item: 'DynamoDB reads',
        arithmetic: `${n(runsPerMonth)} runs × ${n(reads, 2)} RRU (≥ 1 per request) × ${PRICES.dynamoReadUnitsPerMillion} / 1M`,
        usd: (runsPerMonth * reads * PRICES.dynamoReadUnitsPerMillion) / 1e6,
      },
      {
        item: 'Secrets Manager calls',
        arithmetic: `${sources} source × ${n(runsPerMonth)} min / ${input.secretCacheSeconds / 60} min cache = ${n(secretCalls)} × ${PRICES.secretsApiCallsPer10k} / 10k`,
        usd: (secretCalls * PRICES.secretsApiCallsPer10k) / 1e4,
      },
      {
        item: 'CloudWatch Logs ingestion',
        arithmetic: `${n(runsPerMonth)} runs × ${n(logBytesPerRun)} B (${n(run.logBytes)} measured + ${run.logLines} × ${LOG_EVENT_OVERHEAD_BYTES} + ${LAMBDA_PLATFORM_LOG_BYTES} platform) = ${n(logGb, 3)} GB × ${PRICES.logsIngestedPerGb}`,
        usd: logGb * PRICES.logsIngestedPerGb,
      },
    ];
    const total = sum(items);
    const freeLambda = Math.max(0, gbSeconds - FREE_TIER.lambdaGbSeconds) * PRICES.lambdaArmGbSecond;
    const freeRequests = Math.max(0, runsPerMonth - FREE_TIER.lambdaRequests) * (PRICES.lambdaRequestsPerMillion / 1e6);
    const freeScheduler =
      Math.max(0, runsPerMonth - FREE_TIER.schedulerInvocations) * (PRICES.schedulerInvocationsPerMillion / 1e6);
    const freeLogs = Math.max(0, logGb - FREE_TIER.logsIngestedGb) * PRICES.logsIngestedPerGb;
    const afterFreeTier =
      total -
      items[0]!.usd -
      items[1]!.usd -
      items[2]!.usd -
      items[6]!.usd +
      freeLambda +
      freeRequests +
      freeScheduler +
      freeLogs;
    return {
      intervalSeconds,
      ticksPerRun: run.ticks,
      runSeconds,
      logGb,
      items,
      totalUsd: total,
      afterFreeTierUsd: afterFreeTier,
    };
  });

  const inv = input.inventory.asWritten;
  const off = input.inventory.optionalOff;
  const optionalAlarms = inv.alarms - off.alarms;
  const requiredAlarms = off.alarms;
  const fastest = [...polling].sort((a, b) => a.intervalSeconds - b.intervalSeconds)[0];
  const storedGb = fastest?.logGb ?? 0;
  const fixed: FixedItem[] = [
    {
      item: 'Secrets Manager secrets (tokens)',
      arithmetic: `${inv.secrets} × ${PRICES.secretPerMonth}`,
      usd: inv.secrets * PRICES.secretPerMonth,
      optional: false,
      howToSwitchOff: 'required: one per source',
    },
    {
      item: 'KMS keys (alerts and ops topics)',
      arithmetic: `${inv.kmsKeys} × ${PRICES.kmsKeyPerMonth}`,
      usd: inv.kmsKeys * PRICES.kmsKeyPerMonth,
      optional: false,
      howToSwitchOff: 'required: no config switch (each topic has its own customer managed key)',
    },
    {
      item: 'KMS requests (estimate from docs/DEPLOY.md)',
      arithmetic: `${n(KMS_REQUESTS_PER_MONTH_ESTIMATE)} × ${PRICES.kmsRequestsPer10k} / 10k`,
      usd: (KMS_REQUESTS_PER_MONTH_ESTIMATE * PRICES.kmsRequestsPer10k) / 1e4,
      optional: false,
      howToSwitchOff: 'follows the keys',
    },
    {
      item: 'CloudWatch alarms',
      arithmetic: `${requiredAlarms} × ${PRICES.alarmPerMonth}`,
      usd: requiredAlarms * PRICES.alarmPerMonth,
      optional: false,
      howToSwitchOff: 'required: no config switch',
    },
    ...(optionalAlarms > 0
      ? [
          {
            item: 'CloudWatch alarm: SMS spend',
            arithmetic: `${optionalAlarms} × ${PRICES.alarmPerMonth}`,
            usd: optionalAlarms * PRICES.alarmPerMonth,
            optional: true,
            howToSwitchOff: 'aws.sms.monthlySpendLimitUsd: null',
          },
        ]
      : []),
    ...(inv.dashboards > off.dashboards
      ? [
          {
            item: 'CloudWatch dashboard',
            arithmetic: `${inv.dashboards - off.dashboards} × ${PRICES.dashboardPerMonth}`,
            usd: (inv.dashboards - off.dashboards) * PRICES.dashboardPerMonth,
            optional: true,
            howToSwitchOff: 'aws.dashboard: false',
          },
        ]
      : []),
    {
      item: 'CloudWatch custom metrics (EMF)',
      arithmetic: `${sources} source × ${input.customMetrics.idle} (idle) to ${input.customMetrics.busy} (hours with events) × ${PRICES.customMetricPerMonth}`,
      usd: sources * input.customMetrics.busy * PRICES.customMetricPerMonth,
      optional: false,
      howToSwitchOff: `required: no config switch (${n(sources * input.customMetrics.idle * PRICES.customMetricPerMonth, 2)} when every hour is idle)`,
    },
    {
      item: 'CloudWatch Logs storage (30 days)',
      arithmetic: `≈ ${n(storedGb, 3)} GB (${fastest?.intervalSeconds ?? '?'}-s polling) × ${PRICES.logsStoredPerGbMonth}`,
      usd: storedGb * PRICES.logsStoredPerGbMonth,
      optional: false,
      howToSwitchOff: 'aws.logRetentionDays shortens it',
    },
  ];

  const e = input.perEvent;
  const thousand = 1000;
  const perThousand: LineItem[] = [
    {
      item: 'SNS publishes',
      arithmetic: `${n(e.snsPublishes * thousand)} × ${PRICES.snsPublishesPerMillion} / 1M (first 1M a month free)`,
      usd: (e.snsPublishes * thousand * PRICES.snsPublishesPerMillion) / 1e6,
    },
    {
      item: 'SES e-mails',
      arithmetic: `${n(e.sesRecipients * thousand)} recipients × ${PRICES.sesEmailsPerThousand} / 1,000`,
      usd: (e.sesRecipients * thousand * PRICES.sesEmailsPerThousand) / 1e3,
    },
    {
      item: 'DynamoDB units',
      arithmetic: `${n(e.writeUnits * thousand)} WRU × ${PRICES.dynamoWriteUnitsPerMillion} / 1M + ${n(Math.max(e.readUnits, e.readRequests) * thousand)} RRU × ${PRICES.dynamoReadUnitsPerMillion} / 1M`,
      usd:
        (e.writeUnits * thousand * PRICES.dynamoWriteUnitsPerMillion +
          Math.max(e.readUnits, e.readRequests) * thousand * PRICES.dynamoReadUnitsPerMillion) /
        1e6,
    },
    {
      item: 'Lambda time (60-s polling only; at 10 s the run is billed anyway)',
      arithmetic: `${n(thousand)} × ${n(e.lambdaMs, 1)} ms × ${n(gb, 2)} GB × ${PRICES.lambdaArmGbSecond}`,
      usd: ((thousand * e.lambdaMs) / 1000) * gb * PRICES.lambdaArmGbSecond,
    },
  ];
  return {
    prices: PRICE_SOURCE,
    sources,
    memoryMb: input.memoryMb,
    polling,
    fixed,
    fixedTotalUsd: sum(fixed),
    fixedRequiredUsd: sum(fixed.filter((f) => !f.optional)),
    perThousandEvents: perThousand,
    perThousandEventsUsd: sum(perThousand),
    smsPerThousandEvents: e.smsMessages * thousand,
  };
}

function sum(items: readonly LineItem[]): number {
  return items.reduce((s, i) => s + i.usd, 0);
}

/** 43800 → "43,800"; digits after the point as asked. */
export function n(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
