/**
 * CloudWatch metrics the poller emits through EMF, as the alarms and the dashboard read them:
 * namespace `QrmenuAlerts/<deployment>`; the deployment-wide NeedsAttention (dimension `service`
 * = METRICS_SERVICE) and, for the dashboard, its names per source (dimensions `service` and
 * `source` = the source id). Names and uses from lambda/domain/metrics.ts. One place builds them,
 * so an alarm or a graph cannot read a metric the Lambda never writes.
 */
import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  ATTENTION_METRIC,
  DASHBOARD_METRICS,
  METRICS_SERVICE,
  metricsNamespace,
  SOURCE_DIMENSION,
  type MetricName,
} from '../../lambda/domain/metrics';

export interface MetricOptions {
  readonly statistic: string;
  readonly period: Duration;
  readonly label?: string;
}

export class PollerMetrics {
  readonly namespace: string;

  constructor(deploymentName: string) {
    this.namespace = metricsNamespace(deploymentName);
  }

  /** NeedsAttention: the weighted sum of every condition that needs the operator, whole deployment. */
  attention(options: MetricOptions): cloudwatch.Metric {
    return this.metric(ATTENTION_METRIC, { service: METRICS_SERVICE }, options);
  }

  /** One dashboard metric of one source (emitted only while the dashboard is on). */
  of(name: MetricName, sourceId: string, options: MetricOptions): cloudwatch.Metric {
    if (!DASHBOARD_METRICS.has(name)) throw new Error(`${name} is not emitted per source (see METRIC_USE)`);
    return this.metric(name, { service: METRICS_SERVICE, [SOURCE_DIMENSION]: sourceId }, options);
  }

  /**
   * The `limit` sources with the highest `fn` of one dashboard metric, a line each labelled by
   * the metric's name and its source id: one Metrics Insights query, whatever the number of sources (a graph holds at
   * most 500 metrics; a line per source of nine metrics outgrows it past 55 sources).
   * Metrics Insights aggregates with AVG, COUNT, MAX, MIN and SUM only: no percentiles.
   */
  topSources(name: MetricName, fn: 'SUM' | 'MAX', limit: number, period: Duration): cloudwatch.MathExpression {
    if (!DASHBOARD_METRICS.has(name)) throw new Error(`${name} is not emitted per source (see METRIC_USE)`);
    return new cloudwatch.MathExpression({
      expression:
        `SELECT ${fn}("${name}") FROM SCHEMA("${this.namespace}", service, ${SOURCE_DIMENSION}) ` +
        `WHERE service = '${METRICS_SERVICE}' GROUP BY ${SOURCE_DIMENSION} ORDER BY ${fn}() DESC LIMIT ${limit}`,
      // A dynamic label: the metric's name, then what CloudWatch labels each line with (the source id).
      label: `${name} \${LABEL}`,
      period,
    });
  }

  private metric(name: string, dimensionsMap: Record<string, string>, options: MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap,
      statistic: options.statistic,
      period: options.period,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  }
}
