/**
 * The alarms that page the operator through the ops topic (state changes to ALARM and back to OK).
 * None multiplies with the sources, so 1 and 500 sources have the same alarms:
 *   needs-attention — the poll cycle's one deployment-wide series NeedsAttention reached its
 *     threshold: a source not polled for 5 minutes, its token rejected or unreadable, an alert
 *     given up on, a possible gap, DynamoDB trouble, a failing hash=none, a poison event, an
 *     outcome unwritten, Telegram failing, a call nobody answered (each condition weighted so that
 *     its own threshold reaches the alarm's: lambda/domain/metrics.ts). Which source and what: the
 *     description carries the CloudWatch Logs Insights query over the poller's logs (every line
 *     names its source), and the poller's own ops e-mails name the source where it sends one;
 *   poller — the poller was not invoked in 5 minutes, failed or was throttled (metric math over
 *     its AWS/Lambda metrics);
 *   schedule-dlq — the scheduler could not invoke it; sms-spend — SMS spend nearing the limit.
 * Names are `qrmenu-alerts-<deployment>.<what>` (names.ts): the ops topic trusts exactly those.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ATTENTION_ALARM_THRESHOLD } from '../../lambda/domain/metrics';
import { alarmName } from '../config/names';
import type { PollerMetrics } from './poller-metrics';

const FIVE_MINUTES = Duration.minutes(5);
/** The SMS spend alarm fires at this share of the monthly limit, before SNS stops sending. */
export const SMS_SPEND_ALARM_SHARE = 0.8;
/** CloudWatch refuses longer alarm descriptions. */
const MAX_DESCRIPTION = 1024;
/**
 * The Logs Insights query that names the source and the problem behind needs-attention: every
 * warning and error of the poller, counted per source and message (docs/DEPLOY.md, section 5).
 */
export const WHO_NEEDS_ATTENTION_QUERY =
  'filter level in ["ERROR", "WARN"] | stats count(*) as times, max(@timestamp) as last by source, message | sort times desc | limit 50';
/** The shape most alarms share: one occurrence in the period alarms; no data means all is well. */
const ANY_OCCURRENCE = {
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  threshold: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const;

export interface PollerAlarmsProps {
  readonly deploymentName: string;
  readonly metrics: PollerMetrics;
  readonly fn: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly opsTopic: sns.ITopic;
  /** The account's SMS monthly spend limit (USD); no spend alarm when null. */
  readonly smsMonthlySpendLimitUsd: number | null;
}

export class PollerAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;
  private readonly props: PollerAlarmsProps;

  constructor(scope: Construct, id: string, props: PollerAlarmsProps) {
    super(scope, id);
    this.props = props;
    this.action = new actions.SnsAction(props.opsTopic);

    this.add('needs-attention', {
      description:
        'Something in the poller needs you: a QR-menu server not polled for 5 minutes, its token rejected or unreadable, ' +
        'an alert given up on, events possibly missed, DynamoDB or Telegram failing, a call nobody answered (docs/DEPLOY.md, section 5). ' +
        `Which restaurant and what: CloudWatch > Logs Insights, the poller's log group (stack output PollerLogGroup), last hour: ${WHO_NEEDS_ATTENTION_QUERY}`,
      metric: props.metrics.attention({ statistic: 'Sum', period: FIVE_MINUTES }),
      ...ANY_OCCURRENCE,
      threshold: ATTENTION_ALARM_THRESHOLD,
    });

    const lambdaMetric = (metric: cloudwatch.Metric) => metric.with({ period: FIVE_MINUTES, statistic: 'Sum' });
    this.add('poller', {
      description:
        'The poller Lambda was not invoked for 5 minutes (the schedule disabled?), failed (crash, timeout, out of memory) ' +
        'or was throttled (runs overlap more than the reserved concurrency allows, or the account is out of concurrency): see its logs.',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(invocations, 0) < 1, 1, 0) + FILL(errors, 0) + FILL(throttles, 0)',
        usingMetrics: {
          invocations: lambdaMetric(props.fn.metricInvocations()),
          errors: lambdaMetric(props.fn.metricErrors()),
          throttles: lambdaMetric(props.fn.metricThrottles()),
        },
        period: FIVE_MINUTES,
        label: 'not invoked (1) + errors + throttles',
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      // No data at all: the poller was never invoked.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.add('schedule-dlq', {
      description:
        'EventBridge Scheduler could not invoke the poller (see the messages in the dead-letter queue for the reason).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      ...ANY_OCCURRENCE,
    });
    if (props.smsMonthlySpendLimitUsd !== null) {
      const threshold = Math.round(props.smsMonthlySpendLimitUsd * SMS_SPEND_ALARM_SHARE * 100) / 100;
      this.add('sms-spend', {
        description: `SMS spend this month passed ${threshold} USD, ${SMS_SPEND_ALARM_SHARE * 100} % of the account's SMS limit of ${props.smsMonthlySpendLimitUsd} USD; at the limit SNS stops sending SMS until next month. Raise the limit (docs/DEPLOY.md).`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/SNS',
          metricName: 'SMSMonthToDateSpentUSD',
          statistic: 'Maximum',
          period: FIVE_MINUTES,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  private add(
    what: string,
    options: Pick<cloudwatch.AlarmProps, 'metric' | 'comparisonOperator' | 'threshold' | 'treatMissingData'> & {
      description: string;
    },
  ): void {
    if (options.description.length > MAX_DESCRIPTION)
      throw new Error(
        `the description of alarm "${what}" is longer than CloudWatch's ${MAX_DESCRIPTION} characters: shorten it`,
      );
    const alarm = new cloudwatch.Alarm(this, what, {
      alarmName: alarmName(this.props.deploymentName, what),
      alarmDescription: options.description,
      metric: options.metric,
      comparisonOperator: options.comparisonOperator,
      threshold: options.threshold,
      treatMissingData: options.treatMissingData,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}
