/**
 * The alarms that page the operator through the ops topic (state changes to ALARM and back to OK):
 *   per source — no successful poll for 5 minutes (missing data counts as breaching: a poller
 *   that stopped writing metrics is the worst case), token rejected, token unreadable (Secrets
 *   Manager, not the server), deliveries given up on, a possible gap (events may have expired unseen);
 *   overall — DynamoDB trouble, a failing hash=none, poison events, outcomes unwritten at a run's
 *   end, Telegram failures, calls nobody answered after the last escalation step (metrics of the
 *   whole deployment: one alarm each, whatever the sources), poller errors and throttles, a
 *   non-empty schedule dead-letter queue, and the SMS month-to-date spend nearing the account's limit.
 * Names are `qrmenu-alerts-<deployment>.<source>.<what>` (names.ts): the ops topic trusts exactly those.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../lambda/domain/metrics';
import { alarmName } from '../config/names';
import type { PollerMetrics } from './poller-metrics';

const FIVE_MINUTES = Duration.minutes(5);
/**
 * The "token unreadable" alarm fires at this many failed reads in 5 minutes: a read is retried every
 * tick, so a lasting outage (or an empty secret) makes ≈ 30, a single throttled read makes 1.
 */
export const SECRET_ERRORS_ALARM_THRESHOLD = 3;
/** DynamoDB trouble alarms at this many failed calls in 5 minutes (one throttled call is retried and harmless). */
export const STATE_ERRORS_ALARM_THRESHOLD = 5;
/** Telegram trouble alarms at this many failed chat sends in 5 minutes. */
export const TELEGRAM_FAILURES_ALARM_THRESHOLD = 3;
/** The SMS spend alarm fires at this share of the monthly limit, before SNS stops sending. */
export const SMS_SPEND_ALARM_SHARE = 0.8;
/** The shape most alarms share: one occurrence in the period alarms; no data means all is well. */
const ANY_OCCURRENCE = {
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  threshold: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const;

export interface PollerAlarmsProps {
  readonly deploymentName: string;
  readonly sources: readonly { readonly id: string; readonly name: string }[];
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
    const { metrics } = props;

    for (const source of props.sources) {
      const sum = (name: (typeof METRIC)[keyof typeof METRIC]) =>
        metrics.of(name, source.id, { statistic: 'Sum', period: FIVE_MINUTES });
      this.add('no-poll', source.id, {
        description: `No successful poll of ${source.name} for 5 minutes: the server is unreachable, rejects the token, or the poller is not running. Events older than the server's queue time are lost.`,
        metric: sum(METRIC.pollSucceeded),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.add('auth-errors', source.id, {
        description: `The QR-menu server ${source.name} rejects the token: put the current "Secret key" into the source's secret (docs/DEPLOY.md).`,
        metric: sum(METRIC.authErrors),
        ...ANY_OCCURRENCE,
      });
      this.add('secret-errors', source.id, {
        description: `The token of ${source.name} cannot be read — not a rejection by the server: Secrets Manager is unreachable, throttling or denying the poller, or the secret is empty (put the token, docs/DEPLOY.md).`,
        metric: sum(METRIC.secretErrors),
        ...ANY_OCCURRENCE,
        threshold: SECRET_ERRORS_ALARM_THRESHOLD,
      });
      this.add('delivery-failed', source.id, {
        description: `Alerts from ${source.name} were given up on after their delivery attempts (SES/SNS refused them): see the poller's logs.`,
        metric: sum(METRIC.deliveryFailed),
        ...ANY_OCCURRENCE,
      });
      this.add('possible-gap', source.id, {
        description: `The last successful poll of ${source.name} is older than the server keeps events: some guest calls may have been missed.`,
        metric: sum(METRIC.possibleGap),
        ...ANY_OCCURRENCE,
      });
    }

    // Deployment-wide: one alarm whatever the number of sources; the logs name the source.
    const total = (name: (typeof METRIC)[keyof typeof METRIC], period = FIVE_MINUTES) =>
      metrics.deployment(name, { statistic: 'Sum', period });
    this.add('state-errors', undefined, {
      description:
        'The poller keeps failing to read or write its DynamoDB table (throttling, timeouts, 5xx): alerts are delayed (never lost while it recovers). See the poller logs ("a DynamoDB call failed").',
      metric: total(METRIC.stateErrors),
      ...ANY_OCCURRENCE,
      threshold: STATE_ERRORS_ALARM_THRESHOLD,
    });
    this.add('reconcile-failures', undefined, {
      description:
        'Asking a QR-menu server for its whole queue (hash=none) keeps failing (too large or too slow): new calls still arrive, but a restarted server could hide some. Check polling.maxResponseBytes and requestTimeoutMs.',
      metric: total(METRIC.reconcileFailures, Duration.minutes(15)),
      ...ANY_OCCURRENCE,
      threshold: 3,
    });
    this.add('poison-events', undefined, {
      description:
        'An event could not be recorded in any form (DynamoDB refused even its placeholder), so it was not delivered: see the poller logs.',
      metric: total(METRIC.poisonEvents),
      ...ANY_OCCURRENCE,
    });
    this.add('unwritten-outcomes', undefined, {
      description:
        'A run ended before it could record that an alert went out: the next run may send it again (counted, logged "may be sent twice"). Usually DynamoDB trouble.',
      metric: total(METRIC.unmarkedDeliveries),
      ...ANY_OCCURRENCE,
    });
    this.add('telegram-failures', undefined, {
      description:
        'Telegram messages keep failing (bad bot token, the bot removed from a chat, or Telegram unreachable): see the poller logs for the chat.',
      metric: total(METRIC.telegramFailures),
      ...ANY_OCCURRENCE,
      threshold: TELEGRAM_FAILURES_ALARM_THRESHOLD,
    });
    this.add('unanswered-calls', undefined, {
      description:
        'A guest call went through its last escalation step and nobody pressed "On my way": a guest may still be waiting.',
      metric: total(METRIC.unansweredCalls),
      ...ANY_OCCURRENCE,
    });

    this.add('lambda-errors', undefined, {
      description: 'The poller Lambda failed (crash, timeout or out of memory): see its logs.',
      metric: props.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ...ANY_OCCURRENCE,
    });
    this.add('lambda-throttles', undefined, {
      description:
        'Runs of the poller were throttled: runs overlap more than the reserved concurrency allows, or the account is out of concurrency.',
      metric: props.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ...ANY_OCCURRENCE,
    });
    this.add('schedule-dlq', undefined, {
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
      this.add('sms-spend', undefined, {
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
    sourceId: string | undefined,
    options: Pick<cloudwatch.AlarmProps, 'metric' | 'comparisonOperator' | 'threshold' | 'treatMissingData'> & {
      description: string;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, sourceId === undefined ? what : `${sourceId}-${what}`, {
      alarmName: alarmName(this.props.deploymentName, what, sourceId),
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
