/**
 * The CloudWatch dashboard `qrmenu-alerts-<deployment>`: alarm states at the top, then per
 * metric family one graph — events (received, new, suppressed, duplicates), deliveries
 * (delivered, retries, failed, latency), poll health (successes and each kind of error, possible
 * gaps), tick latency — and the poller Lambda itself. Up to NAMED_LINES_UP_TO sources each graph
 * has a line per source and metric, named after the source, with percentiles; beyond, each
 * metric is one Metrics Insights query showing the TOP_SOURCES sources with the most (by source
 * id; maxima instead of percentiles), so the dashboard keeps one size for 11 or 500 sources.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRIC, type MetricName } from '../../lambda/domain/metrics';
import type { PollerMetrics } from './poller-metrics';

const MINUTE = Duration.minutes(1);
/** Up to this many sources, every graph has a named line per source (nine metrics × 10 = 90 in the largest graph). */
export const NAMED_LINES_UP_TO = 10;
/** Beyond, each metric's graph shows the sources with the most of it: this many. */
export const TOP_SOURCES = 10;

export interface PollerDashboardProps {
  readonly dashboardName: string;
  readonly title: string;
  readonly sources: readonly { readonly id: string; readonly name: string }[];
  readonly metrics: PollerMetrics;
  readonly fn: lambda.IFunction;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

export class PollerDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PollerDashboardProps) {
    super(scope, id);
    const { metrics, sources } = props;
    const named = sources.length <= NAMED_LINES_UP_TO;
    const perSource = (names: readonly MetricName[], statistic: string): cloudwatch.IMetric[] =>
      named ? namedLines(names, statistic) : topLines(names, statistic);
    const topLines = (names: readonly MetricName[], statistic: string) =>
      names.map((name) => metrics.topSources(name, statistic === 'Sum' ? 'SUM' : 'MAX', TOP_SOURCES, MINUTE));
    const namedLines = (names: readonly MetricName[], statistic: string) =>
      sources.flatMap((source) =>
        names.map((name) =>
          metrics.of(name, source.id, {
            statistic,
            period: MINUTE,
            label: `${source.name}: ${name}${statistic === 'Sum' ? '' : ` ${statistic}`}`,
          }),
        ),
      );
    const top = named ? '' : ` — the ${TOP_SOURCES} sources with the most`;
    const graph = (title: string, left: cloudwatch.IMetric[], unit?: string) =>
      new cloudwatch.GraphWidget({
        title: `${title}${top}`,
        left,
        width: 12,
        height: 6,
        ...(unit ? { leftYAxis: { label: unit, showUnits: false } } : {}),
      });

    /** p50 and p99 per source while lines are named; the maxima of the top sources beyond (no percentiles there). */
    const latency = (title: string, name: MetricName) =>
      named
        ? graph(`${title} (p50, p99)`, [...perSource([name], 'p50'), ...perSource([name], 'p99')], 'ms')
        : graph(`${title} (maximum)`, perSource([name], 'Maximum'), 'ms');

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.title}\nGuest events from the QR-menu servers and the alerts sent for them. Counts per minute; latencies in ms.`,
        width: 24,
        height: 2,
      }),
    );
    if (props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }),
      );
    }
    this.dashboard.addWidgets(
      graph(
        'Events',
        perSource([METRIC.eventsReceived, METRIC.eventsNew, METRIC.eventsSuppressed, METRIC.duplicatesSkipped], 'Sum'),
      ),
      graph('Deliveries', perSource([METRIC.delivered, METRIC.deliveryRetries, METRIC.deliveryFailed], 'Sum')),
    );
    this.dashboard.addWidgets(
      graph(
        'Polls and failures',
        perSource(
          [
            METRIC.pollSucceeded,
            METRIC.pollErrors,
            METRIC.authErrors,
            METRIC.secretErrors,
            METRIC.unreachableErrors,
            METRIC.tlsErrors,
            METRIC.serverErrors,
            METRIC.badResponseErrors,
            METRIC.possibleGap,
          ],
          'Sum',
        ),
      ),
      latency('Tick latency', METRIC.tickLatency),
    );
    this.dashboard.addWidgets(
      latency('Delivery latency, first seen → sent', METRIC.deliveryLatency),
      new cloudwatch.GraphWidget({
        title: 'Poller Lambda',
        left: [
          props.fn.metricInvocations({ period: MINUTE }),
          props.fn.metricErrors({ period: MINUTE }),
          props.fn.metricThrottles({ period: MINUTE }),
        ],
        right: [props.fn.metricDuration({ period: MINUTE, statistic: 'Maximum' })],
        width: 12,
        height: 6,
      }),
    );
  }
}
