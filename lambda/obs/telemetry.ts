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
import { METRICS_SERVICE, SOURCE_DIMENSION, type MetricName } from '../domain/metrics';

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

/** One Powertools Metrics per source, carrying the `source` dimension. */
export function createSourceMetrics(namespace: string, sourceId: string): SourceMetrics {
  const metrics = new Metrics({
    namespace,
    serviceName: METRICS_SERVICE,
    defaultDimensions: { [SOURCE_DIMENSION]: sourceId },
  });
  let pending = 0;
  return {
    count: (name: MetricName, value = 1) => {
      if (value <= 0) return;
      metrics.addMetric(name, MetricUnit.Count, value);
      pending += 1;
    },
    milliseconds: (name: MetricName, value: number) => {
      metrics.addMetric(name, MetricUnit.Milliseconds, value);
      pending += 1;
    },
    // An empty flush makes Powertools warn on every call: emit only what was gathered.
    flush: () => {
      if (pending === 0) return;
      pending = 0;
      metrics.publishStoredMetrics();
    },
  };
}
