/**
 * Counts the fixed-cost resources a deployment really gets, by synthesizing the CDK stack of a
 * deployment config (bundling skipped: the template is otherwise the same) — as written, again
 * with every optional paid item switched off in the config's `aws` section (`dashboard: false`,
 * `sms.monthlySpendLimitUsd: null`) to show that the switches work, and again with the config's
 * first source repeated to `scaleSources` sources, so that what one more restaurant adds is read
 * from templates too (alarms must not grow with the sources).
 * Alarm metrics are counted as CloudWatch bills them: one per metric an alarm reads (a metric-math
 * alarm over three metrics is three). Metric series come from the poller's metric definitions
 * (lambda/domain/metrics.ts, metricSeries); the token parameters from the stack's token list.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSeries } from '../../lambda/domain/metrics';
import { parseDeploymentConfig, readConfigFile } from '../../infra/config/deployment';
import { createQrmenuApp } from '../../infra/qrmenu-app';

export interface StackInventory {
  readonly sources: number;
  readonly secrets: number;
  /** Secrets Manager secrets the config names itself (`token: { secret }`), read by the poller. */
  readonly referencedSecrets: number;
  /** SSM SecureString parameters the operator puts (tokens: one per source, one for the bot). */
  readonly tokenParameters: number;
  readonly kmsKeys: number;
  readonly alarms: number;
  /** What CloudWatch bills alarms by: the metrics they read. */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly sqsQueues: number;
  /** Distinct CloudWatch series the poller can emit (metricSeries). */
  readonly metricSeries: { readonly attention: number; readonly dashboard: number };
}

export interface InventoryResult {
  readonly configPath: string;
  readonly asWritten: StackInventory;
  /** With `aws.dashboard: false` and `aws.sms.monthlySpendLimitUsd: null`. */
  readonly optionalOff: StackInventory;
  /** The config with its first source repeated to `scaleSources` sources (absent in old results). */
  readonly scaled?: StackInventory;
}

/** The config's `aws` switches that remove the optional paid items. */
export const OPTIONAL_OFF = { dashboard: false, sms: { monthlySpendLimitUsd: null } } as const;
/** The size of the generated config the marginal cost per source is read from. */
export const SCALE_SOURCES = 50;

export function stackInventory(configPath: string, scaleSources = SCALE_SOURCES): InventoryResult {
  const raw = readConfigFile(configPath) as Record<string, unknown>;
  const aws = (raw.aws ?? {}) as Record<string, unknown>;
  const off = {
    ...raw,
    aws: { ...aws, dashboard: OPTIONAL_OFF.dashboard, sms: { ...((aws.sms ?? {}) as object), ...OPTIONAL_OFF.sms } },
  };
  return {
    configPath,
    asWritten: inventoryOf(raw, configPath),
    optionalOff: inventoryOf(off, `${configPath} (optional items off)`),
    scaled: inventoryOf(withSources(raw, scaleSources), `${configPath} (${scaleSources} sources)`),
  };
}

/** The config with its first source repeated `count` times (ids s1…sN, each its own address). */
export function withSources(raw: Record<string, unknown>, count: number): Record<string, unknown> {
  const [first] = (raw.sources ?? []) as Record<string, unknown>[];
  if (!first) throw new Error('the config has no source to repeat');
  const sources = Array.from({ length: count }, (_, i) => ({
    ...first,
    id: `s${i + 1}`,
    name: `${String(first.name ?? first.id)} ${i + 1}`,
    url: `https://198.51.100.${(i % 250) + 1}:${8443 + Math.floor(i / 250)}`,
  }));
  return { ...raw, sources };
}

function inventoryOf(input: unknown, where: string): StackInventory {
  const config = parseDeploymentConfig(input, where);
  const { app, stack } = createQrmenuApp(config, {
    outdir: mkdtempSync(join(tmpdir(), 'qrmenu-bench-synth-')),
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties?: { Metrics?: { MetricStat?: unknown }[] } }>;
  };
  const resources = Object.values(template.Resources);
  const count = (type: string) => resources.filter((r) => r.Type === type).length;
  const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const refs = [...stack.tokens.tokens.map((t) => t.ref), ...(stack.tokens.bot ? [stack.tokens.bot] : [])];
  return {
    sources: config.sources.length,
    secrets: count('AWS::SecretsManager::Secret'),
    referencedSecrets: new Set(refs.flatMap((ref) => ('secret' in ref ? [ref.secret] : []))).size,
    tokenParameters: refs.filter((ref) => 'ssm' in ref).length,
    kmsKeys: count('AWS::KMS::Key'),
    alarms: alarms.length,
    alarmMetrics: alarms.reduce(
      (sum, alarm) => sum + (alarm.Properties?.Metrics?.filter((m) => m.MetricStat !== undefined).length || 1),
      0,
    ),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    sqsQueues: count('AWS::SQS::Queue'),
    metricSeries: metricSeries({ sources: config.sources.length, dashboard: config.aws.dashboard }),
  };
}
