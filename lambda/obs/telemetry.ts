/**
 * Logs and metrics, through Powertools for AWS Lambda: structured JSON log lines, and CloudWatch
 * metrics as EMF (written to the log, so no PutMetricData call and no IAM for it).
 *
 * Last line of defence for the token: every token the poller loads is registered here, and the
 * logger's JSON replacer blanks it out of every string it writes, whatever a caller passed in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { redact } from '../qrmenu/errors';
import type { Log, SourceMetrics } from '../domain/ports';
import { DEPLOYMENT_METRICS, METRICS_SERVICE, SOURCE_DIMENSION, type MetricName } from '../domain/metrics';

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

/**
 * One Powertools Metrics per source, carrying the `source` dimension; the metrics of
 * `DEPLOYMENT_METRICS` go also to a second one without it (one alarm for the whole deployment).
 */
export function createSourceMetrics(namespace: string, sourceId: string): SourceMetrics {
  const perSource = new Metrics({
    namespace,
    serviceName: METRICS_SERVICE,
    defaultDimensions: { [SOURCE_DIMENSION]: sourceId },
  });
  const deployment = new Metrics({ namespace, serviceName: METRICS_SERVICE });
  let pending = { perSource: 0, deployment: 0 };
  const add = (name: MetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) => {
    perSource.addMetric(name, unit, value);
    pending.perSource += 1;
    if (DEPLOYMENT_METRICS.has(name)) {
      deployment.addMetric(name, unit, value);
      pending.deployment += 1;
    }
  };
  return {
    count: (name: MetricName, value = 1) => {
      if (value > 0) add(name, MetricUnit.Count, value);
    },
    milliseconds: (name: MetricName, value: number) => add(name, MetricUnit.Milliseconds, value),
    // An empty flush makes Powertools warn on every call: emit only what was gathered.
    flush: () => {
      if (pending.perSource > 0) perSource.publishStoredMetrics();
      if (pending.deployment > 0) deployment.publishStoredMetrics();
      pending = { perSource: 0, deployment: 0 };
    },
  };
}
