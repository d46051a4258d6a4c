/**
 * The monthly AWS cost of a deployment, from measured figures, the synthesized templates' resource
 * counts (inventory.ts) and the unit prices in prices.ts, with the arithmetic next to every amount:
 *   polling part (per poll interval, one restaurant) — Lambda arm64 GB-s and requests, Scheduler,
 *     DynamoDB on-demand units, token reads, CloudWatch Logs ingestion;
 *   fixed part — KMS keys, alarm metrics, secrets, token parameters, dashboard, metric series,
 *     each marked required or optional (with the config switch that removes it);
 *   per shard and per source, at the default poll interval — one ≈ 1-minute invocation a minute
 *     per shard shared by its sources, and what each further source adds (its share of a shard,
 *     DynamoDB, logs ingested and stored, and what the N-source template has beyond the 1-source one);
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
  /** The config schema's default poll interval (the per-shard and per-source figures use it). Default 10. */
  readonly defaultIntervalSeconds?: number;
  /** Sources one shard polls: the config schema's polling.sourcesPerShard default. */
  readonly sourcesPerShard: number;
  /** Custom metrics per source: emitted every hour (idle) and in hours with events. */
  readonly customMetrics: { readonly idle: number; readonly busy: number };
  readonly perEvent: {
    readonly writeUnits: number;
    readonly readUnits: number;
    readonly readRequests: number;
    readonly snsPublishes: number;
    readonly sesRecipients: number;
    readonly smsMessages: number;
    /** SES and SNS calls per event: with more than one shard, each may write the shared send slots once. */
    readonly sendCalls: number;
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

/** One shard: one schedule, one invocation a minute, billed for its whole run, shared by its sources. */
export interface ShardCost {
  readonly intervalSeconds: number;
  readonly sourcesPerShard: number;
  readonly runSeconds: number;
  readonly gbSecondsPerMonth: number;
  readonly items: readonly LineItem[];
  readonly totalUsd: number;
}

/** What the N-source template has beyond the 1-source one, per extra source (alarms, keys, …). */
export interface ScaleCheck {
  readonly sources: number;
  readonly alarms: number;
  readonly alarmMetrics: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  readonly dashboards: number;
}

export interface CostModel {
  readonly prices: typeof PRICE_SOURCE;
  readonly sources: number;
  readonly memoryMb: number;
  readonly polling: readonly PollingCost[];
  readonly fixed: readonly FixedItem[];
  readonly fixedTotalUsd: number;
  readonly fixedRequiredUsd: number;
  /** Absent in results written before issue 12. */
  readonly shard?: ShardCost;
  readonly marginal?: readonly LineItem[];
  readonly marginalUsd?: number;
  readonly scale?: { readonly one: ScaleCheck; readonly many: ScaleCheck };
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
    const tokenReads = tokenReadsPerMonth(input.inventory.asWritten, runsPerMonth, input.secretCacheSeconds);
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
      tokenReads,
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
  const optionalAlarmMetrics = (inv.alarmMetrics ?? inv.alarms) - (off.alarmMetrics ?? off.alarms);
  const series = inv.metricSeries ?? { attention: 0, dashboard: 0 };
  const fixed: FixedItem[] = [
    {
      item: 'KMS keys (both SNS topics)',
      arithmetic: `${inv.kmsKeys} × ${PRICES.kmsKeyPerMonth}`,
      usd: inv.kmsKeys * PRICES.kmsKeyPerMonth,
      optional: false,
      howToSwitchOff: 'required: one customer managed key, because CloudWatch alarms publish to the ops topic',
    },
    {
      item: 'KMS requests (estimate from docs/DEPLOY.md)',
      arithmetic: `${n(KMS_REQUESTS_PER_MONTH_ESTIMATE)} × ${PRICES.kmsRequestsPer10k} / 10k`,
      usd: (KMS_REQUESTS_PER_MONTH_ESTIMATE * PRICES.kmsRequestsPer10k) / 1e4,
      optional: false,
      howToSwitchOff: 'follows the key',
    },
    {
      item: 'CloudWatch alarms (billed per metric they read)',
      arithmetic: `${off.alarmMetrics ?? off.alarms} alarm metrics (${off.alarms} alarms) × ${PRICES.alarmPerMonth}`,
      usd: (off.alarmMetrics ?? off.alarms) * PRICES.alarmPerMonth,
      optional: false,
      howToSwitchOff: 'required: the same for 1 and 500 sources',
    },
    ...(optionalAlarmMetrics > 0
      ? [
          {
            item: 'CloudWatch alarm: SMS spend',
            arithmetic: `${optionalAlarmMetrics} × ${PRICES.alarmPerMonth}`,
            usd: optionalAlarmMetrics * PRICES.alarmPerMonth,
            optional: true,
            howToSwitchOff: 'aws.sms.monthlySpendLimitUsd: null',
          },
        ]
      : []),
    {
      item: 'Token store: SSM SecureString parameters (standard)',
      arithmetic: `${inv.tokenParameters ?? 0} × ${PRICES.ssmStandardParameterPerMonth}`,
      usd: (inv.tokenParameters ?? 0) * PRICES.ssmStandardParameterPerMonth,
      optional: false,
      howToSwitchOff: 'required: one per source and one for the bot, free',
    },
    ...(inv.secrets + (inv.referencedSecrets ?? 0) > 0
      ? [
          {
            item: 'Secrets Manager secrets',
            arithmetic: `${inv.secrets + (inv.referencedSecrets ?? 0)} × ${PRICES.secretPerMonth}`,
            usd: (inv.secrets + (inv.referencedSecrets ?? 0)) * PRICES.secretPerMonth,
            optional: true,
            howToSwitchOff: 'token: { secret } in the config; leave it out for the free SSM parameter',
          },
        ]
      : []),
    {
      item: 'CloudWatch metric: NeedsAttention (the alarm reads it)',
      arithmetic: `${series.attention} series × ${PRICES.customMetricPerMonth} × share of hours with trouble: 0 in a healthy month (${n(series.attention * PRICES.customMetricPerMonth, 2)} if every hour had some)`,
      usd: 0,
      optional: false,
      howToSwitchOff: 'required: emitted only in an hour with something for the operator',
    },
    ...(inv.dashboards > off.dashboards
      ? [
          {
            item: 'CloudWatch dashboard',
            arithmetic: `${inv.dashboards - off.dashboards} × ${PRICES.dashboardPerMonth}`,
            usd: (inv.dashboards - off.dashboards) * PRICES.dashboardPerMonth,
            optional: true,
            howToSwitchOff: 'aws.dashboard: false (the default)',
          },
          {
            item: "CloudWatch metrics the dashboard's graphs read",
            arithmetic: `${series.dashboard} series (${sources} source(s) × ${sources > 0 ? series.dashboard / sources : 0} names) × ${PRICES.customMetricPerMonth}, prorated by the hours each is emitted in (at most)`,
            usd: series.dashboard * PRICES.customMetricPerMonth,
            optional: true,
            howToSwitchOff: 'aws.dashboard: false (the default)',
          },
        ]
      : []),
  ];

  const shardAndMarginal = shardCost(input);

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
      item: 'DynamoDB: the shared send slots (only with more than one shard)',
      arithmetic: `≤ ${n(e.sendCalls * thousand)} sends × 1 WRU × ${PRICES.dynamoWriteUnitsPerMillion} / 1M (a send alone writes once; a burst about once a second)`,
      usd: (e.sendCalls * thousand * PRICES.dynamoWriteUnitsPerMillion) / 1e6,
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
    ...shardAndMarginal,
    perThousandEvents: perThousand,
    perThousandEventsUsd: sum(perThousand),
    smsPerThousandEvents: e.smsMessages * thousand,
  };
}

/** Issue 12's goals for the deployment's bill, compared by bench/evaluate.ts. */
export const COST_GOALS = {
  /** Fixed part of the example deployment, all items it has switched on. */
  fixedUsd: 2,
  /** What one more restaurant adds at the default settings. */
  marginalUsdPerSource: 0.3,
} as const;

/** Token reads a month: each token once per cache period; SSM at standard throughput is free. */
function tokenReadsPerMonth(inv: InventoryResult['asWritten'], runsPerMonth: number, cacheSeconds: number): LineItem {
  const perToken = runsPerMonth * (60 / cacheSeconds);
  const parameters = inv.tokenParameters ?? 0;
  const secrets = (inv.referencedSecrets ?? 0) + inv.secrets;
  return {
    item: 'Token reads',
    arithmetic:
      `${parameters} SSM parameter(s) + ${secrets} secret(s), each ${n(runsPerMonth)} min / ${cacheSeconds / 60} min cache = ${n(perToken)} reads: ` +
      `SSM × ${PRICES.ssmStandardApiCallsPer10k} (standard throughput) + secrets × ${PRICES.secretsApiCallsPer10k} / 10k`,
    usd: (perToken * (parameters * PRICES.ssmStandardApiCallsPer10k + secrets * PRICES.secretsApiCallsPer10k)) / 1e4,
  };
}

/** One shard at the default interval, and what each further source adds. */
function shardCost(input: CostInputs): Pick<CostModel, 'shard' | 'marginal' | 'marginalUsd' | 'scale'> {
  const interval = input.defaultIntervalSeconds ?? 10;
  const perShard = input.sourcesPerShard;
  const fastest = [...input.runs].sort(([a], [b]) => a - b)[0];
  const [measuredAt, run] = input.runs.has(interval) ? [interval, input.runs.get(interval)!] : (fastest ?? []);
  if (run === undefined || measuredAt === undefined) return {};
  const runsPerMonth = MINUTES_PER_MONTH;
  const gb = input.memoryMb / 1024;
  const runSeconds = (lastTickStartMs(interval * 1000, input.maxRunMs) + input.runWorkMs) / 1000;
  const gbSeconds = runsPerMonth * runSeconds * gb;
  const items: LineItem[] = [
    {
      item: 'Lambda compute (arm64)',
      arithmetic: `${n(runsPerMonth)} runs × ${n(runSeconds, 2)} s (${interval}-s polling) × ${n(gb, 3)} GB = ${n(gbSeconds)} GB-s × ${PRICES.lambdaArmGbSecond}`,
      usd: gbSeconds * PRICES.lambdaArmGbSecond,
    },
    {
      item: 'Lambda requests',
      arithmetic: `${n(runsPerMonth)} × ${PRICES.lambdaRequestsPerMillion} / 1M`,
      usd: (runsPerMonth * PRICES.lambdaRequestsPerMillion) / 1e6,
    },
    {
      item: 'EventBridge Scheduler',
      arithmetic: `${n(runsPerMonth)} invocations, inside the ${n(FREE_TIER.schedulerInvocations)} a month free (${n(Math.floor(FREE_TIER.schedulerInvocations / runsPerMonth))} shards' worth)`,
      usd: 0,
    },
  ];
  const shardTotal = sum(items);
  const shard: ShardCost = {
    intervalSeconds: interval,
    sourcesPerShard: perShard,
    runSeconds,
    gbSecondsPerMonth: gbSeconds,
    items,
    totalUsd: shardTotal,
  };

  const one = input.inventory.asWritten;
  const many = input.inventory.scaled;
  const extra = many ? many.sources - one.sources : 0;
  const delta = (pick: (x: typeof one) => number) => (many && extra > 0 ? (pick(many) - pick(one)) / extra : 0);
  const perSourceResources =
    delta((x) => x.alarmMetrics ?? x.alarms) * PRICES.alarmPerMonth +
    delta((x) => x.kmsKeys) * PRICES.kmsKeyPerMonth +
    delta((x) => x.secrets + (x.referencedSecrets ?? 0)) * PRICES.secretPerMonth +
    delta((x) => x.dashboards) * PRICES.dashboardPerMonth;
  const reads = Math.max(run.readUnits, run.readRequests);
  const logBytes = run.logBytes + run.logLines * LOG_EVENT_OVERHEAD_BYTES;
  const logGb = (runsPerMonth * logBytes) / 1e9;
  const dashboardSeries = one.metricSeries && one.sources > 0 ? one.metricSeries.dashboard / one.sources : 0;
  const marginal: LineItem[] = [
    {
      item: "Lambda: its share of a shard's run",
      arithmetic: `${usd4(shardTotal)} a shard / ${perShard} sources a shard`,
      usd: shardTotal / perShard,
    },
    {
      item: 'DynamoDB (its lease and state save each run)',
      arithmetic: `${n(runsPerMonth)} runs × (${n(run.writeUnits, 2)} WRU × ${PRICES.dynamoWriteUnitsPerMillion} + ${n(reads, 2)} RRU × ${PRICES.dynamoReadUnitsPerMillion}) / 1M (measured at ${measuredAt}-s polling)`,
      usd:
        (runsPerMonth *
          (run.writeUnits * PRICES.dynamoWriteUnitsPerMillion + reads * PRICES.dynamoReadUnitsPerMillion)) /
        1e6,
    },
    {
      item: 'CloudWatch Logs (its lines each run), ingested and kept 30 days',
      arithmetic: `${n(runsPerMonth)} runs × ${n(logBytes)} B (${run.logLines} lines measured at ${measuredAt}-s polling, with metadata) = ${n(logGb, 3)} GB × (${PRICES.logsIngestedPerGb} + ${PRICES.logsStoredPerGbMonth})`,
      usd: logGb * (PRICES.logsIngestedPerGb + PRICES.logsStoredPerGbMonth),
    },
    tokenReadsPerMonth(
      { ...one, tokenParameters: 1, secrets: 0, referencedSecrets: 0 },
      runsPerMonth,
      input.secretCacheSeconds,
    ),
    {
      item: `Alarms, keys, secrets, dashboards it adds (templates of ${one.sources} and ${many?.sources ?? '?'} sources)`,
      arithmetic: many
        ? `alarm metrics ${many.alarmMetrics ?? many.alarms} vs ${one.alarmMetrics ?? one.alarms}, keys ${many.kmsKeys} vs ${one.kmsKeys}, secrets ${many.secrets} vs ${one.secrets}, dashboards ${many.dashboards} vs ${one.dashboards}`
        : 'no N-source template counted',
      usd: perSourceResources,
    },
    {
      item: 'Metric series it adds',
      arithmetic:
        dashboardSeries > 0
          ? `${dashboardSeries} dashboard series × ${PRICES.customMetricPerMonth} (aws.dashboard: true)`
          : '0: without the dashboard no series carries the source',
      usd: dashboardSeries * PRICES.customMetricPerMonth,
    },
  ];
  return {
    shard,
    marginal,
    marginalUsd: sum(marginal),
    scale: many ? { one: scaleOf(one), many: scaleOf(many) } : undefined,
  };
}

function scaleOf(x: InventoryResult['asWritten']): ScaleCheck {
  return {
    sources: x.sources,
    alarms: x.alarms,
    alarmMetrics: x.alarmMetrics ?? x.alarms,
    kmsKeys: x.kmsKeys,
    secrets: x.secrets,
    dashboards: x.dashboards,
  };
}

function usd4(value: number): string {
  return `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

function sum(items: readonly LineItem[]): number {
  return items.reduce((s, i) => s + i.usd, 0);
}

/** 43800 → "43,800"; digits after the point as asked. */
export function n(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
