/**
 * CloudWatch metrics the poller emits through EMF, as the alarms and the dashboard read them:
 * namespace `QrmenuAlerts/<deployment>`, dimensions exactly `service` (= METRICS_SERVICE) and
 * `source` (= the source id), names from lambda/obs/metric-names.ts. One place builds them, so
 * an alarm cannot watch a metric the Lambda never writes.
 */
import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  DEPLOYMENT_METRICS,
  METRICS_SERVICE,
  metricsNamespace,
  SOURCE_DIMENSION,
  type MetricName,
} from '../../lambda/domain/metrics';

export class PollerMetrics {
  readonly namespace: string;

  constructor(deploymentName: string) {
    this.namespace = metricsNamespace(deploymentName);
  }

  /** One metric of the whole deployment (those of DEPLOYMENT_METRICS: dimension `service` only). */
  deployment(name: MetricName, options: { statistic: string; period: Duration; label?: string }): cloudwatch.Metric {
    if (!DEPLOYMENT_METRICS.has(name)) throw new Error(`${name} is not emitted for the whole deployment`);
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: METRICS_SERVICE },
      statistic: options.statistic,
      period: options.period,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  }

  /** One metric of one source. */
  of(
    name: MetricName,
    sourceId: string,
    options: { statistic: string; period: Duration; label?: string },
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: METRICS_SERVICE, [SOURCE_DIMENSION]: sourceId },
      statistic: options.statistic,
      period: options.period,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  }
}
