/**
 * Logs and metrics, through Powertools for AWS Lambda: structured JSON log lines, and CloudWatch
 * metrics as EMF (written to the log, so no PutMetricData call and no IAM for it) — only those an
 * alarm or the dashboard reads (lambda/domain/metrics.ts says which).
 *
 * Last line of defence for the token: every token the poller loads is registered here, and the
 * logger's JSON replacer blanks it out of every string it writes, whatever a caller passed in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { redact } from '../qrmenu/errors';
import type { Log, SourceMetrics } from '../domain/ports';
import {
  ATTENTION_METRIC,
  attentionWeight,
  DASHBOARD_METRICS,
  METRICS_PER_SOURCE_ENV,
  METRICS_SERVICE,
  SOURCE_DIMENSION,
  type MetricName,
} from '../domain/metrics';

const secrets = new Set<string>();

/** Tokens registered here never reach a log line. */
export function registerSecret(secret: string): void {
  if (secret.length >= 4) secrets.add(secret);
}

export function redactSecrets(text: string): string {
  return secrets.size === 0 ? text : redact(text, [...secrets]);
}

export interface LoggerOptions {
  /** Default: POWERTOOLS_LOG_LEVEL, else INFO. */
  readonly level?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

/** The poll cycle's Log port over a Powertools Logger (JSON lines on stdout). */
export function createLogger(options: LoggerOptions = {}): Log {
  const logger = new Logger({
    serviceName: METRICS_SERVICE,
    ...(options.level ? { logLevel: options.level } : {}),
    jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redactSecrets(value) : value),
  });
  return {
    debug: (message, attributes) => logger.debug(message, attributes ?? {}),
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
}

export interface SourceMetricsOptions {
  /**
   * Also emit the dashboard's names with the `source` dimension (the stack sets
   * METRICS_PER_SOURCE_ENV when the dashboard is on). Default: that variable is "true".
   */
  readonly perSource?: boolean;
}

/**
 * The poll cycle's metrics port for one source. Only what something reads becomes a CloudWatch
 * metric (lambda/domain/metrics.ts, METRIC_USE): every condition that needs the operator adds its
 * weight to the one deployment-wide series NeedsAttention (dimension `service` only, so the
 * alarm does not multiply with the sources); with `perSource`, the dashboard's names go to a
 * second Powertools Metrics carrying the `source` dimension. The rest is counted in the logs.
 */
export function createSourceMetrics(
  namespace: string,
  sourceId: string,
  options: SourceMetricsOptions = {},
): SourceMetrics {
  const perSourceOn = options.perSource ?? process.env[METRICS_PER_SOURCE_ENV] === 'true';
  const deployment = new Metrics({ namespace, serviceName: METRICS_SERVICE });
  const perSource = perSourceOn
    ? new Metrics({ namespace, serviceName: METRICS_SERVICE, defaultDimensions: { [SOURCE_DIMENSION]: sourceId } })
    : undefined;
  let pending = { perSource: 0, deployment: 0 };
  const add = (name: MetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) => {
    const weight = attentionWeight(name, value);
    if (weight > 0) {
      deployment.addMetric(ATTENTION_METRIC, MetricUnit.Count, weight);
      pending.deployment += 1;
    }
    if (perSource && DASHBOARD_METRICS.has(name)) {
      perSource.addMetric(name, unit, value);
      pending.perSource += 1;
    }
  };
  return {
    count: (name: MetricName, value = 1) => {
      if (value > 0) add(name, MetricUnit.Count, value);
    },
    milliseconds: (name: MetricName, value: number) => add(name, MetricUnit.Milliseconds, value),
    // An empty flush makes Powertools warn on every call: emit only what was gathered.
    flush: () => {
      if (pending.perSource > 0) perSource?.publishStoredMetrics();
      if (pending.deployment > 0) deployment.publishStoredMetrics();
      pending = { perSource: 0, deployment: 0 };
    },
  };
}
