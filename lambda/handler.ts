/**
 * The Lambda entry point. EventBridge Scheduler invokes it once a minute per shard, the event
 * naming the shard (`{ "shard": 3 }`; none = shard 0, see config/shards.ts); it polls that shard's
 * sources tick after tick (polling.intervalSeconds apart) until shortly before its deadline, then
 * saves each source's state, flushes each source's metrics once and logs one summary line.
 * Shard 0 also reads the staff bot's presses. Everything is wired here from the config (validated
 * at synth, its seal checked at cold start, so a broken deployment fails loudly) and the
 * environment the CDK stack sets:
 * see lambda/config/runtime.ts. `npm start` runs this very handler against local emulators.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { RUNTIME_ENV, BUNDLED_CONFIG_FILE } from './config/runtime';
import type { AlertsConfig } from './config/schema';
import { openSealedConfig } from './config/sealed';
import { ConfigError, recordTtlSeconds, sourceName, TELEGRAM_DEFAULTS, usesTelegram } from './config/settings';
import { TelegramChannel, telegramStaffBot, telegramTokenResolver } from './notify/telegram';
import { tokenResolver } from './config/tokens';
import { createDeliverer } from './notify/deliverer';
import { createOpsNotifier } from './notify/ops';
import type { Deliverer } from './domain/delivery';
import { feed } from './obs/feed';
import { metricsNamespace } from './domain/metrics';
import { createLogger, createSourceMetrics, registerSecret } from './obs/telemetry';
import { runInvocation, type InvocationReport } from './poller/invocation';
import { InvocationMetrics } from './poller/invocation-metrics';
import { LEAD_SHARD, shardOfEvent, shardsOf } from './config/shards';
import { systemClock, type Clock, type Log, type OpsNotifier, type SourceMetrics, type StaffBot } from './domain/ports';
import type { FetchEvents } from './domain/fetch';
import { PressLoop } from './poller/presses';
import { SourcePoller } from './poller/source-poller';
import { QrMenuClient } from './qrmenu/client';
import { StateStore } from './state/store';
import { CLIENT_DEFAULTS } from './aws/clients';
import { DEFAULT_RETRY_DELAYS } from './domain/record';

/**
 * The longest one invocation polls: the next scheduled one starts a minute after this one, 1.5 s
 * after this one's last poll (calls in that gap wait for its first poll; at 3 s, one call in
 * twenty did, which alone set the latency's p95).
 */
export const MAX_RUN_MS = 58_500;
/** Time kept back at the end of an invocation for the last tick and saving the state. */
export const SAFETY_MS = 12_000;

export interface PollHandlerDeps {
  readonly config: AlertsConfig;
  readonly store: StateStore;
  readonly deliverer: Deliverer;
  readonly log: Log;
  readonly metricsFor: (sourceId: string) => SourceMetrics;
  readonly fetchFor: (source: AlertsConfig['sources'][number]) => FetchEvents;
  readonly clock?: Clock;
  readonly ops?: OpsNotifier;
  /** The staff bot, when the config has Telegram: its presses are read during each invocation. */
  readonly staff?: StaffBot;
  /** Metrics of the staff loop (no source). Default: those of the first source. */
  readonly staffMetrics?: SourceMetrics;
}

/** What one invocation did: its shard (absent when the event named none the config has) and its sources. */
export interface HandlerReport extends InvocationReport {
  readonly shard?: number;
  readonly sources: number;
}

export type PollHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<HandlerReport>;

const NOTHING_DONE: InvocationReport = { ticks: 0, polls: 0, delivered: 0, errors: 0, acknowledged: 0 };

/** The handler, from its dependencies (tests and the local runner may pass their own). */
export function createPollHandler(deps: PollHandlerDeps): PollHandler {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const shards = shardsOf(config);
  // Made on first use: a container polls only the shards it is invoked for.
  const fetchers = new Map<string, FetchEvents>();
  const fetcherOf = (source: AlertsConfig['sources'][number]): FetchEvents => {
    if (!fetchers.has(source.id)) fetchers.set(source.id, deps.fetchFor(source));
    return fetchers.get(source.id)!;
  };
  const metricsBySource = new Map<string, SourceMetrics>();
  const metricsOf = (sourceId: string): SourceMetrics => {
    if (!metricsBySource.has(sourceId)) metricsBySource.set(sourceId, deps.metricsFor(sourceId));
    return metricsBySource.get(sourceId)!;
  };
  const sourceNames = new Map(config.sources.map((source) => [source.id, sourceName(source)]));
  const settings = {
    intervalMs: config.polling.intervalSeconds * 1000,
    retentionMs: config.polling.retentionSeconds * 1000,
    reconcileMs: config.polling.reconcileSeconds * 1000,
    cooldownMs: config.delivery.cooldownSeconds * 1000,
    claimTimeoutMs: config.delivery.claimTimeoutSeconds * 1000,
    maxAttempts: config.delivery.maxAttempts,
    retryForMs: config.delivery.retryForSeconds * 1000,
    ...DEFAULT_RETRY_DELAYS,
    sendBudgetMs: CLIENT_DEFAULTS.sendTimeoutMs,
    deliverBacklog: config.polling.deliverBacklog,
    recordTtlSeconds: recordTtlSeconds(config),
    concurrency: config.delivery.concurrency,
  };
  return async (event, context) => {
    const which = shardOfEvent(event, shards.length);
    if (which.shard === undefined) {
      deps.log.error('this invocation polls nothing: its event names no shard of the config', {
        error: which.error,
        shards: shards.length,
      });
      return { ...NOTHING_DONE, sources: 0 };
    }
    const { shard } = which;
    const sources = shards[shard]!;
    const start = clock.now();
    const hardEnd = start + context.getRemainingTimeInMillis();
    const stopAt = Math.min(start + MAX_RUN_MS, hardEnd - SAFETY_MS);
    // The invocation id makes the lease owner unique; a retried delivery of the same invocation must not share it.
    const owner = `${context.awsRequestId}/${randomUUID().slice(0, 8)}`;
    // Gathered over the invocation, flushed once at its end (InvocationMetrics).
    const gathered = new Map<string, InvocationMetrics>();
    const invocationMetrics = (key: string, target: () => SourceMetrics): InvocationMetrics => {
      if (!gathered.has(key)) gathered.set(key, new InvocationMetrics(target()));
      return gathered.get(key)!;
    };
    const metricsFor = (sourceId: string) => invocationMetrics(`source:${sourceId}`, () => metricsOf(sourceId));
    const pollers = sources.map(
      (source) =>
        new SourcePoller({
          source: { id: source.id, name: sourceName(source) },
          settings,
          owner,
          store: deps.store,
          fetchEvents: fetcherOf(source),
          deliverer: deps.deliverer,
          clock,
          log: deps.log,
          metrics: metricsFor(source.id),
          ...(deps.ops ? { ops: deps.ops } : {}),
          observer: (entry) => feed.emit('entry', entry),
        }),
    );
    // Deployment-wide work runs in the lead shard only (the bot's lease would admit one reader anyway).
    const presses =
      deps.staff && shard === LEAD_SHARD
        ? new PressLoop({
            bot: TELEGRAM_BOT,
            staff: deps.staff,
            store: deps.store,
            sources: sourceNames,
            owner,
            clock,
            log: deps.log,
            metrics: invocationMetrics('staff', () => deps.staffMetrics ?? metricsOf(config.sources[0]!.id)),
            metricsFor,
            observer: (entry) => feed.emit('entry', entry),
            ...(deps.ops ? { ops: deps.ops } : {}),
          })
        : undefined;
    let report = NOTHING_DONE;
    try {
      report = await runInvocation({
        pollers,
        clock,
        log: deps.log,
        intervalMs: settings.intervalMs,
        stopAt,
        leaseUntil: hardEnd,
        concurrency: config.polling.concurrency,
        ...(presses ? { presses } : {}),
      });
    } finally {
      for (const metrics of gathered.values()) metrics.flush();
    }
    const done: HandlerReport = { ...report, shard, sources: sources.length };
    deps.log.info('invocation done', { ...done });
    return done;
  };
}

/**
 * Read the config synth validated and sealed (lambda/config/sealed.ts: no zod in the bundle):
 * ALERTS_CONFIG (inline JSON), else the file next to the handler.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  const inline = env[RUNTIME_ENV.configJson];
  const file = env[RUNTIME_ENV.configFile] ?? new URL(`./${BUNDLED_CONFIG_FILE}`, import.meta.url);
  const where =
    inline !== undefined ? `the ${RUNTIME_ENV.configJson} environment variable` : `the config file ${String(file)}`;
  let json: unknown;
  try {
    json = JSON.parse(inline ?? readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`cannot be read as JSON: ${error instanceof Error ? error.message : String(error)}`], where);
  }
  return openSealedConfig(json, where);
}

function requiredEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError([`${name} is not set (the CDK stack sets it)`], 'the Lambda environment');
  return value;
}

/** The production wiring, from the environment. */
export function createDefaultHandler(env: NodeJS.ProcessEnv = process.env): PollHandler {
  const config = loadRuntimeConfig(env);
  // The role's credentials (Lambda puts them in the environment) never reach a log line, even quoted in an AWS error.
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) registerSecret(env[name] ?? '');
  const log = createLogger();
  const topicArn = env[RUNTIME_ENV.alertsTopicArn];
  const opsTopicArn = env[RUNTIME_ENV.opsTopicArn];
  const namespace = metricsNamespace(config.name);
  const telegram = telegramOf(config);
  const store = new StateStore({ tableName: requiredEnv(env, RUNTIME_ENV.stateTable) });
  return createPollHandler({
    config,
    store,
    deliverer: createDeliverer({
      config,
      ...(topicArn ? { topicArn } : {}),
      ...(telegram ? { telegram } : {}),
      sendSlots: store,
      onPacingFallback: (message) => log.warn(message, {}),
    }),
    ...(telegram ? { staff: telegramStaffBot(telegram, { locale: config.locale }) } : {}),
    staffMetrics: createSourceMetrics(namespace, STAFF_DIMENSION),
    log,
    metricsFor: (sourceId) => createSourceMetrics(namespace, sourceId),
    fetchFor: (source) => qrMenuFetcher(source, config, { log }),
    ...(opsTopicArn ? { ops: createOpsNotifier({ topicArn: opsTopicArn }) } : {}),
  });
}

/** The name of the bot's item in the state table (one bot per deployment). */
export const TELEGRAM_BOT = 'telegram';
/** The `source` dimension of the staff loop's metrics (presses are not one source's). */
export const STAFF_DIMENSION = 'staff';

/** The Telegram channel of a config that has routes with chats (or a telegram section); else undefined. */
export function telegramOf(config: AlertsConfig, options: { clock?: Clock } = {}): TelegramChannel | undefined {
  if (!usesTelegram(config)) return undefined;
  const telegram = config.telegram ?? TELEGRAM_DEFAULTS;
  return new TelegramChannel({
    token: telegramTokenResolver(telegram.token),
    ...(telegram.apiRoot ? { apiRoot: telegram.apiRoot.replace(/\/+$/, '') } : {}),
    locale: config.locale,
    timeZone: config.timeZone,
    acknowledgeCodes: telegram.acknowledgeCodes,
    ...(options.clock ? { clock: { now: options.clock.now, sleep: (ms: number) => options.clock!.sleep(ms) } } : {}),
  });
}

/** How the poller asks one source for events: the QR-menu client with the config's settings. */
export function qrMenuFetcher(
  source: AlertsConfig['sources'][number],
  config: AlertsConfig,
  options: { log: Log; clock?: Clock },
): FetchEvents {
  const client = new QrMenuClient({
    baseUrl: source.url,
    token: tokenResolver(source),
    ...(source.tls ? { tls: source.tls } : {}),
    requestTimeoutMs: config.polling.requestTimeoutMs,
    maxResponseBytes: config.polling.maxResponseBytes,
    retries: config.polling.retries,
    now: (options.clock ?? systemClock).now,
    onWarning: (message) => options.log.warn(message, { source: source.id }),
  });
  return (cursor, fetchOptions) => client.fetchEvents(cursor, fetchOptions);
}

let cached: PollHandler | undefined;

/** The Lambda handler: wired once per container (cold start), reused by every invocation. */
export const handler: PollHandler = (event, context) => {
  cached ??= createDefaultHandler();
  return cached(event, context);
};
