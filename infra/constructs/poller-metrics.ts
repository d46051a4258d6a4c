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
